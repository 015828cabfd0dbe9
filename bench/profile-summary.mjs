// Sums self time per function in .cpuprofile files (from node --cpu-prof), one table per file.
//   node bench/profile-summary.mjs /tmp/prof [top=25]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const [dir, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const files = statSync(dir).isDirectory()
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f))
  : [dir];

for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = url
      ? `${url.replace(/^.*\/(node_modules|dist|bench)\//, '$1/')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const idle = self.get('(idle)') ?? 0;
  console.log(
    `\n${basename(file)}: ${(total / 1000).toFixed(0)} ms sampled, ` +
      `${(((total - idle) / total) * 100).toFixed(0)}% busy`,
  );
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [key, us] of rows) {
    const busyShare =
      key === '(idle)' ? '' : `${((us / (total - idle)) * 100).toFixed(1)}% of busy`;
    console.log(`${(us / 1000).toFixed(1).padStart(9)} ms  ${busyShare.padStart(14)}  ${key}`);
  }
}
