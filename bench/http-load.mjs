// The load generator of the `http` group, run as its own process (so it does not share a main
// thread with the server it measures): autocannon as a library, one run, its result as JSON on
// stdout.
//
//   node bench/http-load.mjs '{"url":"http://127.0.0.1:1234/x","connections":32,"duration":5,"body":"…"}'
import autocannon from 'autocannon';

const { url, connections, duration, body } = JSON.parse(process.argv[2]);
const result = await autocannon({
  url,
  connections,
  duration,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
});
process.stdout.write(
  JSON.stringify({
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
