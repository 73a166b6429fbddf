// End to end: attributes, resource, filter and transform in one outrigger, fed by the
// OpenTelemetry JS SDK over OTLP/HTTP, written by the file exporter. Every effect of
// every processor is asserted on the file, and the filter's counters on /metrics.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { SpanKind, SpanStatusCode, ValueType } from '@opentelemetry/api';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import {
  HOST,
  Outrigger,
  collectorConfig,
  makeTempDir,
  metricValue,
  readJsonLines,
  removeTempDir,
  scrubEnv,
  waitFor,
} from '../common/harness.mjs';

scrubEnv(['OTEL_']);

const SEV = { DEBUG: 5, INFO: 9, WARN: 13, ERROR: 17 };
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

function attrs(list) {
  const out = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] =
      v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue ??
      (v.kvlistValue ? attrs(v.kvlistValue.values) : undefined) ?? null;
  }
  return out;
}

function flatten(lines, rKey, sKey, iKey) {
  const out = [];
  for (const line of lines) {
    for (const r of line[rKey] ?? []) {
      for (const s of r[sKey] ?? []) {
        for (const item of s[iKey] ?? []) out.push({ resource: attrs(r.resource?.attributes), item });
      }
    }
  }
  return out;
}

const PROCESSORS = {
  resource: {
    attributes: [
      { key: 'deployment.environment', value: 'e2e', action: 'upsert' },
      { key: 'e2e.secret', action: 'delete' },
    ],
  },
  attributes: {
    actions: [
      { key: 'team', value: 'payments', action: 'insert' },
      { key: 'user.email', action: 'hash' },
    ],
  },
  filter: {
    error_mode: 'ignore',
    traces: {
      span: ['name == "healthcheck"', 'attributes["http.route"] == "/ready"'],
      spanevent: ['IsMatch(name, "^debug")'],
    },
    metrics: { metric: ['name == "e2e.noise"'] },
    logs: { log_record: ['severity_number < SEVERITY_NUMBER_WARN'] },
  },
  transform: {
    error_mode: 'ignore',
    trace_statements: [
      'set(span.attributes["route.class"], "api") where IsMatch(span.name, "^GET /api")',
      'set(span.name, ConvertCase(span.name, "upper")) where span.kind == SPAN_KIND_CLIENT',
      'replace_pattern(span.attributes["db.statement"], "password=[^ ]*", "password=***")',
      'set(span.attributes["env"], resource.attributes["deployment.environment"])',
      {
        context: 'span',
        conditions: ['status.code == STATUS_CODE_ERROR'],
        statements: ['set(attributes["alert"], true)'],
      },
    ],
    metric_statements: [
      'set(metric.description, Concat(["checked:", metric.name], " ")) where metric.name == "e2e.requests"',
      'set(datapoint.attributes["doubled"], datapoint.value_int * 2) where metric.name == "e2e.requests"',
    ],
    log_statements: [
      'merge_maps(log.attributes, ParseJSON(log.body), "upsert") where IsMatch(log.body, "^[{]")',
      'set(log.severity_text, "FAIL") where log.severity_number >= SEVERITY_NUMBER_ERROR',
      'delete_key(log.attributes, "password")',
    ],
  },
};

describe('attributes, resource, filter and transform in one pipeline per signal', () => {
  let dir;
  let col;
  let outFile;

  before(async () => {
    dir = await makeTempDir('outrigger-processors-');
    outFile = path.join(dir, 'out.jsonl');
    col = await Outrigger.start({
      name: 'processors',
      dir,
      portNames: ['health', 'metrics', 'http'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.http}` } } } },
          processors: PROCESSORS,
          exporters: { file: { path: outFile } },
          pipelines: {
            traces: { receivers: ['otlp'], processors: ['resource', 'attributes', 'filter', 'transform'], exporters: ['file'] },
            metrics: { receivers: ['otlp'], processors: ['resource', 'filter', 'transform'], exporters: ['file'] },
            logs: { receivers: ['otlp'], processors: ['resource', 'filter', 'transform'], exporters: ['file'] },
          },
        }),
    });
  });

  after(async () => {
    if (col) await col.stop();
    if (dir) await removeTempDir(dir);
  });

  it('applies every processor to traces, metrics and logs from the JS SDK', async () => {
    const url = (p) => `http://${HOST}:${col.ports.http}${p}`;
    const resource = resourceFromAttributes({ 'service.name': 'shop', 'e2e.secret': 'hide me' });

    // ---- traces ----
    const tp = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: url('/v1/traces') }))] });
    const tracer = tp.getTracer('e2e');
    const api = tracer.startSpan('GET /api/orders', { kind: SpanKind.SERVER, attributes: { 'user.email': 'ann@example.com', 'db.statement': 'connect password=hunter2 now' } });
    api.addEvent('debug: cache miss');
    api.addEvent('order loaded');
    api.setStatus({ code: SpanStatusCode.ERROR });
    api.end();
    tracer.startSpan('healthcheck').end();
    tracer.startSpan('GET /ready', { attributes: { 'http.route': '/ready' } }).end();
    tracer.startSpan('call db', { kind: SpanKind.CLIENT }).end();
    await tp.forceFlush();
    await tp.shutdown();

    // ---- metrics ----
    const mp = new MeterProvider({
      resource,
      readers: [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: url('/v1/metrics') }), exportIntervalMillis: 600000 })],
    });
    const meter = mp.getMeter('e2e');
    meter.createCounter('e2e.requests', { valueType: ValueType.INT }).add(21, { route: '/a' });
    meter.createCounter('e2e.noise').add(1);
    await mp.shutdown(); // exports once (a forceFlush before it would export the cumulative sums again)

    // ---- logs ----
    const lp = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: new OTLPLogExporter({ url: url('/v1/logs') }) })] });
    const logger = lp.getLogger('e2e');
    logger.emit({ severityNumber: SEV.DEBUG, body: 'chatty' });
    logger.emit({ severityNumber: SEV.ERROR, body: '{"user":"bob","password":"x","n":2}' });
    logger.emit({ severityNumber: SEV.WARN, body: 'disk at 91%' });
    await lp.forceFlush();
    await lp.shutdown();

    const lines = await waitFor(
      async () => {
        const l = await readJsonLines(outFile, { partialOk: true });
        const spans = flatten(l, 'resourceSpans', 'scopeSpans', 'spans');
        const metrics = flatten(l, 'resourceMetrics', 'scopeMetrics', 'metrics');
        const logs = flatten(l, 'resourceLogs', 'scopeLogs', 'logRecords');
        return spans.length >= 2 && metrics.length >= 1 && logs.length >= 2 ? l : null;
      },
      { what: 'the file exporter to write spans, metrics and logs' },
    );

    const spans = flatten(lines, 'resourceSpans', 'scopeSpans', 'spans');
    const byName = Object.fromEntries(spans.map((s) => [s.item.name, s]));
    // filter: healthcheck and the /ready route are gone.
    assert.deepEqual(Object.keys(byName).sort(), ['CALL DB', 'GET /api/orders']);
    const apiSpan = byName['GET /api/orders'];
    const a = attrs(apiSpan.item.attributes);
    // resource: upserted and deleted.
    assert.equal(apiSpan.resource['deployment.environment'], 'e2e');
    assert.equal(apiSpan.resource['e2e.secret'], undefined);
    assert.equal(apiSpan.resource['service.name'], 'shop');
    // attributes: inserted and hashed.
    assert.equal(a.team, 'payments');
    assert.equal(a['user.email'], sha256('ann@example.com'));
    // transform: route class, redaction, value from the resource, conditions group.
    assert.equal(a['route.class'], 'api');
    assert.equal(a['db.statement'], 'connect password=*** now');
    assert.equal(a.env, 'e2e');
    assert.equal(a.alert, true);
    // filter: the debug event is gone, the other stays.
    assert.deepEqual((apiSpan.item.events ?? []).map((e) => e.name), ['order loaded']);
    // transform on the client span: upper-cased name, no route class, no alert.
    const db = attrs(byName['CALL DB'].item.attributes);
    assert.equal(db['route.class'], undefined);
    assert.equal(db.alert, undefined);

    const metrics = flatten(lines, 'resourceMetrics', 'scopeMetrics', 'metrics');
    assert.deepEqual(metrics.map((m) => m.item.name), ['e2e.requests']);
    const req = metrics[0].item;
    assert.equal(req.description, 'checked: e2e.requests');
    const point = req.sum.dataPoints[0];
    assert.equal(attrs(point.attributes).doubled, 42);
    assert.equal(metrics[0].resource['deployment.environment'], 'e2e');

    const logs = flatten(lines, 'resourceLogs', 'scopeLogs', 'logRecords');
    assert.equal(logs.length, 2); // the DEBUG record is filtered out
    const err = logs.find((l) => l.item.severityNumber === SEV.ERROR);
    const la = attrs(err.item.attributes);
    assert.equal(err.item.severityText, 'FAIL');
    assert.equal(la.user, 'bob');
    assert.equal(la.n, 2);
    assert.equal(la.password, undefined);
    const warn = logs.find((l) => l.item.severityNumber === SEV.WARN);
    assert.equal(warn.item.severityText ?? '', '');
    assert.equal(warn.item.body.stringValue, 'disk at 91%');

    // The filter counts what it dropped, per condition.
    const samples = await col.metrics();
    const filtered = (signal, reason) =>
      metricValue(samples, 'outrigger_processor_filter_filtered_total', { processor: 'filter', signal, reason });
    assert.equal(filtered('traces', 'span: name == "healthcheck"'), 1);
    assert.equal(filtered('traces', 'span: attributes["http.route"] == "/ready"'), 1);
    assert.equal(filtered('traces', 'spanevent: IsMatch(name, "^debug")'), 1);
    assert.equal(filtered('metrics', 'metric: name == "e2e.noise"'), 1);
    assert.equal(filtered('logs', 'log_record: severity_number < SEVERITY_NUMBER_WARN'), 1);
  });
});
