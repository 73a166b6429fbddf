// Every PromQL expression of every Grafana dashboard in dashboards/*.json, evaluated by a
// real Prometheus over a real pipeline, as a new user would see them:
//
//   OpenTelemetry JS SDK (spans of two services, some failing; log records)
//   StatsD over UDP (counter, gauge, timer)            ──▶ outrigger ──▶ prometheus exporter
//   an application's /metrics (counter, gauge, histogram)   (k8sattributes in sidecar mode,
//                                                            span_metrics, batch, an
//                                                            otlphttp exporter with a queue)
//   Prometheus (Debian's) scrapes the exporter (job outrigger-gateway-exporter, as in
//   k8s/overlays/prometheus) and outrigger's own metrics (job outrigger).
//
// The dashboard variables are resolved as Grafana would (label_values() through the
// label values API, "All" → the variable's allValue, textboxes → their value), repeated
// panels are evaluated once per value of their variable, $__rate_interval and friends get
// fixed values, and each expression must parse and return at least one series through
// /api/v1/query. A variable with no value fails too.
//
// The whole run is done twice: with outrigger's own metric names and with
// service.telemetry.metrics.naming: otelcol (upstream's names), which the dashboards
// read as well; each run also checks the /metrics endpoint itself: upstream's names in
// otelcol mode, and no series for a signal a component does not carry.
//
// npm dependencies: `npm ci --prefix tests/dashboards` (OpenTelemetry JS SDK).
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { HOST, Outrigger, collectorConfig, httpGet, makeTempDir, removeTempDir, waitFor } from '../common/harness.mjs';
import { PrometheusServer } from '../common/prometheus.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DASHBOARDS = path.resolve(here, '../../dashboards');
const POD = 'checkout-7d9f8b6c5-x2x4z';
const EXPORTER_JOB = 'outrigger-gateway-exporter';
// Grafana's built-in interval variables: fixed here (scrapes every 1 s).
const BUILTINS = { $__rate_interval: '15s', $__interval: '5s', $__range: '1m' };

// ------------------------------------------------------------------ the application

/** A tiny application /metrics endpoint: a counter, a gauge and a histogram that move. */
function startAppMetrics() {
  let n = 0;
  const server = http.createServer((req, res) => {
    n++;
    const b = [0.05, 0.1, 0.25, 0.5, 1];
    const counts = b.map((_, i) => (i + 1) * n);
    const text = [
      '# TYPE app_jobs_processed_total counter',
      `app_jobs_processed_total{queue="emails"} ${10 * n}`,
      '# TYPE app_queue_depth gauge',
      `app_queue_depth{queue="emails"} ${n % 7}`,
      '# TYPE app_job_duration_seconds histogram',
      ...b.map((le, i) => `app_job_duration_seconds_bucket{le="${le}"} ${counts[i]}`),
      `app_job_duration_seconds_bucket{le="+Inf"} ${counts.at(-1) + n}`,
      `app_job_duration_seconds_sum ${0.3 * n * 16}`,
      `app_job_duration_seconds_count ${counts.at(-1) + n}`,
      '',
    ].join('\n');
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(text);
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve(server)));
}

/** An OTLP/HTTP backend that accepts everything (the otlphttp exporter's peer). */
function startSink() {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
      res.end();
    });
  });
  return new Promise((resolve) => server.listen(0, HOST, () => resolve(server)));
}

// ------------------------------------------------------------------ variables

/** label_values(label) or label_values(selector, label) through the HTTP API. */
async function labelValues(prom, query) {
  const m = /^label_values\((.*)\)$/s.exec(query.trim());
  if (!m) throw new Error(`unsupported variable query ${query}`);
  const args = m[1];
  const comma = args.lastIndexOf(',');
  const label = (comma < 0 ? args : args.slice(comma + 1)).trim();
  const match = comma < 0 ? null : args.slice(0, comma).trim();
  let p = `/api/v1/label/${encodeURIComponent(label)}/values`;
  if (match) p += `?match[]=${encodeURIComponent(match)}`;
  return prom.api(p);
}

const escapeRegex = (s) => s.replace(/[|\\{}()[\]^$+*?.]/g, '\\$&');

function substitute(text, values) {
  // Longest names first, so that $pod does not eat $pod_name.
  let out = text;
  for (const [k, v] of Object.entries(BUILTINS)) out = out.split(k).join(v);
  for (const name of Object.keys(values).sort((a, b) => b.length - a.length)) {
    out = out.split(`\${${name}}`).join(values[name]).split(`$${name}`).join(values[name]);
  }
  return out;
}

/**
 * Resolves a dashboard's variables in order. Returns {values: name → substitution for
 * "All" (or the single value), all: name → [every value]}.
 */
async function resolveVariables(prom, dashboard) {
  const values = {};
  const all = {};
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type === 'datasource') continue;
    if (v.type === 'textbox' || v.type === 'constant' || v.type === 'custom') {
      const val = typeof v.query === 'string' ? v.query.split(',')[0] : v.current?.value;
      values[v.name] = val;
      all[v.name] = [val];
      continue;
    }
    assert.equal(v.type, 'query', `${dashboard.uid}: variable ${v.name} of type ${v.type}`);
    const q = substitute(typeof v.query === 'string' ? v.query : v.query.query, values);
    let vals = await labelValues(prom, q);
    if (v.regex) vals = vals.filter((x) => new RegExp(v.regex).test(x));
    assert.ok(vals.length > 0, `${dashboard.uid}: variable ${v.name} has no value (${q})`);
    all[v.name] = vals;
    values[v.name] = v.includeAll ? (v.allValue ?? `(${vals.map(escapeRegex).join('|')})`) : vals[0];
  }
  return { values, all };
}

/** Every (panel, target, expression) of a dashboard, repeated panels once per value. */
function expressions(dashboard, vars) {
  const out = [];
  const walk = (panels) => {
    for (const p of panels ?? []) {
      if (p.panels) walk(p.panels);
      for (const t of p.targets ?? []) {
        if (!t.expr) continue;
        const reps = p.repeat ? vars.all[p.repeat] : [null];
        for (const r of reps) {
          const values = r === null ? vars.values : { ...vars.values, [p.repeat]: r };
          out.push({
            what: `${dashboard.uid} / ${substitute(p.title, values)} / ${t.refId}`,
            expr: substitute(t.expr, values),
          });
        }
      }
    }
  };
  walk(dashboard.panels);
  return out;
}

// ------------------------------------------------------------------ the run

// Series of our own metrics that can occur in this pipeline, and some that cannot.
const SELF_METRICS = {
  outrigger: {
    present: [
      'outrigger_receiver_accepted_spans_total{receiver="otlp",transport="http"}',
      'outrigger_receiver_accepted_metric_points_total{receiver="statsd",transport="udp"}',
      'outrigger_exporter_sent_log_records_total{exporter="otlphttp/sink"}',
      'outrigger_processor_dropped_log_records_total{processor="batch",signal="logs"} 0',
      'outrigger_processor_dropped_log_records_total{processor="transform/severity",signal="logs"} 0',
    ],
    absent: [
      /outrigger_receiver_(accepted|refused)_(spans|log_records)_total\{receiver="statsd"/,
      /outrigger_processor_dropped_(spans|metric_points)_total\{processor="batch",signal="logs"/,
      /outrigger_processor_dropped_(spans|metric_points)_total\{processor="transform\/severity"/,
      /outrigger_exporter_\w+_(spans|metric_points)_total\{exporter="otlphttp\/sink"/,
      /otelcol_/,
    ],
  },
  otelcol: {
    // As upstream's Collector names them (v0.153+: no _total, no unit suffix).
    present: [
      '# TYPE otelcol_receiver_accepted_spans counter',
      'otelcol_receiver_accepted_spans{receiver="otlp",transport="http"}',
      'otelcol_receiver_refused_spans{receiver="otlp",transport="http"}',
      'otelcol_receiver_accepted_log_records{receiver="otlp",transport="http"}',
      'otelcol_receiver_accepted_metric_points{receiver="statsd",transport="udp"}',
      'otelcol_exporter_sent_log_records{exporter="otlphttp/sink"}',
      'otelcol_exporter_send_failed_log_records{exporter="otlphttp/sink"} 0',
      'otelcol_exporter_enqueue_failed_log_records{exporter="otlphttp/sink"} 0',
      'otelcol_exporter_queue_size{exporter="otlphttp/sink"}',
      'otelcol_exporter_queue_capacity{exporter="otlphttp/sink"} 1000',
      'otelcol_processor_dropped_log_records{processor="transform/severity"} 0',
      'otelcol_processor_batch_batch_send_size_bucket{processor="batch",le="10"}',
      'otelcol_processor_batch_timeout_trigger_send{processor="batch"}',
      '# TYPE otelcol_process_uptime counter',
      '# TYPE otelcol_process_cpu_seconds counter',
      '# TYPE otelcol_process_memory_rss gauge',
    ],
    absent: [
      /otelcol_\w+_total[{ ]/,
      /otelcol_receiver_\w+_(spans|log_records)\{receiver="statsd"/,
      /otelcol_processor_dropped_(spans|metric_points)\{processor="transform\/severity"/,
      /otelcol_exporter_\w+_(spans|metric_points)\{exporter="otlphttp\/sink"/,
      /outrigger_receiver_accepted_/,
      /outrigger_process_uptime/,
      /otelcol_[^{\n]*\{[^}]*signal="/,
    ],
  },
};

for (const naming of ['outrigger', 'otelcol'])
describe(`dashboards (${naming} naming): every panel query returns data from a real Prometheus`, () => {
  let dir;
  let col;
  let prom;
  let app;
  let sink;
  let statsd;
  let timer;
  let tracers = [];
  let loggerProvider;

  before(async () => {
    dir = await makeTempDir('outrigger-dashboards-');
    app = await startAppMetrics();
    sink = await startSink();
    // k8sattributes in sidecar mode reads the Pod's identity from these (Downward API).
    Object.assign(process.env, {
      K8S_POD_NAME: POD,
      K8S_NAMESPACE_NAME: 'shop',
      K8S_NODE_NAME: 'node-1',
      K8S_POD_UID: '6b1f3a1e-0000-4000-8000-000000000001',
      K8S_POD_IP: '10.244.0.10',
    });
    col = await Outrigger.start({
      name: 'dashboards',
      dir,
      ports: { health: 'tcp', metrics: 'tcp', http: 'tcp', statsd: 'udp', prom: 'tcp' },
      makeConfig: (ports) => {
        const cfg = collectorConfig(ports, {
          receivers: {
            otlp: { protocols: { http: { endpoint: `${HOST}:${ports.http}` } } },
            statsd: {
              endpoint: `${HOST}:${ports.statsd}`,
              aggregation_interval: '1s',
              is_monotonic_counter: true,
              timer_histogram_mapping: [
                { statsd_type: 'timing', observer_type: 'histogram', histogram: { explicit_buckets: [5, 10, 25, 50, 100, 250, 500, 1000] } },
              ],
            },
            prometheus: {
              config: {
                scrape_configs: [
                  { job_name: 'app', scrape_interval: '1s', static_configs: [{ targets: [`${HOST}:${app.address().port}`] }] },
                ],
              },
            },
          },
          processors: {
            k8sattributes: { mode: 'sidecar', sidecar: { labels_file: '', annotations_file: '' } },
            batch: { timeout: '200ms' },
            // The logs dashboard's panel by severity: severity_text as the attribute the
            // count connector splits by, on a pipeline of its own (the exported logs keep
            // their attributes).
            'transform/severity': {
              log_statements: [{ context: 'log', statements: ['set(attributes["severity"], severity_text) where severity_text != ""'] }],
            },
          },
          exporters: {
            prometheus: { endpoint: `${HOST}:${ports.prom}`, resource_to_telemetry_conversion: { enabled: true } },
            'otlphttp/sink': { endpoint: `http://${HOST}:${sink.address().port}`, sending_queue: { queue_size: 1000 } },
            // Spans leave through an exporter of their own: otlphttp/sink carries logs only
            // (and so has no span series).
            'otlphttp/traces': { endpoint: `http://${HOST}:${sink.address().port}` },
          },
          pipelines: {
            traces: { receivers: ['otlp'], processors: ['k8sattributes', 'batch'], exporters: ['spanmetrics', 'otlphttp/traces'] },
            metrics: {
              receivers: ['otlp', 'statsd', 'prometheus', 'spanmetrics', 'count'],
              processors: ['k8sattributes', 'batch'],
              exporters: ['prometheus'],
            },
            logs: { receivers: ['otlp'], processors: ['k8sattributes', 'batch'], exporters: ['otlphttp/sink'] },
            'logs/count': { receivers: ['otlp'], processors: ['k8sattributes', 'transform/severity'], exporters: ['count'] },
          },
        });
        cfg.connectors = {
          spanmetrics: { metrics_flush_interval: '1s' },
          count: { logs: { 'log.record.count': { attributes: [{ key: 'severity', default_value: 'UNSPECIFIED' }] } } },
        };
        cfg.service.telemetry.metrics.naming = naming;
        return cfg;
      },
    });
    prom = await PrometheusServer.start({
      dir,
      jobs: {
        // As the kubernetes-pods job of k8s/overlays/prometheus labels a sidecar's metrics.
        outrigger: { target: `${HOST}:${col.ports.metrics}`, labels: { namespace: 'shop', pod: POD } },
        [EXPORTER_JOB]: `${HOST}:${col.ports.prom}`,
      },
      scrapeInterval: '1s',
    });

    // The application: spans of two services (server spans, some failing, internal spans),
    // log records, StatsD metrics; every 250 ms until the end of the test.
    const url = (p) => `http://${HOST}:${col.ports.http}${p}`;
    for (const service of ['checkout', 'payments']) {
      tracers.push(
        new BasicTracerProvider({
          resource: resourceFromAttributes({ 'service.name': service }),
          spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: url('/v1/traces') }), { scheduledDelayMillis: 200 })],
        }),
      );
    }
    loggerProvider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout' }),
      processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: url('/v1/logs') }), scheduledDelayMillis: 200 })],
    });
    const logger = loggerProvider.getLogger('dashboards-e2e');
    statsd = dgram.createSocket('udp4');
    let tick = 0;
    const send = () => {
      tick++;
      const now = Date.now();
      for (const [i, tp] of tracers.entries()) {
        const tracer = tp.getTracer('dashboards-e2e');
        for (const [name, ms] of [
          ['GET /cart', 20 + (tick % 5) * 10],
          ['POST /pay', 120 + (tick % 3) * 100],
        ]) {
          const s = tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: now - ms });
          if ((tick + i) % 4 === 0) s.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
          s.end(now);
        }
        tracer.startSpan('render', { kind: SpanKind.INTERNAL, startTime: now - 5 }).end(now);
      }
      logger.emit({ severityText: tick % 5 ? 'INFO' : 'ERROR', severityNumber: tick % 5 ? 9 : 17, body: `tick ${tick}` });
      const lines = ['shop.orders:1|c|#route:/pay', `shop.inflight:${tick % 9}|g`, `shop.request.latency:${10 + (tick % 20) * 15}|ms`];
      statsd.send(lines.join('\n'), col.ports.statsd, HOST);
    };
    send();
    timer = setInterval(send, 250);

    // Data in Prometheus from every source before the queries run.
    for (const q of [
      `traces_span_metrics_calls_total{status_code="STATUS_CODE_ERROR", k8s_pod_name="${POD}"}`,
      'traces_span_metrics_duration_milliseconds_bucket',
      `app_jobs_processed_total{k8s_pod_name="${POD}"}`,
      'shop_orders_total',
      '{__name__=~"shop_request_latency.*_bucket"}',
      '{__name__=~"outrigger_receiver_accepted_log_records_total|otelcol_receiver_accepted_log_records"} > 0',
      `log_record_count_total{severity="ERROR", k8s_pod_name="${POD}"}`,
      '{__name__=~"outrigger_exporter_sent_log_records_total|otelcol_exporter_sent_log_records"} > 0',
      '{__name__=~"outrigger_exporter_queue_capacity|otelcol_exporter_queue_capacity"} > 0',
    ]) {
      await waitFor(async () => (await prom.query(q)).length > 0, { timeoutMs: 60000, intervalMs: 500, what: `Prometheus to hold ${q}` });
    }
  });

  after(async () => {
    clearInterval(timer);
    statsd?.close();
    for (const tp of tracers) await tp.shutdown().catch(() => {});
    await loggerProvider?.shutdown().catch(() => {});
    await prom?.stop();
    await col?.stop();
    app?.close();
    sink?.close();
    if (dir) await removeTempDir(dir);
  });

  const files = fs
    .readdirSync(DASHBOARDS)
    .filter((f) => f.endsWith('.json'))
    .sort();

  it('finds the four dashboards', () => {
    assert.deepEqual(files, ['app-metrics.json', 'logs.json', 'outrigger.json', 'red.json']);
  });

  for (const file of files) {
    it(`${file}: every expression parses and returns data`, async () => {
      const dashboard = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8'));
      const vars = await resolveVariables(prom, dashboard);
      const exprs = expressions(dashboard, vars);
      assert.ok(exprs.length > 0, `${file} has no queries`);
      const failures = [];
      for (const { what, expr } of exprs) {
        assert.ok(!/\$[A-Za-z_{]/.test(expr), `${what}: unresolved variable in ${expr}`);
        // A rate() needs two samples in its window: wait for that, then require data.
        try {
          await waitFor(async () => (await prom.query(expr)).length > 0, { timeoutMs: 30000, intervalMs: 500, what });
        } catch (e) {
          let detail = e.message;
          try {
            await prom.query(expr);
          } catch (qe) {
            detail = qe.message; // a parse or execution error
          }
          failures.push(`${what}: ${detail}\n    ${expr}`);
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of ${exprs.length} queries failed`);
      console.log(`${file}: ${exprs.length} queries, all returned data`);
    });
  }

  it(`/metrics in ${naming} naming: the expected names, and no series a component cannot have`, async () => {
    const r = await httpGet(`http://${HOST}:${col.ports.metrics}/metrics`);
    assert.equal(r.status, 200);
    for (const want of SELF_METRICS[naming].present) assert.ok(r.text.includes(want), `missing ${want}\n${r.text}`);
    for (const bad of SELF_METRICS[naming].absent) assert.doesNotMatch(r.text, bad);
  });

  it('red.json links every per-service and per-operation panel to Jaeger', () => {
    const red = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, 'red.json'), 'utf8'));
    const panels = red.panels.filter((p) => p.type !== 'row');
    for (const p of panels) {
      const links = [...(p.fieldConfig?.defaults?.links ?? []), ...(p.fieldConfig?.overrides ?? []).flatMap((o) => o.properties.flatMap((x) => (x.id === 'links' ? x.value : [])))];
      assert.ok(links.some((l) => l.url.startsWith('${jaeger_url}/search?service=')), `${p.title}: no Jaeger link`);
    }
  });

  it('the metrics the exporter serves carry the Pod from k8sattributes', async () => {
    const r = await httpGet(`http://${HOST}:${col.ports.prom}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.text, new RegExp(`traces_span_metrics_calls_total\\{[^}]*k8s_pod_name="${POD}"`));
  });
});
