import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * docs/guests.md's walkthroughs, run as a user would: every code block marked `<!-- file: path -->`
 * is written, every block marked `<!-- run -->` is run in order in one shell (so `cd` carries
 * over), and each `# → result` line under a command must be what that command printed.
 */
const repo = fileURLToPath(new URL('..', import.meta.url));
const guide = readFileSync(join(repo, 'docs/guests.md'), 'utf8');
const CI = process.env.CI === 'true';
const roots: string[] = [];
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

type Step =
  | { kind: 'file'; path: string; text: string }
  | { kind: 'run'; commands: { line: string; expect: string[] }[] };

/** The annotated blocks of the guide's `## <title>` section, in order. */
function stepsOf(title: string): Step[] {
  const start = guide.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`docs/guests.md has no section "## ${title}"`);
  const end = guide.indexOf('\n## ', start + 1);
  const section = guide.slice(start, end < 0 ? undefined : end);
  const steps: Step[] = [];
  const block = /^<!-- (run|file: (\S+)) -->\n\n```\w*\n([\s\S]*?)^```$/gm;
  for (const [, mark, path, text] of section.matchAll(block)) {
    if (mark === 'run') steps.push({ kind: 'run', commands: commandsOf(text!) });
    else steps.push({ kind: 'file', path: path!, text: text! });
  }
  return steps;
}

/** Shell commands (continuation lines joined), each with the `# → …` lines that follow it. */
function commandsOf(text: string): { line: string; expect: string[] }[] {
  const commands: { line: string; expect: string[] }[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (raw.startsWith('# → ')) {
      commands.at(-1)!.expect.push(raw.slice('# → '.length));
      continue;
    }
    if (raw.trim() === '') continue;
    pending += raw.endsWith('\\') ? raw.slice(0, -1) : raw;
    if (raw.endsWith('\\')) continue;
    commands.push({ line: pending, expect: [] });
    pending = '';
  }
  return commands;
}

/** What a user types, pointed at this checkout: the CLI it built, the kits it holds. */
function localise(line: string): string {
  return line
    .replaceAll('/path/to/wasmtube', repo)
    .replaceAll('npx wasmtube', `node ${join(repo, 'dist/cli/main.js')}`)
    .replace(/^npm install (.*)$/, 'npm install $1 --prefer-offline --no-audit --no-fund');
}

/** Runs a section's steps in a new folder; returns each command with its output and exit code. */
function walk(title: string) {
  const root = mkdtempSync(join(tmpdir(), 'wasmtube-guide-'));
  roots.push(root);
  const commands: { line: string; expect: string[] }[] = [];
  let script = 'exec 2>&1\n';
  for (const step of stepsOf(title)) {
    if (step.kind === 'file') {
      const path = join(root, step.path);
      script +=
        `mkdir -p "$(dirname '${path}')"\n` +
        `cat > '${path}' <<'WASMTUBE_GUIDE_EOF'\n${step.text}WASMTUBE_GUIDE_EOF\n`;
      continue;
    }
    for (const command of step.commands) {
      script += `echo "@@start ${commands.length}"\n${localise(command.line)}\necho "@@exit ${commands.length} $?"\n`;
      commands.push(command);
    }
  }
  const run = spawnSync('bash', ['-c', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  const output = run.stdout;
  return commands.map((command, i) => {
    const from = output.indexOf(`@@start ${i}\n`);
    const to = output.indexOf(`@@exit ${i} `, from);
    expect(from >= 0 && to >= 0, `"${command.line}" did not run:\n${output.slice(-2000)}`).toBe(
      true,
    );
    const printed = output.slice(from + `@@start ${i}\n`.length, to);
    const code = Number(output.slice(to).split('\n')[0]!.split(' ')[2]);
    return { ...command, printed, code };
  });
}

/** Every command succeeded (or failed as its `# →` says) and printed what the guide shows. */
function check(results: ReturnType<typeof walk>): void {
  for (const { line, expect: wanted, printed, code } of results) {
    const fails = wanted.some((text) => text.startsWith('wasmtube: ERR_'));
    expect(code === 0, `"${line}" exited ${code}:\n${printed}`).toBe(!fails);
    // Spacing aside (od aligns its columns).
    const squeeze = (text: string) => text.replace(/\s+/g, ' ').trim();
    const lines = printed.split('\n').map(squeeze);
    for (const text of wanted) {
      expect(lines, `"${line}" printed:\n${printed}`).toContain(squeeze(text));
    }
  }
}

describe('docs/guests.md, followed step by step', () => {
  it('Rust: the crate with the guest kit builds, and every call answers as shown', (ctx) => {
    if (!existsSync('/usr/bin/cargo')) {
      if (CI) throw new Error('Debian cargo is missing: .ci/run installs it');
      console.log('skipped: apt-get install rustc cargo libstd-rust-dev-wasm32 lld-14 to run it');
      return ctx.skip();
    }
    const results = walk('Rust');
    expect(results.length).toBeGreaterThan(5);
    check(results);
  }, 300_000);

  it('AssemblyScript: the module with the guest kit builds, and every call answers as shown', () => {
    const results = walk('AssemblyScript');
    expect(results.length).toBeGreaterThan(4);
    check(results);
  }, 300_000);
});
