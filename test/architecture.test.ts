import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? sources(path) : /\.c?ts$/.test(entry) ? [path] : [];
  });
}

describe('the source tree', () => {
  it('has no import cycle in src/, type-only imports included', () => {
    const output = execFileSync(process.execPath, ['scripts/check-cycles.mjs', 'src'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(output).toMatch(/^0 import cycle\(s\)/);
  });

  it('has no file in src/ over 500 lines', () => {
    const long = sources(join(root, 'src'))
      .map((file) => ({
        file: file.slice(root.length),
        lines: readFileSync(file, 'utf8').split('\n').length - 1,
      }))
      .filter(({ lines }) => lines > 500);
    expect(long).toEqual([]);
  });
});
