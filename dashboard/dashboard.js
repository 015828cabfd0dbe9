// The wasmtube dashboard: reads GET /events (Server-Sent Events, one JSON object with a `type`
// per event) with fetch, so the token can go in the Authorization header, and renders the
// modules, the timeline and the recent errors. No framework, no build step.

const TOKEN_KEY = 'wasmtube-token';
const SPARK_POINTS = 300; // five minutes at one point a second
const $ = (id) => document.getElementById(id);

const state = {
  /** name → status from the snapshot (functions, settings, error) merged with live figures. */
  modules: new Map(),
  /** name → [{ t, callsPerSec, p50Ms, p99Ms }] */
  history: {},
  timeline: [],
  errors: [],
};
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let renderQueued = false;

const escape = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const time = (iso) => new Date(iso).toLocaleTimeString();
const ms = (value) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

function setConnection(text, kind) {
  const el = $('connection');
  el.textContent = text;
  el.className = `connection ${kind ?? ''}`;
}

/** Reads the event stream until it ends, then reconnects (after asking for a token on 401). */
async function connect() {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  let response;
  try {
    response = await fetch('/events', { headers, cache: 'no-store' });
  } catch {
    setConnection('gateway unreachable: retrying', 'down');
    return setTimeout(connect, 2000);
  }
  if (response.status === 401) {
    setConnection('needs a token', 'down');
    $('token-form').hidden = false;
    $('token-error').textContent = token ? 'That token is not valid.' : '';
    $('token').focus();
    return;
  }
  if (!response.ok) {
    setConnection(`error ${response.status}: retrying`, 'down');
    return setTimeout(connect, 2000);
  }
  $('token-form').hidden = true;
  setConnection('live', 'live');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (data) handle(JSON.parse(data));
      }
    }
  } catch {
    // The connection dropped: reconnect below.
  }
  setConnection('disconnected: retrying', 'down');
  setTimeout(connect, 2000);
}

function handle(event) {
  switch (event.type) {
    case 'snapshot':
      state.modules = new Map(event.modules.map((m) => [m.name, { ...m, ...m.live }]));
      state.history = event.history;
      state.timeline = event.timeline.slice().reverse();
      state.errors = event.errors.slice().reverse();
      break;
    case 'stats': {
      const next = new Map();
      for (const live of event.modules) {
        next.set(live.name, { ...state.modules.get(live.name), ...live });
        const points = (state.history[live.name] ??= []);
        // A stats event sent for an activity repeats the last tick's figures: one point a tick.
        if (points.at(-1)?.t !== Date.parse(event.at)) {
          points.push({
            t: Date.parse(event.at),
            callsPerSec: live.callsPerSec,
            p50Ms: live.p50Ms,
            p99Ms: live.p99Ms,
          });
          if (points.length > 600) points.splice(0, points.length - 600);
        }
      }
      state.modules = next;
      $('clock').textContent = `updated ${time(event.at)}`;
      break;
    }
    case 'call-error':
      state.errors.unshift(event);
      state.errors.length = Math.min(state.errors.length, 50);
      break;
    case 'log':
      return;
    default:
      // Module activity: deploy, reload, reload-rejected, rollback, undeploy, deploy-failed, ...
      if (event.type !== 'restart') {
        state.timeline.unshift(event);
        state.timeline.length = Math.min(state.timeline.length, 200);
      }
      if (event.error && state.modules.has(event.module)) {
        state.modules.get(event.module).error = event.error;
      }
      if (event.type === 'deploy' || event.type === 'reload') {
        const module = state.modules.get(event.module);
        if (module) module.error = undefined;
      }
  }
  queueRender();
}

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function render() {
  const modules = [...state.modules.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  $('no-modules').hidden = modules.length > 0;
  $('modules').innerHTML = modules.map(moduleCard).join('');
  $('timeline').innerHTML =
    state.timeline.map(timelineItem).join('') || '<li class="muted">Nothing yet.</li>';
  $('errors').innerHTML =
    state.errors.map(errorItem).join('') || '<li class="muted">No failed call.</li>';
}

function moduleCard(m) {
  const threads = m.threads ? `${m.threads.alive}/${m.threads.ready}/${m.threads.spare ?? 0}` : '–';
  const failures = Object.entries(m.failuresByCode ?? {})
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `<span class="code">${escape(code)}</span> ${n}`)
    .join(', ');
  const points = (state.history[m.name] ?? []).slice(-SPARK_POINTS);
  return `<article class="module" data-module="${escape(m.name)}">
    <h3><span class="name">${escape(m.name)}</span>
      <span class="version" data-field="version">v${escape(m.version)}</span>
      <span class="state ${escape(m.state)}" data-field="state">${escape(m.state)}</span></h3>
    <div class="hash" title="${escape(m.hash)}">sha256 ${escape((m.hash ?? '–').slice(0, 12))}</div>
    <dl class="figures">
      <div><dt>threads a/r/s</dt><dd data-field="threads" title="alive/ready/spare of ${escape(m.threads?.target)}">${threads}</dd></div>
      <div><dt>queue</dt><dd data-field="queued">${escape(m.queued ?? 0)}</dd></div>
      <div><dt>calls/s</dt><dd data-field="calls-per-sec">${escape(m.callsPerSec ?? 0)}</dd></div>
      <div><dt>restarts</dt><dd data-field="restarts">${escape(m.restarts ?? 0)}</dd></div>
      <div><dt>p50 ms</dt><dd data-field="p50">${ms(m.p50Ms ?? 0)}</dd></div>
      <div><dt>p99 ms</dt><dd data-field="p99">${ms(m.p99Ms ?? 0)}</dd></div>
      <div><dt>calls</dt><dd data-field="calls">${escape(m.calls ?? 0)}</dd></div>
      <div><dt>failed</dt><dd data-field="failures">${escape(m.failures ?? 0)}</dd></div>
    </dl>
    ${sparkline(points)}
    <div class="legend"><span class="calls">calls/s</span><span class="p50">p50</span><span class="p99">p99</span><span>last ${Math.round(points.length / 60) || '<1'} min</span></div>
    <div class="failures" data-field="failures-by-code">${failures ? `failures: ${failures}` : '<span class="muted">no failures</span>'}</div>
    ${m.error ? `<div class="last-error">${escape(m.error.code)}: ${escape(m.error.message)}</div>` : ''}
  </article>`;
}

/** Calls/s (scaled to its own maximum) and p50/p99 latency (scaled to the p99 maximum). */
function sparkline(points) {
  const width = 300;
  const height = 48;
  if (points.length < 2)
    return `<svg class="spark" viewBox="0 0 ${width} ${height}" role="img" aria-label="no data yet"></svg>`;
  const x = (i) => ((i / (SPARK_POINTS - 1)) * width).toFixed(1);
  const offset = SPARK_POINTS - points.length;
  const line = (values, max, color) => {
    const top = max > 0 ? max : 1;
    const coords = values.map(
      (v, i) => `${x(i + offset)},${(height - 2 - (v / top) * (height - 4)).toFixed(1)}`,
    );
    return `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${coords.join(' ')}"/>`;
  };
  const latencyMax = Math.max(...points.map((p) => p.p99Ms));
  const callsMax = Math.max(...points.map((p) => p.callsPerSec));
  return `<svg class="spark" viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="calls per second and latency">
    ${line(
      points.map((p) => p.callsPerSec),
      callsMax,
      'var(--calls)',
    )}
    ${line(
      points.map((p) => p.p50Ms),
      latencyMax,
      'var(--p50)',
    )}
    ${line(
      points.map((p) => p.p99Ms),
      latencyMax,
      'var(--p99)',
    )}
  </svg>`;
}

function timelineItem(e) {
  const what =
    {
      deploy: `deployed v${e.version}${e.reason && e.reason !== 'new' ? ` (${e.reason})` : ''}`,
      reload: `reloaded to v${e.version} in ${Math.round(e.durationMs ?? 0)} ms`,
      'reload-rejected': `rejected a new build; v${e.version} keeps serving`,
      'deploy-failed': 'deploy failed',
      rollback: `rolled back v${e.from} to the previous content as v${e.version}`,
      undeploy: `undeployed (was v${e.version})`,
      'module-failed': 'supervisor gave up: not serving',
    }[e.type] ?? e.type;
  const error = e.error ? ` <span class="code">${escape(e.error.code)}</span>` : '';
  return `<li><time>${time(e.at)}</time><span class="kind ${escape(e.type)}">${escape(e.module)}</span>${escape(what)}${error}</li>`;
}

function errorItem(e) {
  return `<li><time>${time(e.at)}</time><span class="code">${escape(e.code)}</span>${escape(e.module)}.${escape(e.fn)}: ${escape(e.message)}</li>`;
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  token = $('token').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  setConnection('connecting…');
  connect();
});

render();
connect();
