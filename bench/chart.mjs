// Draws the results as an SVG (by hand: bars, labels, reference lines); report.mjs converts it to
// PNG with sharp.
import { formatTarget } from './targets.mjs';
import { formatValue } from './lib.mjs';

const WIDTH = 1100;
const LABEL_W = 430;
const BAR_X = LABEL_W + 20;
const BAR_W = 470;
const BAR_H = 18;
const GAP = 6;
const FONT = 'DejaVu Sans, Arial, sans-serif';
const COLORS = {
  ours: '#d9480f',
  floor: '#868e96',
  peer: '#1c7ed6',
  met: '#2b8a3e',
  missed: '#c92a2a',
  none: '#adb5bd',
};

/** A white outline under value labels, so a reference line crossing them does not hide them. */
const HALO = 'stroke="#ffffff" stroke-width="3" paint-order="stroke"';

const escape = (text) =>
  String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Bars of `rows` picked by id, in order; `kind` per id colours them. */
function barPanel(y, title, subtitle, bars, { unit, lines = [] } = {}) {
  const present = bars.filter((b) => b.value !== undefined && !Number.isNaN(b.value));
  let svg = `<text x="20" y="${y + 20}" font-size="17" font-weight="bold">${escape(title)}</text>`;
  if (subtitle) {
    svg += `<text x="20" y="${y + 38}" font-size="12" fill="#495057">${escape(subtitle)}</text>`;
  }
  y += subtitle ? 50 : 32;
  if (present.length === 0) {
    return {
      svg: svg + `<text x="20" y="${y + 14}" font-size="13">not measured</text>`,
      y: y + 30,
    };
  }
  const max = Math.max(...present.map((b) => b.value), ...lines.map((l) => l.value)) * 1.05;
  const scale = (v) => (v / max) * BAR_W;
  const top = y;
  let barsSvg = '';
  for (const bar of present) {
    const w = Math.max(1, scale(bar.value));
    barsSvg +=
      `<text x="${LABEL_W}" y="${y + 14}" font-size="13" text-anchor="end">${escape(bar.label)}</text>` +
      `<rect x="${BAR_X}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${COLORS[bar.kind]}" rx="2"/>` +
      `<text x="${BAR_X + w + 6}" y="${y + 14}" font-size="12" ${HALO}>${escape(bar.text ?? formatValue(bar.value, unit))}</text>`;
    y += BAR_H + GAP;
  }
  for (const line of lines) {
    const x = BAR_X + scale(line.value);
    svg +=
      `<line x1="${x}" y1="${top - 2}" x2="${x}" y2="${y + 2}" stroke="#212529" stroke-dasharray="4 3"/>` +
      `<text x="${x + 3}" y="${y + 12}" font-size="11" fill="#212529">${escape(line.label)}</text>`;
  }
  return { svg: svg + barsSvg, y: y + (lines.length > 0 ? 22 : 14) };
}

/** Stacked bars: each bar is parts [{ value, color, name }] laid end to end. */
function stackedPanel(y, title, subtitle, bars, unit) {
  let svg = `<text x="20" y="${y + 20}" font-size="17" font-weight="bold">${escape(title)}</text>`;
  if (subtitle) {
    svg += `<text x="20" y="${y + 38}" font-size="12" fill="#495057">${escape(subtitle)}</text>`;
  }
  y += subtitle ? 50 : 32;
  const present = bars.filter((b) => b.parts.every((p) => p.value !== undefined));
  if (present.length === 0) {
    return {
      svg: svg + `<text x="20" y="${y + 14}" font-size="13">not measured</text>`,
      y: y + 30,
    };
  }
  const total = (bar) => bar.parts.reduce((sum, p) => sum + p.value, 0);
  const max = Math.max(...present.map(total)) * 1.05;
  for (const bar of present) {
    svg += `<text x="${LABEL_W}" y="${y + 14}" font-size="13" text-anchor="end">${escape(bar.label)}</text>`;
    let x = BAR_X;
    for (const part of bar.parts) {
      const w = (part.value / max) * BAR_W;
      svg +=
        `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(0.5, w).toFixed(1)}" height="${BAR_H}" fill="${part.color}"/>` +
        (w > 34
          ? `<text x="${(x + w / 2).toFixed(1)}" y="${y + 13}" font-size="10" fill="#fff" text-anchor="middle">${part.value.toFixed(0)}</text>`
          : '');
      x += w;
    }
    svg += `<text x="${x + 6}" y="${y + 14}" font-size="12" ${HALO}>${escape(formatValue(total(bar), unit))}</text>`;
    y += BAR_H + GAP;
  }
  const legend = present[0].parts.filter((p) => p.name);
  legend.forEach((part, i) => {
    svg +=
      `<rect x="${BAR_X + i * 170}" y="${y + 2}" width="12" height="12" fill="${part.color}"/>` +
      `<text x="${BAR_X + 16 + i * 170}" y="${y + 12}" font-size="11">${escape(part.name)}</text>`;
  });
  return { svg, y: y + (legend.length ? 32 : 14) };
}

export function renderChart({ meta, rows, targets }) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const pick = (id, label, kind) => {
    const r = byId.get(id);
    return { label, kind, value: r ? (r.p50 ?? r.value) : undefined };
  };
  const panels = [];
  let y = 80;
  const add = (...args) => {
    const panel = barPanel(y, ...args);
    panels.push(panel.svg);
    y = panel.y + 16;
  };

  add(
    'One call in flight: 64 B JSON echo, p50 latency (µs, lower is better)',
    'Same Rust guest everywhere except Extism (do-nothing echo plugin) and "raw_echo" (do-nothing Wasmtube-ABI guest)',
    [
      pick('floor.raw.64', 'raw floor: write + call + read, same thread', 'floor'),
      pick('floor.bridge.64', 'Wasmtube bridge, same thread', 'ours'),
      pick('threads.atomics-sync.64', 'SAB + Atomics, blocking wait', 'floor'),
      pick('threads.atomics-async.64', 'SAB + Atomics, waitAsync', 'floor'),
      pick('threads.postmessage.64', 'bare postMessage round trip', 'floor'),
      pick('piscina.1thread.latency.64', 'piscina, 1 thread', 'peer'),
      pick('piscina.default.latency.64', 'piscina, defaults', 'peer'),
      pick('worker.latency.64', 'wasmtube Worker', 'ours'),
      pick('extism.wasmtube-worker-raw.64', 'wasmtube Worker, raw_echo guest', 'ours'),
      pick('extism.foreground.64', 'Extism foreground', 'peer'),
      pick('extism.worker.64', 'Extism runInWorker', 'peer'),
    ],
    { unit: 'µs' },
  );
  {
    const v = (id) => {
      const r = byId.get(id);
      return r ? (r.p50 ?? r.value) : undefined;
    };
    const split = (suffix) => [
      { name: 'request hop', color: '#f08c00', value: v(`worker.hops${suffix}.request.64`) },
      { name: 'run in thread', color: '#2f9e44', value: v(`worker.hops${suffix}.run.64`) },
      { name: 'reply hop', color: '#ae3ec9', value: v(`worker.hops${suffix}.reply.64`) },
    ];
    const whole = (id, color) => [{ value: v(id), color }];
    const panel = stackedPanel(
      y,
      'Where a Worker call goes (64 B echo, p50 of each part, µs)',
      "From the thread's own timestamps; bars without parts are whole round trips for comparison",
      [
        { label: 'Worker, back to back', parts: split('') },
        {
          label: 'bare postMessage, back to back',
          parts: whole('threads.postmessage.64', COLORS.floor),
        },
        { label: 'Worker, 1 call per ~1 ms idle', parts: split('.sparse') },
        {
          label: 'bare postMessage, 1 call per ~1 ms idle',
          parts: whole('threads.postmessage.sparse.64', COLORS.floor),
        },
        {
          label: 'SAB + Atomics, both sides spinning',
          parts: whole('threads.atomics-spin.64', COLORS.floor),
        },
        { label: 'Wasmtube bridge in-process', parts: whole('floor.bridge.64', COLORS.ours) },
      ],
      'µs',
    );
    panels.push(panel.svg);
    y = panel.y + 16;
  }
  add(
    'Throughput: 64 B JSON echo, 64 calls in flight (calls/s, higher is better)',
    '',
    [
      pick('threads.postmessage-pipelined.64', 'bare postMessage, 1 thread, pipelined', 'floor'),
      pick('piscina.default.throughput.64', 'piscina, defaults', 'peer'),
      pick('piscina.ctpw32.throughput.64', 'piscina, concurrentTasksPerWorker 32', 'peer'),
      pick('piscina.1thread.throughput.64', 'piscina, 1 thread', 'peer'),
      pick('worker.throughput.1t.64', 'wasmtube Worker, 1 thread', 'ours'),
      pick('worker.throughput.2t.64', 'wasmtube Worker, 2 threads', 'ours'),
    ],
    { unit: 'calls/s' },
  );
  add(
    'Throughput with ~250 µs of guest work per call (work, 150000 rounds; calls/s)',
    '',
    [
      pick('worker.work.1t', 'wasmtube Worker, 1 thread', 'ours'),
      pick('worker.work.2t', 'wasmtube Worker, 2 threads', 'ours'),
    ],
    { unit: 'calls/s' },
  );
  add(
    '1920×1080 RGB image round trip, p50 (ms, lower is better)',
    '',
    [
      pick('images.memcpy', 'one memcpy of the image', 'floor'),
      pick('images.bare-transfer', 'bare thread: copy + transfer there and back', 'floor'),
      pick('images.bare-clone', 'bare thread: structured clone both ways', 'floor'),
      pick('images.raw-invert', 'in-process by hand: write + invert + read', 'floor'),
      pick('images.bare-invert', 'bare thread: same invert by hand', 'floor'),
      pick('images.bridge-size', 'bridge in-process: image_size', 'ours'),
      pick('images.worker-size', 'Worker: image_size', 'ours'),
      pick('images.bridge-invert', 'bridge in-process: invert → rgb', 'ours'),
      pick('images.worker-invert', 'Worker: invert → rgb', 'ours'),
      pick('images.worker-invert-into', 'Worker: invert into a reused resultBuffer', 'ours'),
      pick('images.worker-invert-shared', 'Worker: invert, shared image and resultBuffer', 'ours'),
    ],
    { unit: 'ms' },
  );
  const reload = byId.get('reload.latency');
  const timeout = byId.get('reload.timeout');
  add(
    'Hot reload and thread replacement (ms, lower is better)',
    'dashed lines: the targets',
    [
      { label: 'rename → new version serving, p50', kind: 'ours', value: reload?.p50 },
      { label: 'rename → new version serving, p99', kind: 'ours', value: reload?.p99 },
      { label: 'timeout → replacement serving, p50', kind: 'ours', value: timeout?.p50 },
      { label: 'timeout → replacement serving, p99', kind: 'ours', value: timeout?.p99 },
    ],
    {
      unit: 'ms',
      lines: [
        { value: 150, label: 'reload 150' },
        { value: 50, label: 'timeout 50' },
      ],
    },
  );
  add(
    'Targets: measured ÷ target (≤ 1 is met; ≥ targets are inverted)',
    '',
    targets
      .filter((t) => t.limit !== 0)
      .map((t) => {
        const m = t.measured;
        const distance =
          m === undefined ? undefined : t.op === '≤' ? m / t.limit : t.limit / Math.max(m, 1e-9);
        return {
          label: shortTarget(t.id),
          kind: t.status === 'met' ? 'met' : t.status === 'missed' ? 'missed' : 'none',
          value: distance,
          text: `${formatTarget(t)} (target ${t.op} ${formatTarget(t, t.limit)})`,
        };
      }),
    { unit: 'x', lines: [{ value: 1, label: 'target' }] },
  );

  const height = y + 10;
  const legend = [
    ['wasmtube', COLORS.ours],
    ['floor (hand-rolled)', COLORS.floor],
    ['peer library', COLORS.peer],
  ]
    .map(
      ([label, color], i) =>
        `<rect x="${20 + i * 190}" y="54" width="14" height="14" fill="${color}"/>` +
        `<text x="${40 + i * 190}" y="66" font-size="13">${escape(label)}</text>`,
    )
    .join('');
  const { versions, machine } = meta;
  const subtitle =
    `node ${versions.node} · wasmtube ${versions.wasmtube} · piscina ${versions.piscina} · ` +
    `@extism/extism ${versions['@extism/extism']} · ${machine.cpu} × ${machine.cores} · ` +
    `${meta.date.slice(0, 16).replace('T', ' ')} UTC`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `font-family="${FONT}" fill="#212529">` +
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>` +
    `<text x="20" y="28" font-size="22" font-weight="bold">wasmtube benchmark</text>` +
    `<text x="20" y="46" font-size="12" fill="#495057">${escape(subtitle)}</text>` +
    legend +
    panels.join('') +
    `</svg>`
  );
}

const SHORT = {
  'latency-vs-atomics': 'latency ÷ Atomics round trip (≤ 1.2×)',
  'latency-vs-extism': 'latency ÷ Extism runInWorker (≤ 0.5×)',
  'throughput-vs-postmessage': 'throughput ÷ pipelined postMessage (≥ 0.5×)',
  'throughput-vs-piscina': 'throughput ÷ piscina defaults (≥ 5×)',
  'scaling-tiny': '2 threads ÷ 1, tiny calls (≥ 1×)',
  'scaling-work': '2 threads ÷ 1, 250 µs calls (≥ 1.8×)',
  'image-vs-transfer': '1080p round trip ÷ transfer floor (≤ 2.5×)',
  'reload-latency': 'reload → serving, p50 (≤ 150 ms)',
  'timeout-replacement': 'timeout → replacement, p50 (≤ 50 ms)',
};
const shortTarget = (id) => SHORT[id] ?? id;
