// Both Prometheus paths in one run. One outrigger (otlp/http → metrics pipeline fanning
// out to `prometheus` and `prometheusremotewrite`) and one real Prometheus (Debian
// package `prometheus`, 2.42) that scrapes the prometheus exporter (job "scrape") AND
// receives the remote write (--web.enable-remote-write-receiver; those series carry
// job="<service.name>" and the exporter's external label via="remote_write").
//
// The test pushes OTLP/JSON with fetch(): a cumulative counter and a cumulative histogram,
// one point every STEP_MS of data time, and after each push waits until Prometheus holds
// that point through both paths (the exporter only serves the latest value, so every point
// must be scraped before the next). The prometheus exporter runs with send_timestamps, so
// scraped samples carry the data points' own times, like the remote-written ones: both
// series are then the same samples at the same times, and PromQL over them is exact (the
// scrape-time variant, approximate by nature, is tests/prometheus's). Through both paths
// it asserts: the last values, rate() of the counter, histogram_quantile() of the
// histogram over its rate() and over its last buckets (expected values computed here from
// what was sent, with Prometheus's interpolation), and for the scraped path the metric
// types and help from the metadata API.
//
// Only Node's built-in modules and the shared helpers in ../common. Every wait polls a
// condition until a deadline. Processes and temp dirs are always removed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  HOST,
  Outrigger,
  collectorConfig,
  makeTempDir,
  postOtlpJson,
  removeTempDir,
  waitFor,
} from '../common/harness.mjs';
import { PrometheusServer } from '../common/prometheus.mjs';

const SERVICE = 'e2e-svc';
const INSTANCE = 'e2e-instance-1';
const ROUTE = '/checkout';
const SCRAPE_JOB = 'scrape';
const EXTERNAL = { via: 'remote_write' };

// Data time: POINTS points, STEP_MS apart, the last one ~LAST_AGO_MS before the test starts
// pushing (in the past, so that the query windows below are complete).
const POINTS = 6;
const STEP_MS = 1000;
const LAST_AGO_MS = 20000;

// Counter: BASE, BASE + STEP, ...
const COUNTER_BASE = 100;
const COUNTER_STEP = 7;
// Histogram (bounds in seconds; counts per bucket, not cumulative, the last one +Inf):
// the first point holds HIST_INIT, every later one HIST_STEP more.
const HIST_BOUNDS = [0.1, 0.25, 0.5, 1, 2.5];
const HIST_INIT = [5, 8, 12, 4, 2, 1];
const HIST_STEP = [3, 5, 10, 6, 2, 1];
const HIST_SUM_INIT = 40.5;
const HIST_SUM_STEP = 21.25;
const QUANTILES = [0.5, 0.9, 0.99];

const PATHS = {
  scrape: `job="${SCRAPE_JOB}"`,
  remote_write: `job="${SERVICE}",via="${EXTERNAL.via}"`,
};

const sum = (a) => a.reduce((x, y) => x + y, 0);
const cumulative = (a) => a.map((_, i) => sum(a.slice(0, i + 1)));
const attr = (key, value) => ({ key, value: { stringValue: value } });
const nanos = (ms) => (BigInt(ms) * 1000000n).toString();

// What the test sends at point i.
const counterAt = (i) => COUNTER_BASE + i * COUNTER_STEP;
const histAt = (i) => HIST_INIT.map((c, b) => c + i * HIST_STEP[b]);
const histSumAt = (i) => HIST_SUM_INIT + i * HIST_SUM_STEP;

/**
 * Prometheus's histogram_quantile() (promql/quantile.go bucketQuantile) of buckets given
 * as per-bucket counts with upper bounds `bounds` and a last +Inf bucket.
 */
function histogramQuantile(q, bounds, counts) {
  const cum = cumulative(counts);
  const observations = cum.at(-1);
  const rank = q * observations;
  let b = 0;
  while (b < cum.length - 1 && cum[b] < rank) b++;
  if (b === cum.length - 1) return bounds.at(-1); // in the +Inf bucket: the highest finite bound
  if (b === 0 && bounds[0] <= 0) return bounds[0];
  const start = b === 0 ? 0 : bounds[b - 1];
  const below = b === 0 ? 0 : cum[b - 1];
  return start + (bounds[b] - start) * ((rank - below) / (cum[b] - below));
}

const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

function request(metrics) {
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [attr('service.name', SERVICE), attr('service.instance.id', INSTANCE), attr('host.name', 'e2e-host')],
        },
        scopeMetrics: [{ scope: { name: 'outrigger-prometheus-e2e' }, metrics }],
      },
    ],
  };
}

function counterMetric(startMs, i, timeMs) {
  return {
    name: 'e2e.requests',
    unit: '{request}',
    description: 'Requests served',
    sum: {
      aggregationTemporality: 2, // CUMULATIVE
      isMonotonic: true,
      dataPoints: [
        {
          asInt: String(counterAt(i)),
          startTimeUnixNano: nanos(startMs),
          timeUnixNano: nanos(timeMs),
          attributes: [attr('route', ROUTE)],
        },
      ],
    },
  };
}

function histogramMetric(startMs, i, timeMs) {
  const counts = histAt(i);
  return {
    name: 'e2e.latency',
    unit: 's',
    description: 'Request latency',
    histogram: {
      aggregationTemporality: 2, // CUMULATIVE
      dataPoints: [
        {
          startTimeUnixNano: nanos(startMs),
          timeUnixNano: nanos(timeMs),
          count: String(sum(counts)),
          sum: histSumAt(i),
          bucketCounts: counts.map(String),
          explicitBounds: HIST_BOUNDS,
          attributes: [attr('route', ROUTE)],
        },
      ],
    },
  };
}

describe('one collector, scraped by and remote-writing to the same real Prometheus', () => {
  let dir;
  let outrigger;
  let prom;
  let lastMs; // data time of the last point
  let t0Ms; // data time of the first point

  const push = (metrics) => postOtlpJson(outrigger.ports.otlp, '/v1/metrics', request(metrics));

  const diagnostics = () =>
    `\n--- outrigger ---\n${outrigger?.output.slice(-4000)}\n--- prometheus ---\n${prom?.output.slice(-4000)}`;

  // Polls until `probe` is truthy; a timeout error carries both processes' output.
  const waitUntil = (probe, what, timeoutMs = 30000) =>
    waitFor(probe, { timeoutMs, intervalMs: 100, what }).catch((e) => {
      throw new Error(`${e.message}${diagnostics()}`);
    });

  // The one sample `q` gives at `time` (the instant after the last point by default).
  async function one(q, time = (lastMs + STEP_MS / 2) / 1000) {
    const res = await prom.query(q, { time });
    assert.equal(res.length, 1, `${q} at ${time}: ${JSON.stringify(res)}`);
    return { value: Number(res[0].value[1]), labels: res[0].metric };
  }

  before(async () => {
    // The preconditions that make rate() exact (see the rate test): the counters'
    // extrapolated zero point is at least half a step before their first sample.
    assert.ok(COUNTER_BASE >= COUNTER_STEP / 2);
    const ci = cumulative(HIST_INIT);
    cumulative(HIST_STEP).forEach((d, b) => assert.ok(ci[b] >= d / 2, `bucket ${b}`));

    dir = await makeTempDir('outrigger-prom-e2e-');
    // Prometheus first (the remote write target), with no scrape job yet.
    prom = await PrometheusServer.start({
      dir,
      scrapeInterval: '1s',
      extraArgs: ['--web.enable-remote-write-receiver'],
      lifecycle: true,
    });
    outrigger = await Outrigger.start({
      name: 'outrigger',
      dir,
      portNames: ['health', 'metrics', 'otlp', 'prom'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          exporters: {
            prometheus: { endpoint: `${HOST}:${ports.prom}`, send_timestamps: true },
            prometheusremotewrite: {
              endpoint: `http://${HOST}:${prom.port}/api/v1/write`,
              external_labels: EXTERNAL,
              sending_queue: { num_consumers: 1 }, // in order: Prometheus refuses out-of-order samples
              retry_on_failure: { initial_interval: '100ms', max_interval: '1s' },
            },
          },
          pipelines: { metrics: { receivers: ['otlp'], exporters: ['prometheus', 'prometheusremotewrite'] } },
        }),
    });
    // Now that the exporter's port is known: scrape it.
    await prom.reload({ jobs: { [SCRAPE_JOB]: `${HOST}:${outrigger.ports.prom}` }, scrapeInterval: '1s' });
    await waitUntil(
      async () => (await prom.query(`up{job="${SCRAPE_JOB}"}`)).some((s) => s.value[1] === '1'),
      'the exporter to be scraped (up == 1)',
    );

    // The points, each waited for through both paths before the next is pushed.
    lastMs = Math.floor((Date.now() - LAST_AGO_MS) / 1000) * 1000;
    t0Ms = lastMs - (POINTS - 1) * STEP_MS;
    const startMs = t0Ms - 60000;
    for (let i = 0; i < POINTS; i++) {
      const timeMs = t0Ms + i * STEP_MS;
      await push([counterMetric(startMs, i, timeMs), histogramMetric(startMs, i, timeMs)]);
      for (const [path, sel] of Object.entries(PATHS)) {
        for (const name of ['e2e_requests_total', 'e2e_latency_seconds_count']) {
          await waitUntil(async () => {
            const res = await prom.query(`count_over_time(${name}{${sel}}[10m])`);
            return res.length === 1 && Number(res[0].value[1]) === i + 1;
          }, `point ${i} of ${name} through ${path}`);
        }
      }
    }
  });

  after(async () => {
    if (outrigger) {
      await outrigger.stop().catch(() => {});
      await outrigger.kill();
    }
    if (prom) await prom.stop();
    if (dir) await removeTempDir(dir);
  });

  it('the two paths are two distinct series with the expected labels', async () => {
    const scraped = await one(`e2e_requests_total{${PATHS.scrape}}`);
    // The exporter's job/instance (from the resource) renamed by the scrape (honor_labels: false).
    assert.equal(scraped.labels.exported_job, SERVICE);
    assert.equal(scraped.labels.exported_instance, INSTANCE);
    assert.equal(scraped.labels.instance, `${HOST}:${outrigger.ports.prom}`);
    assert.equal(scraped.labels.route, ROUTE);
    assert.equal(scraped.labels.via, undefined);
    const written = await one(`e2e_requests_total{${PATHS.remote_write}}`);
    assert.equal(written.labels.instance, INSTANCE);
    assert.equal(written.labels.route, ROUTE);
    assert.equal(written.labels.otel_scope_name, 'outrigger-prometheus-e2e');
    assert.equal((await one('count(e2e_requests_total)')).value, 2);
  });

  it('the counter and the histogram hold the last values sent', async () => {
    const last = POINTS - 1;
    for (const sel of Object.values(PATHS)) {
      assert.equal((await one(`e2e_requests_total{${sel}}`)).value, counterAt(last), sel);
      assert.equal((await one(`e2e_latency_seconds_count{${sel}}`)).value, sum(histAt(last)), sel);
      assert.ok(close((await one(`e2e_latency_seconds_sum{${sel}}`)).value, histSumAt(last)), sel);
      const buckets = await prom.query(`e2e_latency_seconds_bucket{${sel}}`, { time: (lastMs + STEP_MS / 2) / 1000 });
      const byLe = Object.fromEntries(buckets.map((s) => [s.metric.le, Number(s.value[1])]));
      const cum = cumulative(histAt(last));
      const expected = Object.fromEntries([...HIST_BOUNDS.map(String), '+Inf'].map((le, b) => [le, cum[b]]));
      assert.deepEqual(byLe, expected, sel);
    }
  });

  it('rate() of the counter is its step per second, through both paths', async () => {
    // Over a window that starts and ends half a step away from the first and last samples,
    // Prometheus extrapolates exactly to the window: rate() = the counter's slope.
    const windowMs = (POINTS - 1) * STEP_MS + STEP_MS;
    const expected = COUNTER_STEP / (STEP_MS / 1000);
    for (const sel of Object.values(PATHS)) {
      const { value } = await one(`rate(e2e_requests_total{${sel}}[${windowMs}ms])`);
      assert.ok(close(value, expected), `${sel}: rate ${value}, expected ${expected}`);
      const inc = (await one(`increase(e2e_requests_total{${sel}}[${windowMs}ms])`)).value;
      assert.ok(close(inc, (expected * windowMs) / 1000), `${sel}: increase ${inc}`);
    }
  });

  it('histogram_quantile() over rate() and over the last buckets, through both paths', async () => {
    const windowMs = POINTS * STEP_MS;
    const last = histAt(POINTS - 1);
    for (const sel of Object.values(PATHS)) {
      for (const q of QUANTILES) {
        // The rate of every bucket is its step per second: the quantile of HIST_STEP.
        const overRate = await one(
          `histogram_quantile(${q}, sum by (le) (rate(e2e_latency_seconds_bucket{${sel}}[${windowMs}ms])))`,
        );
        const wantRate = histogramQuantile(q, HIST_BOUNDS, HIST_STEP);
        assert.ok(close(overRate.value, wantRate), `${sel} q=${q} over rate: ${overRate.value}, expected ${wantRate}`);
        const overLast = await one(`histogram_quantile(${q}, sum by (le) (e2e_latency_seconds_bucket{${sel}}))`);
        const wantLast = histogramQuantile(q, HIST_BOUNDS, last);
        assert.ok(close(overLast.value, wantLast), `${sel} q=${q} over the last buckets: ${overLast.value}, expected ${wantLast}`);
      }
      // Mean latency over the window: rate(sum) / rate(count).
      const mean = await one(
        `rate(e2e_latency_seconds_sum{${sel}}[${windowMs}ms]) / rate(e2e_latency_seconds_count{${sel}}[${windowMs}ms])`,
      );
      assert.ok(close(mean.value, HIST_SUM_STEP / sum(HIST_STEP)), `${sel}: mean ${mean.value}`);
    }
  });

  it('the scraped path has the counter and histogram types and help in the metadata API', async () => {
    const match = encodeURIComponent(`{job="${SCRAPE_JOB}"}`);
    let byName;
    await waitUntil(async () => {
      const data = await prom.api(`/api/v1/targets/metadata?match_target=${match}`);
      byName = Object.fromEntries(data.map((m) => [m.metric, m]));
      return byName.e2e_requests_total && byName.e2e_latency_seconds;
    }, 'the scraped metadata');
    assert.equal(byName.e2e_requests_total.type, 'counter');
    assert.equal(byName.e2e_requests_total.help, 'Requests served');
    assert.equal(byName.e2e_latency_seconds.type, 'histogram');
    assert.equal(byName.e2e_latency_seconds.help, 'Request latency');
    // The same through /api/v1/metadata (all targets).
    const meta = await prom.api('/api/v1/metadata?metric=e2e_latency_seconds');
    assert.deepEqual(
      meta.e2e_latency_seconds?.map((m) => m.type),
      ['histogram'],
    );
  });
});
