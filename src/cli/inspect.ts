import { Command } from 'commander';
import type { ModuleDescription } from '../server/module-description.js';
import { describeGuest } from '../server/guest-description.js';
import { readWasmModule } from './read-module.js';

/** `wasmtube inspect <file.wasm>`: exports, imports, calling conventions, memory limits. */
export function inspectCommand(): Command {
  return new Command('inspect')
    .description(
      "Show what a .wasm module exports (with each function's calling convention), imports and " +
        'its memory limits.',
    )
    .argument('<file>', 'the .wasm module')
    .option('--json', 'print the description as JSON')
    .action(async (file: string, flags: { json?: boolean }) => {
      const description = await inspect(file);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify({ file, ...description }, null, 2)}\n`
          : format(file, description),
      );
    });
}

/** Reads, validates and describes a module. */
async function inspect(file: string): Promise<ModuleDescription> {
  return describeGuest(await readWasmModule(file));
}

function format(file: string, d: ModuleDescription): string {
  const lines = [`${file}`, `  size     ${d.sizeBytes} bytes`, `  sha256   ${d.sha256}`];
  const m = d.memory;
  lines.push(
    d.component
      ? '  kind     WebAssembly component (its memory is its own)'
      : m
        ? `  memory   ${m.initialPages} pages (${mb(m.initialMb)}) initial, ` +
          (m.maximumPages === undefined
            ? 'no maximum'
            : `${m.maximumPages} pages (${mb(m.maximumMb!)}) maximum`) +
          (m.imported ? ', imported' : '') +
          (m.shared ? ', shared' : '') +
          (m.memory64 ? ', 64-bit' : '')
        : '  memory   none',
    `  wasi     ${d.wasi ? `yes (preview ${d.component ? 2 : 1})` : 'no'}`,
  );
  if (!d.signaturesKnown)
    lines.push('  (signatures unavailable: the binary uses features not read)');
  const width = Math.max(8, ...[...d.functions, ...d.otherExports].map((e) => e.name.length));
  const typeWidth = Math.max(8, ...d.functions.map((f) => f.type.length));
  lines.push('', `exports (${d.functions.length} functions)`);
  for (const f of d.functions) {
    lines.push(`  ${f.name.padEnd(width)}  ${f.type.padEnd(typeWidth)}  ${f.convention}`);
  }
  for (const e of d.otherExports) lines.push(`  ${e.name.padEnd(width)}  ${e.kind}`);
  lines.push('', `imports (${d.imports.length})`);
  for (const i of d.imports) {
    lines.push(
      `  ${i.kind === 'interface' ? i.module : `${i.module}.${i.name}`}  ${i.type ?? i.kind}`,
    );
  }
  if (d.component)
    lines.push(
      '',
      'world',
      ...d.component.wit
        .trim()
        .split('\n')
        .map((l) => `  ${l}`),
    );
  return `${lines.join('\n')}\n`;
}

function mb(value: number): string {
  return `${Number(value.toFixed(2))} MiB`;
}
