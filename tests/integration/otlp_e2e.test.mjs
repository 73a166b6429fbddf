// End to end: the OpenTelemetry JS SDK sends traces, metrics and logs over OTLP/gRPC,
// OTLP/HTTP protobuf and OTLP/HTTP JSON to outrigger A (otlp → batch → otlp exporter),
// which forwards over gRPC to outrigger B (otlp → file). B's file must then hold every
// item exactly once, intact.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, ValueType, trace } from '@opentelemetry/api';
import { OTLPLogExporter as LogExporterGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as LogExporterJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogExporterProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricExporterGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricExporterJson } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricExporterProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TraceExporterGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TraceExporterJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceExporterProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

import {
  HOST,
  Outrigger,
  collectorConfig,
  makeTempDir,
  metricValue,
  readJsonLines,
  removeTempDir,
  scrubOtelEnv,
  waitFor,
} from './lib/harness.mjs';
import {
  attrsToObject,
  dataPoints,
  flattenLogs,
  flattenMetrics,
  flattenSpans,
  hrToNanos,
  rawAttr,
  sdkPointCount,
  u64,
} from './lib/otlp_json.mjs';

scrubOtelEnv();

const EXPORT_SUCCESS = 0; // ExportResultCode.SUCCESS
const SEV_WARN = 13; // SeverityNumber.WARN
const SEV_ERROR = 17; // SeverityNumber.ERROR
const OTLP_KIND = { [SpanKind.INTERNAL]: 1, [SpanKind.SERVER]: 2, [SpanKind.CLIENT]: 3 };
const TRACER = { name: 'outrigger-e2e-tracer', version: '1.2.3' };
const METER = { name: 'outrigger-e2e-meter', version: '4.5.6' };
const LOGGER = { name: 'outrigger-e2e-logger', version: '7.8.9' };
const HIST_BOUNDS = [10, 100, 1000];
const HIST_VALUES = [5, 50, 50, 500, 5000];
const RUN_ID = randomBytes(8).toString('hex');
const UNICODE = 'héllo "quoted" \\ back\nslash ✓ 日本';

// k scales the metric values so a point landing under the wrong resource is caught.
// id names the data (resource, span names); protocol picks the SDK exporters.
const TRANSPORTS = [
  { id: 'grpc', protocol: 'grpc', k: 1, receiverTransport: 'grpc' },
  { id: 'http-proto', protocol: 'http-proto', k: 2, receiverTransport: 'http' },
  { id: 'http-json', protocol: 'http-json', k: 3, receiverTransport: 'http' },
];
const SPANS_PER_TRANSPORT = 3;
const LOGS_PER_TRANSPORT = 2;
const POINTS_PER_TRANSPORT = 5; // counter ×2 (two attribute sets), up-down ×1, histogram ×1, gauge ×1

function resourceAttrs(t) {
  return {
    'service.name': `outrigger-e2e-${t.id}`,
    'e2e.transport': t.id,
    'e2e.run_id': RUN_ID,
    'e2e.int': 42,
    'e2e.negative': -7,
    'e2e.max_safe_int': Number.MAX_SAFE_INTEGER,
    'e2e.double': 3.25,
    'e2e.bool': true,
    'e2e.array': ['x', 'y', 'z'],
    'e2e.unicode': UNICODE,
  };
}

function makeExporters(t, a) {
  const grpcUrl = `http://${HOST}:${a.ports.grpc}`;
  const httpUrl = (p) => `http://${HOST}:${a.ports.http}${p}`;
  switch (t.protocol) {
    case 'grpc':
      // gzip-compressed gRPC messages (bad_input.test.mjs sends uncompressed ones).
      return {
        traces: new TraceExporterGrpc({ url: grpcUrl, compression: 'gzip' }),
        metrics: new MetricExporterGrpc({ url: grpcUrl, compression: 'gzip' }),
        logs: new LogExporterGrpc({ url: grpcUrl, compression: 'gzip' }),
      };
    case 'http-proto':
      // gzip here, so the receiver's Content-Encoding path is covered too.
      return {
        traces: new TraceExporterProto({ url: httpUrl('/v1/traces'), compression: 'gzip' }),
        metrics: new MetricExporterProto({ url: httpUrl('/v1/metrics'), compression: 'gzip' }),
        logs: new LogExporterProto({ url: httpUrl('/v1/logs'), compression: 'gzip' }),
      };
    case 'http-json':
      return {
        traces: new TraceExporterJson({ url: httpUrl('/v1/traces') }),
        metrics: new MetricExporterJson({ url: httpUrl('/v1/metrics') }),
        logs: new LogExporterJson({ url: httpUrl('/v1/logs') }),
      };
    default:
      throw new Error(t.protocol);
  }
}

/** Wraps an SDK exporter so every export call's items and result are recorded. */
function recording(inner, calls) {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'export') {
        return (items, cb) =>
          target.export(items, (result) => {
            calls.push({ items, result });
            cb(result);
          });
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Produces and sends one transport's telemetry; returns what the SDK actually exported. */
async function sendAll(t, a) {
  const exporters = makeExporters(t, a);
  const calls = { traces: [], metrics: [], logs: [] };
  const resource = resourceFromAttributes(resourceAttrs(t));

  // --- traces: a parent (SERVER, error), its child (CLIENT, ok, with a link), a linked root.
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(recording(exporters.traces, calls.traces), { scheduledDelayMillis: 60000 })],
  });
  const tracer = tracerProvider.getTracer(TRACER.name, TRACER.version);
  const t0 = 1700000000 + t.k * 100; // explicit times: nanoseconds must survive exactly
  const linked = tracer.startSpan(`${t.id}-linked`, { startTime: [t0, 111111111] });
  linked.end([t0, 222222222]);
  const parent = tracer.startSpan(`${t.id}-parent`, {
    kind: SpanKind.SERVER,
    startTime: [t0 + 1, 123456789],
    attributes: {
      'http.route': '/orders/{id}',
      'e2e.int': 7,
      'e2e.double': 0.5,
      'e2e.bool': false,
      'e2e.str_array': ['a', 'b'],
      'e2e.int_array': [1, 2, 3],
      'e2e.unicode': UNICODE,
    },
  });
  parent.addEvent('cache.miss', { 'cache.key': `k-${t.id}`, 'e2e.retry': 2 }, [t0 + 1, 500000001]);
  parent.addEvent('no.attrs', [t0 + 1, 600000002]);
  parent.setStatus({ code: SpanStatusCode.ERROR, message: `boom over ${t.id}` });
  const parentCtx = trace.setSpan(ROOT_CONTEXT, parent);
  const child = tracer.startSpan(
    `${t.id}-child`,
    {
      kind: SpanKind.CLIENT,
      startTime: [t0 + 1, 200000000],
      attributes: { 'db.system': 'postgresql', 'e2e.rows': 12 },
      links: [{ context: linked.spanContext(), attributes: { 'link.reason': 'follows' } }],
    },
    parentCtx,
  );
  child.setStatus({ code: SpanStatusCode.OK });
  child.end([t0 + 1, 300000000]);

  // --- logs, one inside the parent span's context, one outside any trace.
  const loggerProvider = new LoggerProvider({
    resource,
    processors: [
      new BatchLogRecordProcessor({ exporter: recording(exporters.logs, calls.logs), scheduledDelayMillis: 60000 }),
    ],
  });
  const logger = loggerProvider.getLogger(LOGGER.name, LOGGER.version);
  logger.emit({
    timestamp: [t0 + 1, 400000000],
    severityNumber: SEV_WARN,
    severityText: 'WARN',
    body: `user logged in over ${t.id} ✓`,
    attributes: { 'user.id': 'u-1', 'e2e.attempt': 3, 'e2e.ratio': 0.75, 'e2e.ok': true },
    context: parentCtx,
  });
  logger.emit({
    timestamp: [t0 + 2, 5],
    severityNumber: SEV_ERROR,
    severityText: 'ERROR',
    body: { msg: 'structured', count: 7, nested: { ok: true } },
    attributes: { 'e2e.transport': t.id },
  });
  parent.end([t0 + 1, 900000000]);

  // --- metrics: exported once, at shutdown (a forceFlush too would export the cumulative
  // points twice, and this test counts points).
  const meterProvider = new MeterProvider({
    resource,
    readers: [
      new PeriodicExportingMetricReader({
        exporter: recording(exporters.metrics, calls.metrics),
        exportIntervalMillis: 3600000,
      }),
    ],
  });
  const meter = meterProvider.getMeter(METER.name, METER.version);
  const counter = meter.createCounter('e2e.requests', { unit: '{request}', description: 'requests served' });
  counter.add(5 * t.k, { route: '/a' });
  counter.add(7 * t.k, { route: '/a' });
  counter.add(3 * t.k, { route: '/b' });
  const upDown = meter.createUpDownCounter('e2e.queue_depth', { valueType: ValueType.INT });
  upDown.add(10 * t.k);
  upDown.add(-3);
  const hist = meter.createHistogram('e2e.latency', {
    unit: 'ms',
    advice: { explicitBucketBoundaries: HIST_BOUNDS },
  });
  for (const v of HIST_VALUES) hist.record(v, { op: 'get' });
  const gauge = meter.createGauge('e2e.temperature', { unit: 'Cel' });
  gauge.record(20.5 + t.k, { room: 'lab' });

  await tracerProvider.forceFlush();
  await loggerProvider.forceFlush();
  await Promise.all([tracerProvider.shutdown(), loggerProvider.shutdown(), meterProvider.shutdown()]);

  return {
    calls,
    spans: calls.traces.flatMap((c) => c.items),
    logs: calls.logs.flatMap((c) => c.items),
    metricPoints: calls.metrics.reduce((n, c) => n + sdkPointCount(c.items), 0),
    ids: {
      traceId: parent.spanContext().traceId,
      parent: parent.spanContext().spanId,
      child: child.spanContext().spanId,
      linkedTraceId: linked.spanContext().traceId,
      linked: linked.spanContext().spanId,
    },
  };
}

const SIGNALS = ['traces', 'metrics', 'logs'];

/** Outrigger B: OTLP/gRPC in, every signal to the file exporter. */
function startB(dir, name, outFile) {
  return Outrigger.start({
    name,
    dir,
    portNames: ['grpc', 'health', 'metrics'],
    makeConfig: (p) =>
      collectorConfig(p, {
        receivers: { otlp: { protocols: { grpc: { endpoint: `${HOST}:${p.grpc}` } } } },
        exporters: { file: { path: outFile } },
        pipelines: Object.fromEntries(SIGNALS.map((s) => [s, { receivers: ['otlp'], exporters: ['file'] }])),
      }),
  });
}

/** Outrigger A: OTLP gRPC+HTTP in → batch (`batch` settings) → OTLP/gRPC out to `b`. */
function startA(dir, name, b, batch) {
  return Outrigger.start({
    name,
    dir,
    portNames: ['grpc', 'http', 'health', 'metrics'],
    makeConfig: (p) =>
      collectorConfig(p, {
        receivers: {
          otlp: { protocols: { grpc: { endpoint: `${HOST}:${p.grpc}` }, http: { endpoint: `${HOST}:${p.http}` } } },
        },
        processors: { batch },
        exporters: { otlp: { endpoint: `${HOST}:${b.ports.grpc}`, tls: { insecure: true } } },
        pipelines: Object.fromEntries(
          SIGNALS.map((s) => [s, { receivers: ['otlp'], processors: ['batch'], exporters: ['otlp'] }]),
        ),
      }),
  });
}

describe('OTLP end to end: JS SDK → outrigger A (batch, otlp exporter) → outrigger B (file)', () => {
  let dir;
  let a;
  let b;
  let outFile;
  const sent = {}; // transport id → what the SDK exported

  before(async () => {
    dir = await makeTempDir();
    outFile = path.join(dir, 'b-out.jsonl');
    b = await startB(dir, 'B', outFile);
    a = await startA(dir, 'A', b, { timeout: '100ms' });
  });

  after(async () => {
    await a?.kill();
    await b?.kill();
    await removeTempDir(dir);
  });

  it('the SDK exports every signal over each transport with success', async () => {
    for (const t of TRANSPORTS) {
      sent[t.id] = await sendAll(t, a);
      const s = sent[t.id];
      for (const sig of ['traces', 'metrics', 'logs']) {
        assert.ok(s.calls[sig].length > 0, `${t.id}: the SDK made no ${sig} export`);
        for (const c of s.calls[sig]) {
          assert.equal(
            c.result.code,
            EXPORT_SUCCESS,
            `${t.id}: ${sig} export failed: ${c.result.error?.stack ?? c.result.error}\n--- A ---\n${a.output}`,
          );
        }
      }
      assert.equal(s.spans.length, SPANS_PER_TRANSPORT, `${t.id}: spans the SDK exported`);
      assert.equal(s.logs.length, LOGS_PER_TRANSPORT, `${t.id}: log records the SDK exported`);
      assert.equal(s.metricPoints, POINTS_PER_TRANSPORT, `${t.id}: metric points the SDK exported`);
    }
  });

  const expectedTotals = {
    spans: TRANSPORTS.length * SPANS_PER_TRANSPORT,
    logs: TRANSPORTS.length * LOGS_PER_TRANSPORT,
    points: TRANSPORTS.length * POINTS_PER_TRANSPORT,
  };
  const ours = (x) => x.resource['e2e.run_id'] === RUN_ID;
  const countPoints = (metrics) => metrics.reduce((n, m) => n + dataPoints(m.item).length, 0);

  async function readB() {
    const lines = await readJsonLines(outFile);
    return { lines, spans: flattenSpans(lines), metrics: flattenMetrics(lines), logs: flattenLogs(lines) };
  }

  let out; // B's file once everything arrived

  it('everything reaches B\'s file', async () => {
    assert.ok(Object.keys(sent).length === TRANSPORTS.length, 'nothing was sent');
    out = await waitFor(
      async () => {
        const o = await readB();
        const done =
          o.spans.length >= expectedTotals.spans &&
          o.logs.length >= expectedTotals.logs &&
          countPoints(o.metrics) >= expectedTotals.points;
        return done && o;
      },
      { timeoutMs: 20000, intervalMs: 100, what: `B's file ${outFile} to hold all spans, points and logs` },
    ).catch(async (e) => {
      const o = await readB().catch(() => ({ spans: [], logs: [], metrics: [] }));
      throw new Error(
        `${e.message}\nhave ${o.spans.length}/${expectedTotals.spans} spans, ${countPoints(o.metrics)}/` +
          `${expectedTotals.points} points, ${o.logs.length}/${expectedTotals.logs} logs` +
          `\n--- A ---\n${a.output}\n--- B ---\n${b.output}`,
      );
    });
    assert.ok(out.spans.every(ours) && out.metrics.every(ours) && out.logs.every(ours), 'foreign data in B\'s file');
  });

  it('spans arrive intact: ids, parentage, kind, times, attributes, events, links, status, resource, scope', () => {
    assert.ok(out, 'B\'s file was not read');
    for (const t of TRANSPORTS) {
      const s = sent[t.id];
      const mine = out.spans.filter((x) => x.resource['e2e.transport'] === t.id);
      assert.equal(mine.length, SPANS_PER_TRANSPORT, `${t.id}: spans in B's file`);

      // The exact expected shape, independent of the SDK's own records.
      const byName = Object.fromEntries(mine.map((x) => [x.item.name, x]));
      assert.deepEqual(
        Object.keys(byName).sort(),
        [`${t.id}-child`, `${t.id}-linked`, `${t.id}-parent`],
        `${t.id}: span names`,
      );
      const p = byName[`${t.id}-parent`].item;
      const c = byName[`${t.id}-child`].item;
      const l = byName[`${t.id}-linked`].item;
      assert.match(p.traceId, /^[0-9a-f]{32}$/, 'traceId is lowercase hex');
      assert.match(p.spanId, /^[0-9a-f]{16}$/, 'spanId is lowercase hex');
      assert.equal(p.traceId, s.ids.traceId, `${t.id}: parent traceId`);
      assert.equal(p.spanId, s.ids.parent, `${t.id}: parent spanId`);
      assert.equal(p.parentSpanId ?? '', '', `${t.id}: the parent is a root span`);
      assert.equal(c.traceId, s.ids.traceId, `${t.id}: child traceId`);
      assert.equal(c.spanId, s.ids.child, `${t.id}: child spanId`);
      assert.equal(c.parentSpanId, s.ids.parent, `${t.id}: child.parentSpanId is the parent's spanId`);
      assert.equal(l.traceId, s.ids.linkedTraceId, `${t.id}: linked traceId`);
      assert.equal(l.spanId, s.ids.linked, `${t.id}: linked spanId`);
      assert.notEqual(l.traceId, p.traceId);
      assert.equal(p.kind, 2, 'SPAN_KIND_SERVER');
      assert.equal(c.kind, 3, 'SPAN_KIND_CLIENT');
      assert.equal(l.kind, 1, 'SPAN_KIND_INTERNAL');
      assert.deepEqual(p.status, { code: 2, message: `boom over ${t.id}` }, `${t.id}: parent status`);
      assert.equal(c.status?.code, 1, `${t.id}: child status OK`);
      assert.ok(!l.status?.code, `${t.id}: linked status unset`);
      const t0 = 1700000000 + t.k * 100;
      assert.equal(p.startTimeUnixNano, `${t0 + 1}123456789`, 'parent start time (a JSON string, to the ns)');
      assert.equal(p.endTimeUnixNano, `${t0 + 1}900000000`, 'parent end time');
      assert.deepEqual(attrsToObject(p.attributes), {
        'http.route': '/orders/{id}',
        'e2e.int': 7,
        'e2e.double': 0.5,
        'e2e.bool': false,
        'e2e.str_array': ['a', 'b'],
        'e2e.int_array': [1, 2, 3],
        'e2e.unicode': UNICODE,
      }, `${t.id}: parent attributes`);
      assert.deepEqual(rawAttr(p.attributes, 'e2e.int'), { intValue: '7' });
      assert.deepEqual(rawAttr(p.attributes, 'e2e.double'), { doubleValue: 0.5 });
      assert.deepEqual(rawAttr(p.attributes, 'e2e.bool'), { boolValue: false });
      assert.equal(p.events?.length, 2, `${t.id}: parent events`);
      assert.equal(p.events[0].name, 'cache.miss');
      assert.equal(p.events[0].timeUnixNano, `${t0 + 1}500000001`);
      assert.deepEqual(attrsToObject(p.events[0].attributes), { 'cache.key': `k-${t.id}`, 'e2e.retry': 2 });
      assert.equal(p.events[1].name, 'no.attrs');
      assert.equal(p.events[1].timeUnixNano, `${t0 + 1}600000002`);
      assert.deepEqual(attrsToObject(p.events[1].attributes), {});
      assert.equal(c.links?.length, 1, `${t.id}: child links`);
      assert.equal(c.links[0].traceId, s.ids.linkedTraceId);
      assert.equal(c.links[0].spanId, s.ids.linked);
      assert.deepEqual(attrsToObject(c.links[0].attributes), { 'link.reason': 'follows' });
      assert.deepEqual(attrsToObject(c.attributes), { 'db.system': 'postgresql', 'e2e.rows': 12 });

      for (const x of mine) {
        // Resource: exactly what the SDK was given, with each value's OTLP type kept.
        assert.deepEqual(x.resource, resourceAttrs(t), `${t.id}: resource of ${x.item.name}`);
        const r = x.resourceRaw.attributes;
        assert.deepEqual(rawAttr(r, 'e2e.int'), { intValue: '42' });
        assert.deepEqual(rawAttr(r, 'e2e.negative'), { intValue: '-7' });
        assert.deepEqual(rawAttr(r, 'e2e.max_safe_int'), { intValue: '9007199254740991' });
        assert.deepEqual(rawAttr(r, 'e2e.double'), { doubleValue: 3.25 });
        assert.deepEqual(rawAttr(r, 'e2e.bool'), { boolValue: true });
        assert.deepEqual(rawAttr(r, 'e2e.array'), {
          arrayValue: { values: [{ stringValue: 'x' }, { stringValue: 'y' }, { stringValue: 'z' }] },
        });
        assert.equal(x.scope.name, TRACER.name, 'scope name');
        assert.equal(x.scope.version, TRACER.version, 'scope version');
      }

      // Every field against the SDK's own record of the span it exported.
      for (const sdk of s.spans) {
        const got = mine.find((x) => x.item.spanId === sdk.spanContext().spanId)?.item;
        assert.ok(got, `${t.id}: span ${sdk.name} missing`);
        const where = `${t.id}/${sdk.name}`;
        assert.equal(got.name, sdk.name, where);
        assert.equal(got.traceId, sdk.spanContext().traceId, `${where}: traceId`);
        assert.equal(got.parentSpanId ?? '', sdk.parentSpanContext?.spanId ?? '', `${where}: parentSpanId`);
        assert.equal(got.kind, OTLP_KIND[sdk.kind], `${where}: kind`);
        assert.equal(u64(got.startTimeUnixNano, `${where}.startTimeUnixNano`).toString(), hrToNanos(sdk.startTime));
        assert.equal(u64(got.endTimeUnixNano, `${where}.endTimeUnixNano`).toString(), hrToNanos(sdk.endTime));
        assert.deepEqual(attrsToObject(got.attributes), { ...sdk.attributes }, `${where}: attributes`);
        assert.deepEqual(
          (got.events ?? []).map((e) => ({ name: e.name, time: e.timeUnixNano, attrs: attrsToObject(e.attributes) })),
          sdk.events.map((e) => ({ name: e.name, time: hrToNanos(e.time), attrs: { ...(e.attributes ?? {}) } })),
          `${where}: events`,
        );
        assert.deepEqual(
          (got.links ?? []).map((k) => ({ traceId: k.traceId, spanId: k.spanId, attrs: attrsToObject(k.attributes) })),
          sdk.links.map((k) => ({
            traceId: k.context.traceId,
            spanId: k.context.spanId,
            attrs: { ...(k.attributes ?? {}) },
          })),
          `${where}: links`,
        );
        assert.equal((got.flags ?? 0) & 0xff, sdk.spanContext().traceFlags, `${where}: W3C trace flags (sampled)`);
        assert.equal(got.status?.code ?? 0, sdk.status.code, `${where}: status code`);
        assert.equal(got.status?.message ?? '', sdk.status.message ?? '', `${where}: status message`);
      }
    }
  });

  it('metric points arrive intact: counter sums, up-down int, histogram count/sum/buckets, gauge', () => {
    assert.ok(out, 'B\'s file was not read');
    for (const t of TRANSPORTS) {
      const mine = out.metrics.filter((x) => x.resource['e2e.transport'] === t.id);
      assert.equal(countPoints(mine), POINTS_PER_TRANSPORT, `${t.id}: points in B's file`);
      for (const x of mine) {
        assert.deepEqual(x.resource, resourceAttrs(t), `${t.id}: resource of ${x.item.name}`);
        assert.equal(x.scope.name, METER.name);
        assert.equal(x.scope.version, METER.version);
      }
      const one = (name) => {
        const ms = mine.filter((x) => x.item.name === name);
        assert.equal(ms.length, 1, `${t.id}: metric ${name} appears once`);
        return ms[0].item;
      };

      const counter = one('e2e.requests');
      assert.equal(counter.unit, '{request}');
      assert.equal(counter.description, 'requests served');
      assert.ok(counter.sum, `${t.id}: e2e.requests is a sum`);
      assert.equal(counter.sum.isMonotonic, true, 'counter is monotonic');
      assert.equal(counter.sum.aggregationTemporality, 2, 'cumulative');
      const byRoute = Object.fromEntries(
        counter.sum.dataPoints.map((dp) => [attrsToObject(dp.attributes).route, dp]),
      );
      assert.deepEqual(Object.keys(byRoute).sort(), ['/a', '/b']);
      assert.equal(byRoute['/a'].asDouble, 12 * t.k, `${t.id}: counter sum for /a`);
      assert.equal(byRoute['/b'].asDouble, 3 * t.k, `${t.id}: counter sum for /b`);
      for (const dp of counter.sum.dataPoints) {
        assert.ok(u64(dp.timeUnixNano, 'timeUnixNano') > 0n);
        assert.ok(u64(dp.startTimeUnixNano, 'startTimeUnixNano') > 0n);
      }

      const upDown = one('e2e.queue_depth');
      assert.equal(upDown.sum?.isMonotonic ?? false, false, 'up-down counter is not monotonic');
      assert.equal(upDown.sum.dataPoints.length, 1);
      assert.equal(upDown.sum.dataPoints[0].asInt, String(10 * t.k - 3), `${t.id}: up-down sum (asInt string)`);

      const hist = one('e2e.latency');
      assert.equal(hist.unit, 'ms');
      assert.ok(hist.histogram, `${t.id}: e2e.latency is a histogram`);
      assert.equal(hist.histogram.aggregationTemporality, 2);
      assert.equal(hist.histogram.dataPoints.length, 1);
      const hp = hist.histogram.dataPoints[0];
      assert.deepEqual(attrsToObject(hp.attributes), { op: 'get' });
      assert.equal(u64(hp.count, 'histogram count'), BigInt(HIST_VALUES.length), `${t.id}: histogram count`);
      assert.equal(hp.sum, HIST_VALUES.reduce((x, y) => x + y, 0), `${t.id}: histogram sum`);
      assert.deepEqual(hp.explicitBounds, HIST_BOUNDS, `${t.id}: histogram bounds`);
      assert.deepEqual(hp.bucketCounts, ['1', '2', '1', '1'], `${t.id}: histogram bucket counts`);
      assert.equal(hp.min, 5, `${t.id}: histogram min`);
      assert.equal(hp.max, 5000, `${t.id}: histogram max`);

      const gauge = one('e2e.temperature');
      assert.equal(gauge.unit, 'Cel');
      assert.ok(gauge.gauge, `${t.id}: e2e.temperature is a gauge`);
      assert.equal(gauge.gauge.dataPoints.length, 1);
      assert.equal(gauge.gauge.dataPoints[0].asDouble, 20.5 + t.k, `${t.id}: gauge value`);
      assert.deepEqual(attrsToObject(gauge.gauge.dataPoints[0].attributes), { room: 'lab' });
    }
  });

  it('log records arrive intact: body, severity, attributes, trace context, times', () => {
    assert.ok(out, 'B\'s file was not read');
    for (const t of TRANSPORTS) {
      const s = sent[t.id];
      const mine = out.logs.filter((x) => x.resource['e2e.transport'] === t.id);
      assert.equal(mine.length, LOGS_PER_TRANSPORT, `${t.id}: log records in B's file`);
      for (const x of mine) {
        assert.deepEqual(x.resource, resourceAttrs(t), `${t.id}: log resource`);
        assert.equal(x.scope.name, LOGGER.name);
        assert.equal(x.scope.version, LOGGER.version);
      }
      const t0 = 1700000000 + t.k * 100;
      const warn = mine.find((x) => x.item.severityNumber === SEV_WARN)?.item;
      const err = mine.find((x) => x.item.severityNumber === SEV_ERROR)?.item;
      assert.ok(warn && err, `${t.id}: one WARN and one ERROR record: ${JSON.stringify(mine.map((x) => x.item))}`);
      assert.equal(warn.severityText, 'WARN');
      assert.deepEqual(warn.body, { stringValue: `user logged in over ${t.id} ✓` }, `${t.id}: WARN body`);
      assert.deepEqual(
        attrsToObject(warn.attributes),
        { 'user.id': 'u-1', 'e2e.attempt': 3, 'e2e.ratio': 0.75, 'e2e.ok': true },
        `${t.id}: WARN attributes`,
      );
      assert.deepEqual(rawAttr(warn.attributes, 'e2e.attempt'), { intValue: '3' });
      assert.equal(warn.traceId, s.ids.traceId, `${t.id}: WARN traceId is the parent span's`);
      assert.equal(warn.spanId, s.ids.parent, `${t.id}: WARN spanId is the parent span's`);
      assert.equal(warn.timeUnixNano, `${t0 + 1}400000000`, `${t.id}: WARN time`);
      assert.equal((warn.flags ?? 0) & 0xff, 1, `${t.id}: WARN trace flags (sampled)`);
      assert.equal(err.severityText, 'ERROR');
      assert.deepEqual(
        attrsToObject([{ key: 'body', value: err.body }]).body,
        { msg: 'structured', count: 7, nested: { ok: true } },
        `${t.id}: structured ERROR body`,
      );
      assert.ok(err.body.kvlistValue, 'a map body stays a kvlist');
      assert.deepEqual(attrsToObject(err.attributes), { 'e2e.transport': t.id });
      assert.equal(err.traceId ?? '', '', `${t.id}: ERROR record has no trace context`);
      assert.equal(err.spanId ?? '', '', `${t.id}: ERROR record has no span`);
      assert.equal(err.timeUnixNano, `${t0 + 2}000000005`, `${t.id}: ERROR time`);

      for (const sdk of s.logs) {
        const got = mine.find((x) => x.item.severityNumber === sdk.severityNumber)?.item;
        assert.equal(u64(got.timeUnixNano, 'timeUnixNano').toString(), hrToNanos(sdk.hrTime));
        assert.equal(u64(got.observedTimeUnixNano, 'observedTimeUnixNano').toString(), hrToNanos(sdk.hrTimeObserved));
        assert.equal(got.traceId ?? '', sdk.spanContext?.traceId ?? '');
        assert.equal(got.spanId ?? '', sdk.spanContext?.spanId ?? '');
        assert.deepEqual(attrsToObject(got.attributes), { ...sdk.attributes });
      }
    }
  });

  it('A\'s self-metrics count what it accepted per transport and what it exported', async () => {
    const m = await a.metrics();
    const count = (name, transport) => metricValue(m, name, { receiver: 'otlp', transport });
    const perTransport = (n, transport) => TRANSPORTS.filter((t) => t.receiverTransport === transport).length * n;
    for (const transport of ['grpc', 'http']) {
      assert.equal(count('outrigger_receiver_accepted_spans_total', transport), perTransport(SPANS_PER_TRANSPORT, transport), `accepted spans over ${transport}`);
      assert.equal(count('outrigger_receiver_accepted_metric_points_total', transport), perTransport(POINTS_PER_TRANSPORT, transport), `accepted points over ${transport}`);
      assert.equal(count('outrigger_receiver_accepted_log_records_total', transport), perTransport(LOGS_PER_TRANSPORT, transport), `accepted log records over ${transport}`);
      assert.equal(count('outrigger_receiver_refused_spans_total', transport), 0, `refused spans over ${transport}`);
    }
    // Everything already reached B, so A's exporter has counted it as sent.
    assert.equal(metricValue(m, 'outrigger_exporter_sent_spans_total', { exporter: 'otlp' }), expectedTotals.spans);
    assert.equal(metricValue(m, 'outrigger_exporter_sent_metric_points_total', { exporter: 'otlp' }), expectedTotals.points);
    assert.equal(metricValue(m, 'outrigger_exporter_sent_log_records_total', { exporter: 'otlp' }), expectedTotals.logs);
    assert.equal(metricValue(m, 'outrigger_exporter_send_failed_spans_total', { exporter: 'otlp' }), 0);

    const mb = await b.metrics();
    assert.equal(metricValue(mb, 'outrigger_receiver_accepted_spans_total', { receiver: 'otlp', transport: 'grpc' }), expectedTotals.spans, 'B accepted spans');
    assert.equal(metricValue(mb, 'outrigger_exporter_sent_spans_total', { exporter: 'file' }), expectedTotals.spans, 'B wrote spans');
  });

  it('SIGTERM: A then B exit 0, and the final file holds every item exactly once', async () => {
    const ea = await a.stop('SIGTERM');
    assert.deepEqual(ea, { code: 0, signal: null }, `A's exit\n--- A ---\n${a.output}`);
    const eb = await b.stop('SIGTERM');
    assert.deepEqual(eb, { code: 0, signal: null }, `B's exit\n--- B ---\n${b.output}`);

    const final = await readB();
    assert.equal(final.spans.length, expectedTotals.spans, 'spans in the final file (duplicates?)');
    assert.equal(countPoints(final.metrics), expectedTotals.points, 'metric points in the final file (duplicates?)');
    assert.equal(final.logs.length, expectedTotals.logs, 'log records in the final file (duplicates?)');
    const spanKeys = final.spans.map((x) => `${x.item.traceId}/${x.item.spanId}`);
    assert.equal(new Set(spanKeys).size, spanKeys.length, 'span ids are unique');
    const expectedSpanIds = Object.values(sent).flatMap((s) => s.spans.map((x) => x.spanContext().spanId)).sort();
    assert.deepEqual(final.spans.map((x) => x.item.spanId).sort(), expectedSpanIds, 'exactly the spans the SDK sent');
  });
});

describe('graceful shutdown: SIGTERM makes A flush what its batch processor still holds', () => {
  let dir;
  let a;
  let b;
  let outFile;
  const t = { id: 'flush', protocol: 'http-json', k: 4, receiverTransport: 'http' };

  before(async () => {
    dir = await makeTempDir();
    outFile = path.join(dir, 'b-out.jsonl');
    b = await startB(dir, 'B-flush', outFile);
    // Nothing leaves A's batch on its own during this test: a minute's timeout, a huge size.
    a = await startA(dir, 'A-flush', b, { timeout: '60s', send_batch_size: 100000 });
  });

  after(async () => {
    await a?.kill();
    await b?.kill();
    await removeTempDir(dir);
  });

  it('data accepted by A but still batched reaches B when A is stopped with SIGTERM', async () => {
    const s = await sendAll(t, a);
    for (const sig of SIGNALS) {
      for (const c of s.calls[sig]) assert.equal(c.result.code, EXPORT_SUCCESS, `${sig} export to A failed`);
    }
    const m = await a.metrics();
    const acc = (name) => metricValue(m, name, { receiver: 'otlp', transport: 'http' });
    assert.equal(acc('outrigger_receiver_accepted_spans_total'), SPANS_PER_TRANSPORT);
    assert.equal(acc('outrigger_receiver_accepted_metric_points_total'), POINTS_PER_TRANSPORT);
    assert.equal(acc('outrigger_receiver_accepted_log_records_total'), LOGS_PER_TRANSPORT);
    // The exporter's span series appears with its first send (as upstream's): absent or 0 here.
    assert.ok(!(metricValue(m, 'outrigger_exporter_sent_spans_total', { exporter: 'otlp' }) > 0), 'still batched');
    assert.deepEqual(await readJsonLines(outFile), [], 'B got nothing yet: the batch still holds it');

    const started = Date.now();
    const exit = await a.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, `A's exit\n--- A ---\n${a.output}`);
    assert.ok(Date.now() - started < 10000, `A took ${Date.now() - started} ms to shut down`);

    // B answers an export only once it is written, and A exits only after its exports are
    // answered: all of it must be in the file now, without waiting.
    const lines = await readJsonLines(outFile);
    const spans = flattenSpans(lines);
    const metrics = flattenMetrics(lines);
    const logs = flattenLogs(lines);
    assert.deepEqual(
      spans.map((x) => x.item.spanId).sort(),
      s.spans.map((x) => x.spanContext().spanId).sort(),
      `B holds exactly the spans sent\n--- A ---\n${a.output}\n--- B ---\n${b.output}`,
    );
    assert.equal(metrics.reduce((n, x) => n + dataPoints(x.item).length, 0), POINTS_PER_TRANSPORT, 'metric points');
    assert.equal(logs.length, LOGS_PER_TRANSPORT, 'log records');
    const counter = metrics.find((x) => x.item.name === 'e2e.requests').item;
    assert.deepEqual(
      counter.sum.dataPoints.map((dp) => dp.asDouble).sort((x, y) => x - y),
      [3 * t.k, 12 * t.k],
      'counter sums',
    );

    assert.deepEqual(await b.stop('SIGTERM'), { code: 0, signal: null }, `B's exit\n${b.output}`);
  });
});
