import { chmod, cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { TargetNotEmptyError, TemplateUnsupportedError } from '../server/gateway-errors.js';

/** Languages `wasmtube new` knows, with the ABI each uses when `--abi` is not given. */
const DEFAULT_ABI: Record<string, string> = {
  rust: 'wasmtube',
  assemblyscript: 'alloc',
  wat: 'wasmtube',
};

interface Template {
  /** The guest kit the project builds with: copied from the package into the project. */
  kit?: { from: string; to: string };
  /** A first call to try, after `wasmtube call <name>.wasm`. */
  example: string;
}

/** The Rust crate goes inside the project's folder: cargo hashes a path outside it into the build. */
const RUST_KIT = { from: 'guest-kit/rust', to: 'wasmtube-guest' };

/** The templates in `templates/<lang>-<abi>/`. */
const TEMPLATES: Record<string, Template> = {
  'rust-wasmtube': { kit: RUST_KIT, example: `hello --data '{"name":"Ada"}'` },
  'rust-alloc': { kit: RUST_KIT, example: `divide --data '{"a":1,"b":4}'` },
  'assemblyscript-alloc': {
    kit: { from: 'guest-kit/assemblyscript/wasmtube-guest.ts', to: 'assembly/wasmtube-guest.ts' },
    example: `greet --data '"Ada"'`,
  },
  'wat-wasmtube': { example: `wrap --data '{"a":1}'` },
  'wat-alloc': { example: `wrap --data '{"a":1}'` },
  'wat-wapc': { example: `wrap --data '{"a":1}'` },
  'rust-component': { example: `greet --data '{"name":"Ada"}'` },
};

/** A module name the gateway serves that is also a valid package and crate name. */
const PROJECT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Files of the guest-kit crate that are not copied: build output and lock files. */
const SKIPPED = new Set(['target', 'Cargo.lock', '.git']);

interface NewFlags {
  lang: string;
  abi?: string;
  name?: string;
}

/** `wasmtube new <dir> --lang <lang>`: a guest project that builds and runs as generated. */
export function newCommand(): Command {
  return new Command('new')
    .description(
      'Create a guest project in <dir>: source with example functions, a build script, a README ' +
        'and a sidecar for `wasmtube serve`.',
    )
    .argument('<dir>', 'the folder to create (it may exist if it is empty)')
    .requiredOption('-l, --lang <lang>', 'rust, assemblyscript or wat')
    .option(
      '--abi <abi>',
      'calling convention: wasmtube, alloc, wapc, or component (a WIT component, rust) ' +
        '(default: wasmtube for rust and wat, alloc for assemblyscript)',
    )
    .option('--name <module>', 'module name: <name>.wasm, <name>.json (default: the folder name)')
    .addHelpText(
      'after',
      `
Templates: ${Object.keys(TEMPLATES).join(', ')}.

Example:
  $ wasmtube new hello --lang rust
  $ cd hello && ./build.sh && wasmtube call hello.wasm hello --data '{"name":"Ada"}'`,
    )
    .action(async (dir: string, flags: NewFlags) => {
      await runNew(dir, flags);
    });
}

async function runNew(dir: string, flags: NewFlags): Promise<void> {
  const combination = `${flags.lang}-${flags.abi ?? DEFAULT_ABI[flags.lang] ?? ''}`;
  const template = TEMPLATES[combination];
  if (template === undefined) {
    throw new TemplateUnsupportedError(
      `No template for --lang ${flags.lang}${flags.abi ? ` --abi ${flags.abi}` : ''}. ` +
        `Supported (lang-abi): ${Object.keys(TEMPLATES).join(', ')}.`,
      { details: { lang: flags.lang, abi: flags.abi, supported: Object.keys(TEMPLATES) } },
    );
  }
  const target = resolve(dir);
  const name = flags.name ?? basename(target);
  if (!PROJECT_NAME.test(name)) {
    throw new InvalidArgumentError(
      `"${name}" cannot name a module: use a letter, then up to 63 letters, digits, "_" or "-" ` +
        `(pass --name <module> to choose one other than the folder's name).`,
      { details: { name } },
    );
  }
  await ensureEmptyFolder(target);

  const written: string[] = [];
  await copyTemplate(join(PACKAGE_ROOT, 'templates', combination), target, name, written);
  if (template.kit) {
    await cp(join(PACKAGE_ROOT, template.kit.from), join(target, template.kit.to), {
      recursive: true,
      filter: (source) => !SKIPPED.has(basename(source)),
    });
    written.push(template.kit.to);
  }

  const shown = relative(process.cwd(), target) || '.';
  process.stdout.write(
    `Created ${shown} (${combination}): ${written.sort().join(', ')}\n\n` +
      `Build it and call it (README.md says what the build needs):\n` +
      `  cd ${shown}\n  ./build.sh\n  wasmtube call ${name}.wasm ${template.example}\n` +
      `  wasmtube serve . --port 3000\n`,
  );
}

/** Creates `target`, or accepts it if it is an empty folder; anything else is refused. */
async function ensureEmptyFolder(target: string): Promise<void> {
  const found = await stat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (found === undefined) {
    await mkdir(target, { recursive: true });
    return;
  }
  if (!found.isDirectory()) {
    throw new TargetNotEmptyError(`${target} is a file: pass a new or empty folder.`, {
      details: { path: target },
    });
  }
  const entries = await readdir(target);
  if (entries.length > 0) {
    throw new TargetNotEmptyError(
      `${target} is not empty (${entries.length} entries): pass a new or empty folder; nothing ` +
        `was written.`,
      { details: { path: target, entries: entries.length } },
    );
  }
}

/**
 * Copies a template folder: `{{name}}` becomes `name` in file names and contents, and
 * `gitignore` becomes `.gitignore` (npm leaves `.gitignore` files out of packages).
 */
async function copyTemplate(
  from: string,
  to: string,
  name: string,
  written: string[],
  prefix = '',
): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const renamed = entry.name === 'gitignore' ? '.gitignore' : fill(entry.name, name);
    const source = join(from, entry.name);
    const destination = join(to, renamed);
    if (entry.isDirectory()) {
      await mkdir(destination, { recursive: true });
      await copyTemplate(source, destination, name, written, `${prefix}${renamed}/`);
      if (prefix === '') written.push(`${renamed}/`);
      continue;
    }
    await writeFile(destination, fill(await readFile(source, 'utf8'), name));
    await chmod(destination, (await stat(source)).mode & 0o777);
    if (prefix === '') written.push(renamed);
  }
}

function fill(text: string, name: string): string {
  return text.replaceAll('{{name}}', name);
}
