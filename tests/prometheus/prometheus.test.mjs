// A real Prometheus (Debian package `prometheus`, 2.42) scrapes outrigger's prometheus
// exporter. Outrigger runs otlp (http) → two prometheus exporters: one serving the text
// format, one with enable_open_metrics (Prometheus asks for OpenMetrics when it may).
// Prometheus scrapes both every second (jobs "text" and "om"). The test pushes OTLP/JSON
// with fetch(): a delta counter, incremented every 500 ms; a delta histogram with known
// buckets; a gauge that is then marked "no recorded value". It then asks Prometheus's
// HTTP API for rate()/increase() of the counter, the exact accumulated total,
// histogram_quantile(0.5, ...), the metric types from the metadata API, target_info,
// and the gauge going stale.
//
// Only Node's built-in modules (and the shared harness in ../common, itself built-in only). Every
// wait polls a condition until a deadline. Processes and temp dirs are always removed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  HOST,
  Outrigger,
  collectorConfig,
  httpRequest,
  makeTempDir,
  postOtlpJson,
  removeTempDir,
  sleep,
  waitFor,
} from '../common/harness.mjs';
import { PrometheusServer } from '../common/prometheus.mjs';

const JOBS = ['text', 'om'];
const SERVICE = 'it-svc';
const INSTANCE = 'it-instance-1';
const ROUTE = '/checkout';
const COUNTER_STEP = 5; // per push
const PUSH_INTERVAL_MS = 500; // so 10 requests/s
const EXPECTED_RATE = (COUNTER_STEP * 1000) / PUSH_INTERVAL_MS;
// Delta histogram pushes: bounds 1, 2, 5, 10 (seconds); five pushes of these counts make
// 10, 20, 60, 10, 0: the median (rank 50) is 2 + 3 * (50 - 30) / 60 = 3 exactly.
const HIST_BOUNDS = [1, 2, 5, 10];
const HIST_DELTA = [2, 4, 12, 2, 0];
const HIST_PUSHES = 5;

const nowNanos = () => (BigInt(Date.now()) * 1000000n).toString();
const attr = (key, value) => ({ key, value: { stringValue: value } });

function request(metrics) {
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            attr('service.name', SERVICE),
            attr('service.instance.id', INSTANCE),
            attr('host.name', 'it-host'),
          ],
        },
        scopeMetrics: [{ scope: { name: 'outrigger-prometheus-it' }, metrics }],
      },
    ],
  };
}

function counterDelta(start, end, value) {
  return {
    name: 'it.requests',
    unit: '{request}',
    description: 'Requests served',
    sum: {
      aggregationTemporality: 1, // DELTA
      isMonotonic: true,
      dataPoints: [
        { asInt: String(value), startTimeUnixNano: start, timeUnixNano: end, attributes: [attr('route', ROUTE)] },
      ],
    },
  };
}

function histogramDelta(start, end) {
  const count = HIST_DELTA.reduce((a, b) => a + b, 0);
  return {
    name: 'it.latency',
    unit: 's',
    description: 'Latency',
    histogram: {
      aggregationTemporality: 1, // DELTA
      dataPoints: [
        {
          startTimeUnixNano: start,
          timeUnixNano: end,
          count: String(count),
          sum: 7.5 * count,
          bucketCounts: HIST_DELTA.map(String),
          explicitBounds: HIST_BOUNDS,
        },
      ],
    },
  };
}

function gauge(value, { stale = false } = {}) {
  const point = { timeUnixNano: nowNanos() };
  if (stale) point.flags = 1; // DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
  else point.asDouble = value;
  return { name: 'it.temperature', unit: 'Cel', gauge: { dataPoints: [point] } };
}

describe('prometheus exporter scraped by a real Prometheus', () => {
  let dir;
  let outrigger;
  let prom; // a PrometheusServer
  let pushing = false;
  let pusher; // the counter push loop's promise
  let pushed = 0; // counter total sent so far

  const push = (metrics) => postOtlpJson(outrigger.ports.otlp, '/v1/metrics', request(metrics));

  const query = (q) => prom.query(q); // vector: [{metric, value: [ts, "v"]}]

  // Polls `q` until it returns one sample per job satisfying `ok(value)`.
  async function waitForEachJob(q, ok, what, timeoutMs = 30000) {
    let last;
    await waitFor(
      async () => {
        for (const job of JOBS) {
          const res = await query(q(job));
          last = { job, res: JSON.stringify(res) };
          if (res.length !== 1 || !ok(Number(res[0].value[1]), res[0].metric)) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 250, what: `${what} (last: ${JSON.stringify(last)})` },
    ).catch((e) => {
      throw new Error(`${e.message}\n--- outrigger ---\n${outrigger.output}\n--- prometheus ---\n${prom.output.slice(-4000)}`);
    });
  }

  before(async () => {
    dir = await makeTempDir('outrigger-prom-it-');
    outrigger = await Outrigger.start({
      name: 'outrigger',
      dir,
      portNames: ['health', 'metrics', 'otlp', 'text', 'om'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          exporters: {
            'prometheus/text': { endpoint: `${HOST}:${ports.text}` },
            'prometheus/om': { endpoint: `${HOST}:${ports.om}`, enable_open_metrics: true },
          },
          pipelines: { metrics: { receivers: ['otlp'], exporters: ['prometheus/text', 'prometheus/om'] } },
        }),
    });

    // Scrapes both exporters every second; waits until Prometheus is ready.
    prom = await PrometheusServer.start({
      dir,
      jobs: Object.fromEntries(JOBS.map((job) => [job, `${HOST}:${outrigger.ports[job]}`])),
      scrapeInterval: '1s',
    });
    // Both targets up.
    await waitForEachJob((job) => `up{job="${job}"}`, (v) => v === 1, 'both targets to be up');

    // The counter: +5 every 500 ms, as deltas (each starts where the previous ended),
    // until the test stops it.
    pushing = true;
    pusher = (async () => {
      let start = nowNanos();
      while (pushing) {
        const end = nowNanos();
        await push([counterDelta(start, end, COUNTER_STEP)]);
        pushed += COUNTER_STEP;
        start = end;
        await sleep(PUSH_INTERVAL_MS);
      }
    })();
    // The histogram and the gauge.
    let start = nowNanos();
    for (let i = 0; i < HIST_PUSHES; i++) {
      const end = nowNanos();
      await push([histogramDelta(start, end), gauge(20 + i)]);
      start = end;
    }
  });

  after(async () => {
    pushing = false;
    if (pusher) await pusher.catch(() => {});
    if (prom) await prom.stop();
    if (outrigger) {
      await outrigger.stop().catch(() => {});
      await outrigger.kill();
    }
    await removeTempDir(dir);
  });

  it('rate() and increase() of the accumulated delta counter', async () => {
    const inRange = (lo, hi) => (v) => v >= lo && v <= hi;
    await waitForEachJob(
      (job) => `rate(it_requests_total{job="${job}",route="${ROUTE}"}[5s])`,
      inRange(EXPECTED_RATE * 0.7, EXPECTED_RATE * 1.3),
      `rate() near ${EXPECTED_RATE}/s`,
    );
    await waitForEachJob(
      (job) => `increase(it_requests_total{job="${job}",route="${ROUTE}"}[5s])`,
      inRange(EXPECTED_RATE * 5 * 0.7, EXPECTED_RATE * 5 * 1.3),
      `increase() over 5s near ${EXPECTED_RATE * 5}`,
    );
  });

  it('the counter is the exact sum of every delta pushed', async () => {
    pushing = false;
    await pusher;
    assert.ok(pushed >= COUNTER_STEP * 4, `only ${pushed} pushed`);
    await waitForEachJob(
      (job) => `it_requests_total{job="${job}"}`,
      (v, m) => v === pushed && m.exported_job === SERVICE && m.exported_instance === INSTANCE && m.route === ROUTE,
      `it_requests_total == ${pushed} with exported_job/exported_instance/route labels`,
    );
  });

  it('histogram_quantile(0.5) of the accumulated delta histogram', async () => {
    const total = HIST_PUSHES * HIST_DELTA.reduce((a, b) => a + b, 0);
    await waitForEachJob((job) => `it_latency_seconds_count{job="${job}"}`, (v) => v === total, `_count == ${total}`);
    await waitForEachJob(
      (job) => `it_latency_seconds_sum{job="${job}"}`,
      (v) => Math.abs(v - 7.5 * total) < 1e-9,
      `_sum == ${7.5 * total}`,
    );
    await waitForEachJob(
      (job) => `histogram_quantile(0.5, sum by (le) (it_latency_seconds_bucket{job="${job}"}))`,
      (v) => Math.abs(v - 3) < 1e-9,
      'median == 3',
    );
    await waitForEachJob(
      (job) => `histogram_quantile(0.9, sum by (le) (it_latency_seconds_bucket{job="${job}"}))`,
      (v) => Math.abs(v - 5) < 1e-9, // rank 90 is the top of the (2, 5] bucket
      'p90 == 5',
    );
  });

  it('metric types in the metadata API', async () => {
    for (const job of JOBS) {
      const url = `http://${HOST}:${prom.port}/api/v1/targets/metadata?match_target=${encodeURIComponent(`{job="${job}"}`)}`;
      let byName;
      await waitFor(
        async () => {
          const j = JSON.parse((await httpRequest(url, { timeoutMs: 5000 })).text);
          if (j.status !== 'success') throw new Error(JSON.stringify(j));
          byName = Object.fromEntries(j.data.map((m) => [m.metric, m]));
          return byName.it_latency_seconds && byName.it_temperature_celsius && byName.target_info;
        },
        { timeoutMs: 20000, intervalMs: 250, what: `metadata of job ${job}` },
      );
      // OpenMetrics names a counter family without its _total suffix.
      const counter = job === 'om' ? 'it_requests' : 'it_requests_total';
      assert.equal(byName[counter]?.type, 'counter', `${job}: ${JSON.stringify(byName)}`);
      assert.equal(byName[counter].help, 'Requests served');
      assert.equal(byName.it_latency_seconds.type, 'histogram');
      assert.equal(byName.it_latency_seconds.help, 'Latency');
      assert.equal(byName.it_temperature_celsius.type, 'gauge');
      assert.equal(byName.target_info.type, 'gauge');
    }
  });

  it('target_info carries the other resource attributes', async () => {
    await waitForEachJob(
      (job) => `target_info{job="${job}"}`,
      (v, m) => v === 1 && m.host_name === 'it-host' && m.exported_job === SERVICE && m.exported_instance === INSTANCE,
      'target_info{host_name="it-host"} == 1',
    );
  });

  it('a "no recorded value" point makes the gauge stale at once', async () => {
    await waitForEachJob((job) => `it_temperature_celsius{job="${job}"}`, (v) => v === 20 + HIST_PUSHES - 1, 'gauge');
    await push([gauge(0, { stale: true })]);
    await waitFor(
      async () => {
        for (const job of JOBS) {
          if ((await query(`it_temperature_celsius{job="${job}"}`)).length !== 0) return false;
        }
        return true;
      },
      { timeoutMs: 20000, intervalMs: 250, what: 'the gauge to go stale in Prometheus' },
    );
    // The other series are still there.
    assert.equal((await query('it_requests_total')).length, JOBS.length);
  });
});
