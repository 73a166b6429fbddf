// End to end: hand-written DogStatsD lines over UDP (node:dgram) → outrigger (statsd
// receiver, 1 s aggregation, monotonic delta counters, timings as explicit-bucket
// histograms) → batch → prometheus exporter → a real Prometheus (2.42, `prometheus` or
// $PROMETHEUS_BIN) scraping it every second. The checks go through Prometheus's HTTP API:
// the counter's deltas accumulated into one exact `_total` (a line @0.5 counting double),
// rate() / resets(), the timing histogram's cumulative `_bucket{le}` counts, `_sum`,
// `_count` and histogram_quantile(), a gauge, the tags as labels; and the exporter's own
// /metrics for the TYPE lines.
//
// The lines go in two rounds: the second is sent only once Prometheus has scraped the
// first, so the counter has two different values in Prometheus (rate() > 0) and both the
// counter and the histogram are sums of deltas from different aggregation intervals.
// Every wait polls a condition until a deadline; processes are killed in after().
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  HOST,
  Outrigger,
  makeTempDir,
  metricValue,
  parsePrometheus,
  removeTempDir,
  sendUdp,
  waitFor,
} from './lib/harness.mjs';
import { PrometheusServer } from '../common/prometheus.mjs';

const JOB = 'outrigger';
const GET = '#env:e2e,http.method:GET';

// Round 1. Counter GET: 4 × 1 + 1 @0.5 (= 2) = 6, one line with its tags in the other
// order (same series). Counter POST: 1. Timing: 5, 10, 20, 30 (a multi-value line).
// Gauge: 40, +5, -3 → 42.
const ROUND1 = [
  `e2e.requests:1|c|${GET}`,
  `e2e.requests:1|c|${GET}`,
  `e2e.requests:1|c|#http.method:GET,env:e2e`,
  `e2e.requests:1|c|${GET}`,
  `e2e.requests:1|c|@0.5|${GET}`,
  'e2e.requests:1|c|#env:e2e,http.method:POST',
  'e2e.latency:5|ms|#route:/cart',
  'e2e.latency:10|ms|#route:/cart',
  'e2e.latency:20:30|ms|#route:/cart',
  'e2e.queue_depth:40|g|#queue:jobs',
  'e2e.queue_depth:+5|g|#queue:jobs',
  'e2e.queue_depth:-3|g|#queue:jobs',
];
const ROUND1_POINTS = 6 + 4 + 3;

// Round 2. Counter GET: 3 + 2 @0.5 (= 4) = 7, so 13 in all. Timing: 40, 50, 60 @0.5
// (weight 2), 200. Gauge: 7, +40 → 47.
const ROUND2 = [
  `e2e.requests:3|c|${GET}`,
  `e2e.requests:2|c|@0.5|${GET}`,
  'e2e.latency:40|ms|#route:/cart',
  'e2e.latency:50|ms|#route:/cart',
  'e2e.latency:60|ms|@0.5|#route:/cart',
  'e2e.latency:200|ms|#route:/cart',
  'e2e.queue_depth:7|g|#queue:jobs',
  'e2e.queue_depth:+40|g|#queue:jobs',
];
const ROUND2_POINTS = 2 + 4 + 2;

// Histogram with explicit_buckets [10, 50, 100], (lo, hi] buckets, after both rounds:
//   le=10: 5, 10                       → 2
//   le=50: + 20, 30, 40, 50            → 6
//   le=100: + 60 (weight 2)            → 8
//   +Inf: + 200                        → 9 = _count
//   _sum = 5 + 10 + 20 + 30 + 40 + 50 + 2 × 60 + 200 = 475
// histogram_quantile(0.5): rank 4.5 falls in (10, 50] (2 below, 4 inside):
//   10 + 40 × (4.5 − 2) / 4 = 35.
// histogram_quantile(0.75): rank 6.75 falls in (50, 100] (6 below, 2 inside):
//   50 + 50 × (6.75 − 6) / 2 = 68.75.
// (Unweighted, the 60 would count once: count 8, median 30, p75 = 50 + 50 × 0 / 1 = 50.)
const HIST_BUCKETS = { 10: 2, 50: 6, 100: 8, Infinity: 9 };
const HIST_COUNT = 9;
const HIST_SUM = 475;
const HIST_P50 = 35;
const HIST_P75 = 68.75;
const ROUND1_HIST = { count: 4, sum: 65 };

const COUNTER_GET = 6 + 7;
const COUNTER_POST = 1;
const GAUGE = 47;

const COUNTER = 'e2e_requests_total';
const HIST = 'e2e_latency_milliseconds'; // unit ms → _milliseconds
const GAUGE_NAME = 'e2e_queue_depth';

describe('statsd → prometheus exporter → a real Prometheus', () => {
  let dir;
  let outrigger;
  let prom;
  let target; // host:port of the exporter

  const dump = () =>
    `\n--- outrigger ---\n${outrigger?.output ?? ''}\n--- prometheus ---\n${(prom?.output ?? '').slice(-4000)}`;

  /** The one sample of `q`, or undefined when there is none; more than one is an error. */
  async function single(q) {
    const res = await prom.query(q);
    if (res.length > 1) throw new Error(`${q}: ${res.length} series, expected one: ${JSON.stringify(res)}`);
    return res.length === 1 ? { metric: res[0].metric, value: Number(res[0].value[1]) } : undefined;
  }

  /**
   * Polls `q` until its one sample is >= `expected`, then reads it again and checks it is
   * exactly `expected` (an over-count fails instead of passing). Returns the sample.
   */
  async function waitExact(q, expected, { timeoutMs = 15000 } = {}) {
    let last;
    await waitFor(
      async () => {
        last = await single(q);
        return last !== undefined && last.value >= expected;
      },
      { timeoutMs, intervalMs: 200, what: `${q} >= ${expected} in Prometheus` },
    ).catch((e) => {
      throw new Error(`${e.message}\nlast: ${JSON.stringify(last)}${dump()}`);
    });
    const s = await single(q);
    assert.equal(s?.value, expected, `${q}${dump()}`);
    return s;
  }

  before(async () => {
    dir = await makeTempDir();
    outrigger = await Outrigger.start({
      name: 'prom-e2e',
      dir,
      ports: { health: 'tcp', metrics: 'tcp', statsd: 'udp', prom: 'tcp' },
      makeConfig: (ports) => ({
        extensions: { health_check: { endpoint: `${HOST}:${ports.health}` } },
        receivers: {
          statsd: {
            endpoint: `${HOST}:${ports.statsd}`,
            transport: 'udp',
            aggregation_interval: '1s',
            is_monotonic_counter: true,
            timer_histogram_mapping: [
              { statsd_type: 'timing', observer_type: 'histogram', histogram: { explicit_buckets: [10, 50, 100] } },
            ],
          },
        },
        processors: { batch: { timeout: '100ms' } },
        exporters: { prometheus: { endpoint: `${HOST}:${ports.prom}` } },
        service: {
          extensions: ['health_check'],
          telemetry: { logs: { level: 'info' }, metrics: { address: `${HOST}:${ports.metrics}` } },
          pipelines: { metrics: { receivers: ['statsd'], processors: ['batch'], exporters: ['prometheus'] } },
        },
      }),
    });
    target = `${HOST}:${outrigger.ports.prom}`;
    prom = await PrometheusServer.start({ dir, jobs: { [JOB]: target } });
    await waitFor(async () => (await single(`up{job="${JOB}"}`))?.value === 1, {
      timeoutMs: 15000,
      intervalMs: 200,
      what: 'the exporter target to be up in Prometheus',
    }).catch((e) => {
      throw new Error(`${e.message}${dump()}`);
    });
  });

  after(async () => {
    if (prom) await prom.stop();
    if (outrigger) await outrigger.kill();
    await removeTempDir(dir);
  });

  test('round 1 reaches Prometheus', async () => {
    await sendUdp(outrigger.ports.statsd, [ROUND1.join('\n')]);
    await outrigger.waitReceiverCounts({ acceptedPoints: ROUND1_POINTS, refusedPoints: 0, malformed: 0 });
    await waitExact(`${COUNTER}{http_method="GET"}`, 6);
    await waitExact(`${COUNTER}{http_method="POST"}`, COUNTER_POST);
    await waitExact(`${HIST}_count`, ROUND1_HIST.count);
    await waitExact(`${HIST}_sum`, ROUND1_HIST.sum);
    await waitExact(GAUGE_NAME, 42);
  });

  test('round 2: the counter is the exact sum of the deltas, sample rate included', async () => {
    await sendUdp(outrigger.ports.statsd, [ROUND2.join('\n')]);
    await outrigger.waitReceiverCounts({
      acceptedPoints: ROUND1_POINTS + ROUND2_POINTS,
      refusedPoints: 0,
      malformed: 0,
    });
    const get = await waitExact(`${COUNTER}{http_method="GET"}`, COUNTER_GET);
    // Exactly the tags as labels (http.method → http_method), the scrape's job/instance
    // and the receiver's scope; the reversed-tag-order line is in this same series.
    assert.deepEqual(get.metric, {
      __name__: COUNTER,
      env: 'e2e',
      http_method: 'GET',
      instance: target,
      job: JOB,
      otel_scope_name: 'outrigger/statsd',
    });
    const all = await prom.query(COUNTER);
    assert.deepEqual(
      all.map((r) => [r.metric.http_method, Number(r.value[1])]).sort(),
      [['GET', COUNTER_GET], ['POST', COUNTER_POST]],
      `every ${COUNTER} series: ${JSON.stringify(all)}`,
    );
  });

  test('rate() of the counter is positive and it never reset', async () => {
    const rate = await single(`rate(${COUNTER}{http_method="GET"}[1m])`);
    assert.ok(rate && rate.value > 0, `rate() = ${JSON.stringify(rate)}${dump()}`);
    const resets = await single(`resets(${COUNTER}{http_method="GET"}[1m])`);
    assert.equal(resets?.value, 0, `resets() = ${JSON.stringify(resets)}`);
    // Prometheus saw the round-1 value, then the total: two distinct values.
    const min = await single(`min_over_time(${COUNTER}{http_method="GET"}[1m])`);
    assert.equal(min?.value, 6, 'the first value Prometheus scraped is the round-1 total');
  });

  test('the timing histogram: buckets, sum, count, quantiles', async () => {
    const count = await waitExact(`${HIST}_count`, HIST_COUNT);
    assert.deepEqual(count.metric, {
      __name__: `${HIST}_count`,
      route: '/cart',
      instance: target,
      job: JOB,
      otel_scope_name: 'outrigger/statsd',
    });
    assert.equal((await single(`${HIST}_sum{route="/cart"}`))?.value, HIST_SUM);
    const buckets = await prom.query(`${HIST}_bucket{route="/cart"}`);
    // le as a number ("10" or "10.0" alike; "+Inf" is Infinity), so that a missing or
    // duplicated bound fails too.
    const le = (s) => (s === '+Inf' ? Infinity : Number(s));
    assert.deepEqual(
      Object.fromEntries(buckets.map((r) => [String(le(r.metric.le)), Number(r.value[1])])),
      HIST_BUCKETS,
      `buckets: ${JSON.stringify(buckets)}`,
    );
    assert.equal(buckets.length, Object.keys(HIST_BUCKETS).length);
    const p50 = await single(`histogram_quantile(0.5, ${HIST}_bucket{route="/cart"})`);
    assert.equal(p50?.value, HIST_P50, `p50: ${JSON.stringify(p50)}`);
    assert.equal(p50.metric.route, '/cart');
    const p75 = await single(`histogram_quantile(0.75, sum by (le) (${HIST}_bucket))`);
    assert.equal(p75?.value, HIST_P75, `p75: ${JSON.stringify(p75)}`);
  });

  test('the gauge and its tag label', async () => {
    const g = await waitExact(GAUGE_NAME, GAUGE);
    assert.deepEqual(g.metric, {
      __name__: GAUGE_NAME,
      queue: 'jobs',
      instance: target,
      job: JOB,
      otel_scope_name: 'outrigger/statsd',
    });
  });

  test('later intervals add nothing (no delta counted twice)', async () => {
    // Wait (by Prometheus's sample timestamps) until at least 3 more scrapes happened,
    // spanning at least two more 1 s aggregation intervals, then look at the maxima.
    const t0 = (await single(`timestamp(${COUNTER}{http_method="GET"})`)).value;
    await waitFor(async () => (await single(`timestamp(${COUNTER}{http_method="GET"})`)).value >= t0 + 3, {
      timeoutMs: 15000,
      intervalMs: 200,
      what: 'three more scrapes',
    });
    assert.equal((await single(`max_over_time(${COUNTER}{http_method="GET"}[1m])`))?.value, COUNTER_GET);
    assert.equal((await single(`${COUNTER}{http_method="GET"}`))?.value, COUNTER_GET);
    assert.equal((await single(`max_over_time(${HIST}_count[1m])`))?.value, HIST_COUNT);
    assert.equal((await single(`${HIST}_sum`))?.value, HIST_SUM);
    assert.equal((await single(GAUGE_NAME))?.value, GAUGE);
  });

  test("the exporter's /metrics: TYPE lines and values", async () => {
    const r = await fetch(`http://${target}/metrics`);
    const text = await r.text();
    assert.equal(r.status, 200, text);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const types = Object.fromEntries([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    assert.equal(types[COUNTER], 'counter', text);
    assert.equal(types[HIST], 'histogram', text);
    assert.equal(types[GAUGE_NAME], 'gauge', text);
    assert.deepEqual(Object.keys(types).sort(), [COUNTER, GAUGE_NAME, HIST].sort(), `only these families:\n${text}`);
    const samples = parsePrometheus(text);
    assert.equal(metricValue(samples, COUNTER, { http_method: 'GET', env: 'e2e' }), COUNTER_GET);
    assert.equal(metricValue(samples, COUNTER, { http_method: 'POST', env: 'e2e' }), COUNTER_POST);
    assert.equal(metricValue(samples, `${HIST}_count`, { route: '/cart' }), HIST_COUNT);
    assert.equal(metricValue(samples, `${HIST}_bucket`, { route: '/cart', le: '+Inf' }), HIST_COUNT);
    assert.equal(metricValue(samples, GAUGE_NAME, { queue: 'jobs' }), GAUGE);
  });
});
