// A real Prometheus (Debian package `prometheus`, 2.42) with
// --web.enable-remote-write-receiver receives what outrigger's prometheusremotewrite
// exporter sends. Outrigger runs otlp (http) → prometheusremotewrite → Prometheus's
// /api/v1/write. The test pushes OTLP/JSON with fetch(): a cumulative counter (three
// points), a cumulative histogram with known buckets, a gauge then marked "no recorded
// value", and a delta counter (which the exporter drops). It then asks Prometheus's
// query API for the counter, histogram_quantile(), target_info, and the gauge going
// stale.
//
// Only Node's built-in modules and the shared harness. Every wait polls a condition until
// a deadline. Processes and temp dirs are always removed.
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

const SERVICE = 'it-svc';
const INSTANCE = 'it-instance-1';
const ROUTE = '/checkout';
const COUNTER_VALUES = [10, 25, 42];
// Cumulative histogram: bounds 1, 2, 5, 10 (seconds), counts 10, 20, 60, 10, 0: the
// median (rank 50) is 2 + 3 * (50 - 30) / 60 = 3; rank 90 is the top of (2, 5].
const HIST_BOUNDS = [1, 2, 5, 10];
const HIST_COUNTS = [10, 20, 60, 10, 0];
const HIST_TOTAL = HIST_COUNTS.reduce((a, b) => a + b, 0);

const nanos = (ms) => (BigInt(ms) * 1000000n).toString();
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
        scopeMetrics: [{ scope: { name: 'outrigger-prw-it' }, metrics }],
      },
    ],
  };
}

function counter(start, endMs, value, temporality = 2) {
  return {
    name: temporality === 2 ? 'it.requests' : 'it.delta.requests',
    unit: '{request}',
    description: 'Requests served',
    sum: {
      aggregationTemporality: temporality, // 2: CUMULATIVE, 1: DELTA
      isMonotonic: true,
      dataPoints: [
        { asInt: String(value), startTimeUnixNano: start, timeUnixNano: nanos(endMs), attributes: [attr('route', ROUTE)] },
      ],
    },
  };
}

function histogram(start, endMs) {
  return {
    name: 'it.latency',
    unit: 's',
    description: 'Latency',
    histogram: {
      aggregationTemporality: 2,
      dataPoints: [
        {
          startTimeUnixNano: start,
          timeUnixNano: nanos(endMs),
          count: String(HIST_TOTAL),
          sum: 7.5 * HIST_TOTAL,
          bucketCounts: HIST_COUNTS.map(String),
          explicitBounds: HIST_BOUNDS,
        },
      ],
    },
  };
}

function gauge(ms, value, { stale = false } = {}) {
  const point = { timeUnixNano: nanos(ms) };
  if (stale) point.flags = 1; // DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
  else point.asDouble = value;
  return { name: 'it.temperature', unit: 'Cel', gauge: { dataPoints: [point] } };
}

describe('prometheusremotewrite exporter writing to a real Prometheus', () => {
  let dir;
  let outrigger;
  let prom;

  const push = (metrics) => postOtlpJson(outrigger.ports.otlp, '/v1/metrics', request(metrics));

  // Polls `q` until it returns exactly one sample satisfying `ok(value, labels)`.
  async function waitForOne(q, ok, what, timeoutMs = 30000) {
    let last;
    await waitFor(
      async () => {
        const res = await prom.query(q);
        last = JSON.stringify(res);
        return res.length === 1 && ok(Number(res[0].value[1]), res[0].metric);
      },
      { timeoutMs, intervalMs: 250, what },
    ).catch((e) => {
      throw new Error(`${e.message} (last answer: ${last})\n--- outrigger ---\n${outrigger.output}\n--- prometheus ---\n${prom.output.slice(-4000)}`);
    });
  }

  before(async () => {
    dir = await makeTempDir('outrigger-prw-it-');
    // Prometheus: no scrape jobs, the remote write receiver on.
    prom = await PrometheusServer.start({
      dir,
      scrapeInterval: '15s',
      extraArgs: ['--web.enable-remote-write-receiver'],
    });

    outrigger = await Outrigger.start({
      name: 'outrigger',
      dir,
      portNames: ['health', 'metrics', 'otlp'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          exporters: {
            prometheusremotewrite: {
              endpoint: `http://${HOST}:${prom.port}/api/v1/write`,
              external_labels: { cluster: 'it' },
              max_samples_per_request: 5, // so every push is several requests
              sending_queue: { num_consumers: 1 },
              retry_on_failure: { initial_interval: '100ms', max_interval: '1s' },
            },
          },
          pipelines: { metrics: { receivers: ['otlp'], exporters: ['prometheusremotewrite'] } },
        }),
    });

    const t0 = Date.now() - 3000;
    const start = nanos(t0 - 1000);
    for (let i = 0; i < COUNTER_VALUES.length; i++) {
      await push([counter(start, t0 + i * 1000, COUNTER_VALUES[i]), gauge(t0 + i * 1000, 20 + i)]);
    }
    await push([histogram(start, t0 + 2500), counter(start, t0 + 2500, 7, 1)]);
  });

  after(async () => {
    if (prom) await prom.stop();
    if (outrigger) {
      await outrigger.stop().catch(() => {});
      await outrigger.kill();
    }
    if (dir) await removeTempDir(dir);
  });

  it('the cumulative counter, with job/instance/external labels', async () => {
    const last = COUNTER_VALUES.at(-1);
    await waitForOne(
      `it_requests_total{job="${SERVICE}",route="${ROUTE}"}`,
      (v, m) => v === last && m.instance === INSTANCE && m.cluster === 'it' && m.otel_scope_name === 'outrigger-prw-it',
      `it_requests_total == ${last}`,
    );
    // All three points were written, in order.
    await waitForOne(
      `count_over_time(it_requests_total{job="${SERVICE}"}[1m])`,
      (v) => v === COUNTER_VALUES.length,
      `${COUNTER_VALUES.length} samples of it_requests_total`,
    );
  });

  it('histogram_quantile() of the cumulative histogram', async () => {
    await waitForOne(`it_latency_seconds_count{job="${SERVICE}"}`, (v) => v === HIST_TOTAL, `_count == ${HIST_TOTAL}`);
    await waitForOne(
      `it_latency_seconds_sum{job="${SERVICE}"}`,
      (v) => Math.abs(v - 7.5 * HIST_TOTAL) < 1e-9,
      `_sum == ${7.5 * HIST_TOTAL}`,
    );
    await waitForOne(
      `count(it_latency_seconds_bucket{job="${SERVICE}"})`,
      (v) => v === HIST_BOUNDS.length + 1,
      'one series per bucket, +Inf included',
    );
    await waitForOne(
      `histogram_quantile(0.5, sum by (le) (it_latency_seconds_bucket{job="${SERVICE}"}))`,
      (v) => Math.abs(v - 3) < 1e-9,
      'median == 3',
    );
    await waitForOne(
      `histogram_quantile(0.9, sum by (le) (it_latency_seconds_bucket{job="${SERVICE}"}))`,
      (v) => Math.abs(v - 5) < 1e-9,
      'p90 == 5',
    );
  });

  it('target_info carries the other resource attributes', async () => {
    await waitForOne(
      `target_info{job="${SERVICE}",instance="${INSTANCE}"}`,
      (v, m) => v === 1 && m.host_name === 'it-host',
      'target_info{host_name="it-host"} == 1',
    );
  });

  it('the delta counter is dropped, and logged', async () => {
    await waitFor(async () => outrigger.output.includes('it.delta.requests'), {
      timeoutMs: 10000,
      what: 'the drop of the delta counter to be logged',
    });
    assert.deepEqual(await prom.query('it_delta_requests_total'), []);
  });

  it('a point with no recorded value makes the gauge stale', async () => {
    await waitForOne(`it_temperature_celsius{job="${SERVICE}"}`, (v) => v === 22, 'gauge == 22');
    await push([gauge(Date.now(), 0, { stale: true })]);
    await waitFor(async () => (await prom.query(`it_temperature_celsius{job="${SERVICE}"}`)).length === 0, {
      timeoutMs: 30000,
      intervalMs: 250,
      what: 'the gauge to go stale',
    });
  });
});

// Upstream's options, as its README writes them: remote_write_queue,
// max_batch_request_parallelism (several requests per push, sent concurrently),
// translation_strategy, export_created_metric, target_info disabled, and a namespace with
// a character Prometheus does not allow (sanitized).
describe('prometheusremotewrite with upstream options, writing to a real Prometheus', () => {
  let dir;
  let outrigger;
  let prom;
  const push = (metrics) => postOtlpJson(outrigger.ports.otlp, '/v1/metrics', request(metrics));
  const query = (q) => prom.query(q);

  before(async () => {
    dir = await makeTempDir('outrigger-prw-upstream-');
    prom = await PrometheusServer.start({ dir, scrapeInterval: '15s', extraArgs: ['--web.enable-remote-write-receiver'] });
    outrigger = await Outrigger.start({
      name: 'outrigger',
      dir,
      portNames: ['health', 'metrics', 'otlp'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          exporters: {
            prometheusremotewrite: {
              endpoint: `http://${HOST}:${prom.port}/api/v1/write`,
              namespace: 'rw-ns',
              remote_write_queue: { enabled: true, queue_size: 100, num_consumers: 1 },
              max_batch_request_parallelism: 4,
              max_samples_per_request: 2,
              translation_strategy: 'UnderscoreEscapingWithoutSuffixes',
              export_created_metric: { enabled: true },
              target_info: { enabled: false },
              retry_on_failure: { initial_interval: '100ms', max_interval: '1s' },
            },
          },
          pipelines: { metrics: { receivers: ['otlp'], exporters: ['prometheusremotewrite'] } },
        }),
    });
    const t0 = Date.now() - 2000;
    await push([counter(nanos(t0 - 5000), t0, 42), histogram(nanos(t0 - 5000), t0)]);
  });

  after(async () => {
    if (prom) await prom.stop();
    if (outrigger) {
      await outrigger.stop().catch(() => {});
      await outrigger.kill();
    }
    if (dir) await removeTempDir(dir);
  });

  it('every series of the push arrives, under the sanitized namespace and without suffixes', async () => {
    // counter + _created, 5 buckets + _sum + _count + _created: 10 series in 5 requests.
    await waitFor(async () => (await query(`count({job="${SERVICE}",__name__=~"rw_ns_.*"})`))[0]?.value[1] === '10', {
      timeoutMs: 30000,
      intervalMs: 250,
      what: '10 series',
    }).catch(async (e) => {
      throw new Error(`${e.message}: ${JSON.stringify(await query(`{job="${SERVICE}"}`))}\n${outrigger.output}`);
    });
    const [c] = await query(`rw_ns_it_requests{job="${SERVICE}"}`);
    assert.equal(Number(c.value[1]), 42);
    assert.equal((await query(`rw_ns_it_latency_count{job="${SERVICE}"}`))[0].value[1], String(HIST_TOTAL));
    assert.deepEqual(await query('{__name__=~"rw_ns_it_requests_total|rw_ns_it_latency_seconds.*"}'), []);
  });

  it('export_created_metric: the start time in milliseconds; target_info disabled', async () => {
    const [created] = await query(`rw_ns_it_requests_created{job="${SERVICE}"}`);
    const [hcreated] = await query(`rw_ns_it_latency_created{job="${SERVICE}"}`);
    const [sample] = await query(`timestamp(rw_ns_it_requests{job="${SERVICE}"})`);
    assert.ok(created && hcreated, 'the _created series');
    // Both were pushed with start = t0 - 5 s, and the sample's time is t0.
    assert.equal(Number(created.value[1]), Number(hcreated.value[1]));
    assert.equal(Number(created.value[1]) + 5000, Math.round(Number(sample.value[1]) * 1000), JSON.stringify([created, sample]));
    assert.deepEqual(await query('{__name__=~".*target_info"}'), []);
  });
});
