// End to end: the OpenTelemetry JS SDK sends spans of two services over OTLP/HTTP to one
// outrigger (traces → span_metrics → metrics → prometheus exporter), a real Prometheus
// (Debian package `prometheus`) scrapes the exporter every second, and the queries a
// Grafana RED panel runs — rate of calls, error ratio, histogram_quantile of duration, by
// service and by span name — give the values computed here from the spans sent.
//
// Exactness: the spans are sent in two phases. Phase A makes every series exist (each
// counter at least 1); once Prometheus holds all of them, phase B adds more. With F the
// last scrape before phase B and L a scrape after it (every series has a sample at both),
// a window ending at L and starting 1 ms before F makes Prometheus's rate() the slope
// between those two samples: (B count) / (L − F) (extrapolation reaches only the 1 ms). So
// the rates, ratios and quantiles below are exact, up to that 1 ms (tolerance 1e-3).
//
// Processes and temp dirs are always removed; every wait polls until a deadline.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { HOST, Outrigger, collectorConfig, makeTempDir, metricValue, removeTempDir, scrubEnv, waitFor } from '../common/harness.mjs';
import { PrometheusServer } from '../common/prometheus.mjs';

scrubEnv(['OTEL_']);

const JOB = 'spanmetrics';
const CALLS = 'traces_span_metrics_calls_total';
const BUCKET = 'traces_span_metrics_duration_milliseconds_bucket';
const BOUNDS = [2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000]; // upstream's default, ms
const OK = 'STATUS_CODE_UNSET';
const ERR = 'STATUS_CODE_ERROR';

// The spans: [service, span name, kind, error?, duration ms, count] per phase.
const PHASE_A = [
  ['frontend', 'GET /cart', SpanKind.SERVER, false, 3, 1],
  ['frontend', 'GET /cart', SpanKind.SERVER, false, 30, 1],
  ['frontend', 'GET /cart', SpanKind.SERVER, true, 700, 1],
  ['frontend', 'GET /checkout', SpanKind.SERVER, false, 5, 1],
  ['cart', 'SELECT cart', SpanKind.CLIENT, false, 2, 1],
  ['cart', 'SELECT cart', SpanKind.CLIENT, true, 40, 1],
];
const PHASE_B = [
  ['frontend', 'GET /cart', SpanKind.SERVER, false, 3, 4],
  ['frontend', 'GET /cart', SpanKind.SERVER, false, 30, 3],
  ['frontend', 'GET /cart', SpanKind.SERVER, false, 300, 1],
  ['frontend', 'GET /cart', SpanKind.SERVER, true, 700, 2],
  ['frontend', 'GET /checkout', SpanKind.SERVER, false, 5, 5],
  ['frontend', 'GET /checkout', SpanKind.SERVER, false, 60, 5],
  ['cart', 'SELECT cart', SpanKind.CLIENT, false, 2, 6],
  ['cart', 'SELECT cart', SpanKind.CLIENT, false, 8, 2],
  ['cart', 'SELECT cart', SpanKind.CLIENT, true, 40, 2],
];
const KIND = { [SpanKind.SERVER]: 'SPAN_KIND_SERVER', [SpanKind.CLIENT]: 'SPAN_KIND_CLIENT' };

const close = (a, b, rel = 1e-3) => Math.abs(a - b) <= rel * Math.max(1e-9, Math.abs(b));
const total = (phase, pred) => phase.filter(pred).reduce((n, s) => n + s[5], 0);

/** Prometheus's histogram_quantile (bucketQuantile) over per-bucket counts and a last +Inf bucket. */
function histogramQuantile(q, bounds, counts) {
  const cum = counts.map((_, i) => counts.slice(0, i + 1).reduce((a, b) => a + b, 0));
  const rank = q * cum.at(-1);
  let b = 0;
  while (b < cum.length - 1 && cum[b] < rank) b++;
  if (b === cum.length - 1) return bounds.at(-1);
  const start = b === 0 ? 0 : bounds[b - 1];
  const below = b === 0 ? 0 : cum[b - 1];
  return start + (bounds[b] - start) * ((rank - below) / (cum[b] - below));
}

/** Per-bucket counts (BOUNDS, then +Inf) of the durations of `spans`. */
function bucketCounts(spans) {
  const counts = new Array(BOUNDS.length + 1).fill(0);
  for (const s of spans) {
    const i = BOUNDS.findIndex((b) => s[4] <= b);
    counts[i === -1 ? BOUNDS.length : i] += s[5];
  }
  return counts;
}

const hr = (ms) => [Math.floor(ms / 1000), (ms % 1000) * 1e6];

describe('span_metrics → prometheus exporter → a real Prometheus: the RED queries', () => {
  let dir;
  let col;
  let prom;
  const providers = {};
  let F;
  let L;
  let windowMs;

  const diagnostics = () =>
    `\n--- outrigger ---\n${col?.output.slice(-3000) ?? ''}\n--- prometheus ---\n${prom?.output.slice(-2000) ?? ''}`;
  const waitUntil = (probe, what, timeoutMs = 30000) =>
    waitFor(probe, { timeoutMs, intervalMs: 100, what }).catch((e) => {
      throw new Error(`${e.message}${diagnostics()}`);
    });

  async function send(phase) {
    let t = Date.now() - 60000; // past, distinct start times
    for (const [service, name, kind, error, ms, count] of phase) {
      const tracer = providers[service].getTracer('e2e-red');
      for (let i = 0; i < count; i++, t += 1000) {
        const span = tracer.startSpan(name, { kind, startTime: hr(t), attributes: { 'http.method': 'GET' } });
        if (error) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end(hr(t + ms));
      }
    }
    await Promise.all(Object.values(providers).map((p) => p.forceFlush()));
  }

  // The calls counter of every series, as Prometheus has it now: {"svc|span|status": value}.
  async function callsNow() {
    const out = {};
    for (const s of await prom.query(`${CALLS}{job="${JOB}"}`)) {
      out[`${s.metric.service_name}|${s.metric.span_name}|${s.metric.status_code}`] = Number(s.value[1]);
    }
    return out;
  }
  const expectedCalls = (phases) => {
    const out = {};
    for (const [service, name, , error, , count] of phases.flat()) {
      const k = `${service}|${name}|${error ? ERR : OK}`;
      out[k] = (out[k] ?? 0) + count;
    }
    return out;
  };

  // Raw samples of every calls and bucket series over the last 10 minutes.
  async function samples() {
    const data = await prom.api(`/api/v1/query?query=${encodeURIComponent(`{__name__=~"${CALLS}|${BUCKET}",job="${JOB}"}[10m]`)}`);
    assert.equal(data.resultType, 'matrix');
    return data.result.map((r) => ({ metric: r.metric, values: r.values.map(([t, v]) => [Number(t), Number(v)]) }));
  }

  async function one(q) {
    const res = await prom.query(q, { time: L });
    assert.equal(res.length, 1, `${q}: ${JSON.stringify(res)}`);
    return Number(res[0].value[1]);
  }
  async function byLabels(q, labels) {
    const res = await prom.query(q, { time: L });
    const out = {};
    for (const s of res) out[labels.map((l) => s.metric[l]).join('|')] = Number(s.value[1]);
    return out;
  }

  before(async () => {
    dir = await makeTempDir('outrigger-spanmetrics-e2e-');
    prom = await PrometheusServer.start({ dir, scrapeInterval: '1s', lifecycle: true });
    col = await Outrigger.start({
      name: 'outrigger',
      dir,
      portNames: ['health', 'metrics', 'otlp', 'prom'],
      makeConfig: (ports) => {
        const cfg = collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          exporters: { prometheus: { endpoint: `${HOST}:${ports.prom}` } },
          pipelines: {
            traces: { receivers: ['otlp'], exporters: ['span_metrics'] },
            metrics: { receivers: ['span_metrics'], exporters: ['prometheus'] },
          },
        });
        cfg.connectors = { span_metrics: { metrics_flush_interval: '300ms', dimensions: [{ name: 'http.method' }] } };
        return cfg;
      },
    });
    await prom.reload({ jobs: { [JOB]: `${HOST}:${col.ports.prom}` }, scrapeInterval: '1s' });
    await waitUntil(async () => (await prom.query(`up{job="${JOB}"}`)).some((s) => s.value[1] === '1'), 'the exporter to be scraped');

    const url = `http://${HOST}:${col.ports.otlp}/v1/traces`;
    for (const service of ['frontend', 'cart']) {
      providers[service] = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': `${service}-1` }),
        spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url }))],
      });
    }

    // Phase A, until Prometheus holds every series with its phase-A count.
    await send(PHASE_A);
    const wantA = expectedCalls([PHASE_A]);
    await waitUntil(async () => deepEq(await callsNow(), wantA), 'phase A in Prometheus');
    const seenA = Date.now() / 1000;
    // Phase B, until Prometheus holds the totals, and one more scrape after that.
    await send(PHASE_B);
    const wantAB = expectedCalls([PHASE_A, PHASE_B]);
    await waitUntil(async () => deepEq(await callsNow(), wantAB), 'phase B in Prometheus');
    const seenB = Date.now() / 1000;
    await waitUntil(async () => (await samples()).every((s) => s.values.at(-1)[0] > seenB), 'a scrape after phase B');

    // F: the last scrape at or before phase A was seen; L: the last scrape now. Every
    // series has a sample at both (each scrape gives all of them), with its A and A+B count.
    const all = await samples();
    F = Math.max(...all.map((s) => Math.max(...s.values.map(([t]) => t).filter((t) => t <= seenA))));
    L = Math.min(...all.map((s) => s.values.at(-1)[0]));
    for (const s of all) {
      const ts = s.values.map(([t]) => t);
      assert.ok(ts.includes(F) && ts.includes(L), `${JSON.stringify(s.metric)} has samples at F=${F} and L=${L}`);
    }
    for (const s of all.filter((x) => x.metric.__name__ === CALLS)) {
      const k = `${s.metric.service_name}|${s.metric.span_name}|${s.metric.status_code}`;
      assert.equal(s.values.find(([t]) => t === F)[1], wantA[k], `${k} at F`);
      assert.equal(s.values.find(([t]) => t === L)[1], wantAB[k], `${k} at L`);
    }
    windowMs = Math.round((L - F) * 1000) + 1;
  });

  after(async () => {
    await Promise.all(Object.values(providers).map((p) => p.shutdown().catch(() => {})));
    if (col) {
      await col.stop().catch(() => {});
      await col.kill();
    }
    if (prom) await prom.stop();
    if (dir) await removeTempDir(dir);
  });

  it('names and labels are what Grafana and Jaeger query', async () => {
    const res = await prom.query(`${CALLS}{service_name="frontend",span_name="GET /cart",status_code="${ERR}"}`, { time: L });
    assert.equal(res.length, 1);
    const m = res[0].metric;
    assert.equal(m.span_kind, 'SPAN_KIND_SERVER');
    assert.equal(m.http_method, 'GET');
    assert.equal(m.job, JOB);
    assert.equal(m.exported_job, 'frontend'); // from the resource's service.name
    assert.equal(Number(res[0].value[1]), 3);
    // The histogram: upstream's default buckets in ms, count = calls.
    const les = (await prom.query(`${BUCKET}{service_name="cart",status_code="${OK}"}`, { time: L })).map((s) => s.metric.le);
    assert.deepEqual(les.sort(), [...BOUNDS.map(String), '+Inf'].sort());
    assert.equal(await one(`traces_span_metrics_duration_milliseconds_count{service_name="cart",status_code="${ERR}"}`), 3);
    assert.equal(await one(`traces_span_metrics_duration_milliseconds_sum{service_name="cart",status_code="${ERR}"}`), 120);
    // Every span counted once.
    const own = await col.metrics();
    const sent = total([...PHASE_A, ...PHASE_B], () => true);
    assert.equal(metricValue(own, 'outrigger_connector_span_metrics_spans_total', { connector: 'span_metrics' }), sent);
  });

  it('rate of calls by service and by span name', async () => {
    const secs = (L - F);
    const bySvc = await byLabels(`sum by (service_name) (rate(${CALLS}[${windowMs}ms]))`, ['service_name']);
    assert.deepEqual(Object.keys(bySvc).sort(), ['cart', 'frontend']);
    for (const svc of ['cart', 'frontend']) {
      const want = total(PHASE_B, (s) => s[0] === svc) / secs;
      assert.ok(close(bySvc[svc], want), `${svc}: ${bySvc[svc]} vs ${want}`);
    }
    const bySpan = await byLabels(`sum by (service_name, span_name) (rate(${CALLS}[${windowMs}ms]))`, ['service_name', 'span_name']);
    for (const [svc, name] of [['frontend', 'GET /cart'], ['frontend', 'GET /checkout'], ['cart', 'SELECT cart']]) {
      const want = total(PHASE_B, (s) => s[0] === svc && s[1] === name) / secs;
      assert.ok(close(bySpan[`${svc}|${name}`], want), `${svc} ${name}: ${bySpan[`${svc}|${name}`]} vs ${want}`);
    }
    // Jaeger's Monitor tab: server spans only.
    const server = await one(`sum(rate(${CALLS}{service_name="frontend",span_kind="SPAN_KIND_SERVER"}[${windowMs}ms]))`);
    assert.ok(close(server, total(PHASE_B, (s) => s[0] === 'frontend') / secs));
  });

  it('error ratio by service and by span name', async () => {
    const ratio = (by) =>
      `sum by (${by}) (rate(${CALLS}{status_code="${ERR}"}[${windowMs}ms])) / sum by (${by}) (rate(${CALLS}[${windowMs}ms]))`;
    const bySvc = await byLabels(ratio('service_name'), ['service_name']);
    // frontend: 2 errors of 20 calls in phase B; cart: 2 of 10.
    assert.ok(close(bySvc.frontend, 2 / 20), `frontend ${bySvc.frontend}`);
    assert.ok(close(bySvc.cart, 2 / 10), `cart ${bySvc.cart}`);
    const bySpan = await byLabels(ratio('service_name, span_name'), ['service_name', 'span_name']);
    assert.ok(close(bySpan['frontend|GET /cart'], 2 / 10), `GET /cart ${bySpan['frontend|GET /cart']}`);
    assert.equal(bySpan['frontend|GET /checkout'], undefined); // no error series: no ratio, as in Grafana
  });

  it('histogram_quantile of duration by service and span name', async () => {
    for (const [svc, name] of [['frontend', 'GET /cart'], ['frontend', 'GET /checkout'], ['cart', 'SELECT cart']]) {
      const counts = bucketCounts(PHASE_B.filter((s) => s[0] === svc && s[1] === name));
      for (const q of [0.5, 0.9, 0.99]) {
        const got = await one(
          `histogram_quantile(${q}, sum by (le, service_name, span_name) (rate(${BUCKET}{service_name="${svc}",span_name="${name}"}[${windowMs}ms])))`,
        );
        const want = histogramQuantile(q, BOUNDS, counts);
        assert.ok(close(got, want), `${svc} ${name} p${q * 100}: ${got} vs ${want}`);
      }
    }
    // By service (all its spans).
    const got = await one(`histogram_quantile(0.9, sum by (le, service_name) (rate(${BUCKET}{service_name="cart"}[${windowMs}ms])))`);
    assert.ok(close(got, histogramQuantile(0.9, BOUNDS, bucketCounts(PHASE_B.filter((s) => s[0] === 'cart')))));
  });
});

function sortKeys(o) {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
function deepEq(a, b) {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
