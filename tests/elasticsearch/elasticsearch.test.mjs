// OTLP logs and traces pushed with fetch() into the real outrigger binary (otlp http →
// elasticsearch exporter) arrive in es_double.mjs, a double of Elasticsearch's _bulk
// API, exactly once each, although the double rejects some documents with 429 (twice
// each), answers one whole request with 503 + Retry-After, and rejects one document
// permanently with 400 mapper_parsing_exception (which must be dropped and counted, not
// retried). No real Elasticsearch can run here; the double implements the documented
// request and response shapes.
//
// Node built-ins and the shared harness only. Every wait polls a condition until a
// deadline; processes and temp dirs are always removed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  HOST,
  Outrigger,
  collectorConfig,
  makeTempDir,
  metricValue,
  postOtlpJson,
  removeTempDir,
  waitFor,
} from '../common/harness.mjs';
import { EsDouble } from './es_double.mjs';

const LOGS = 60; // in 6 requests of 10
const SPANS = 30; // in 3 requests of 10
const attr = (key, value) => ({ key, value: { stringValue: value } });
const resource = { attributes: [attr('service.name', 'es-it'), attr('host.name', 'it-host')] };
const hex = (n, bytes) => n.toString(16).padStart(bytes * 2, '0');

function logsRequest(from, to, extra = []) {
  const now = BigInt(Date.now()) * 1000000n;
  const logRecords = [];
  for (let i = from; i < to; i++) {
    logRecords.push({
      timeUnixNano: String(now + BigInt(i)),
      severityText: 'INFO',
      severityNumber: 9,
      body: { stringValue: `rec-${i}` },
      attributes: [attr('i', String(i))],
    });
  }
  for (const body of extra) logRecords.push({ timeUnixNano: String(now), body: { stringValue: body } });
  return { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'es-it' }, logRecords }] }] };
}

function tracesRequest(from, to) {
  const now = BigInt(Date.now()) * 1000000n;
  const spans = [];
  for (let i = from; i < to; i++) {
    spans.push({
      traceId: hex(i + 1, 16),
      spanId: hex(i + 1, 8),
      name: `span-${i}`,
      kind: 2,
      startTimeUnixNano: String(now),
      endTimeUnixNano: String(now + 1000000n),
    });
  }
  return { resourceSpans: [{ resource, scopeSpans: [{ scope: { name: 'es-it' }, spans }] }] };
}

describe('elasticsearch exporter into a _bulk double', () => {
  let dir;
  let es;
  let outrigger;

  const post = (path, body) => postOtlpJson(outrigger.ports.otlp, path, body);

  const counts = (docs, key) => {
    const m = new Map();
    for (const d of docs) m.set(key(d), (m.get(key(d)) ?? 0) + 1);
    return m;
  };

  before(async () => {
    dir = await makeTempDir('outrigger-es-it-');
    es = await EsDouble.start();
    es.configure({
      auth: `ApiKey ${Buffer.from('id:key').toString('base64')}`,
      rules: [
        // rec-1, rec-10..rec-19: 429 twice each; span-2, span-20..29: 429 once.
        { contains: '"text":"rec-1', status: 429, type: 'es_rejected_execution_exception', times: 2 },
        { contains: '"name":"span-2', status: 429, type: 'es_rejected_execution_exception', times: 1 },
        { contains: '"text":"poison"', status: 400, type: 'mapper_parsing_exception', times: -1 },
      ],
      failNext: [{ status: 503, retryAfter: 1 }],
    });
    outrigger = await Outrigger.start({
      name: 'outrigger',
      dir,
      portNames: ['health', 'metrics', 'otlp'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          exporters: {
            elasticsearch: {
              endpoint: es.url,
              api_key: Buffer.from('id:key').toString('base64'),
              retry: { initial_interval: '50ms', max_interval: '200ms' },
              flush: { interval: '200ms' },
              retry_on_failure: { initial_interval: '100ms', max_interval: '500ms' },
            },
          },
          pipelines: {
            logs: { receivers: ['otlp'], exporters: ['elasticsearch'] },
            traces: { receivers: ['otlp'], exporters: ['elasticsearch'] },
          },
        }),
    });
    for (let i = 0; i < LOGS; i += 10) await post('/v1/logs', logsRequest(i, i + 10, i === 20 ? ['poison'] : []));
    for (let i = 0; i < SPANS; i += 10) await post('/v1/traces', tracesRequest(i, i + 10));
  });

  after(async () => {
    if (outrigger) {
      await outrigger.stop().catch(() => {});
      await outrigger.kill();
    }
    if (es) await es.close();
    if (dir) await removeTempDir(dir);
  });

  it('every log record and span arrives exactly once despite 429s and a 503', async () => {
    const labels = { exporter: 'elasticsearch' };
    await waitFor(
      async () => {
        const m = await outrigger.metrics();
        return (
          metricValue(m, 'outrigger_exporter_sent_log_records_total', labels) === LOGS + 1 &&
          metricValue(m, 'outrigger_exporter_sent_spans_total', labels) === SPANS
        );
      },
      { timeoutMs: 60000, intervalMs: 100, what: 'the exporter to report every batch delivered' },
    ).catch((e) => {
      throw new Error(`${e.message}\n--- outrigger ---\n${outrigger.output}`);
    });

    const logs = counts(es.stored('logs-generic-default'), (d) => d._source.body.text);
    for (let i = 0; i < LOGS; i++) assert.equal(logs.get(`rec-${i}`), 1, `rec-${i} stored ${logs.get(`rec-${i}`)} times`);
    assert.equal(logs.size, LOGS, 'nothing else was stored (the poison record was not)');
    const spans = counts(es.stored('traces-generic-default'), (d) => d._source.name);
    for (let i = 0; i < SPANS; i++) assert.equal(spans.get(`span-${i}`), 1, `span-${i}`);
    assert.equal(spans.size, SPANS);

    // Shape (otel mapping mode): resource and ids as the double stored them.
    const one = es.stored('traces-generic-default')[0]._source;
    assert.equal(one.resource.attributes['service.name'], 'es-it');
    assert.match(one.trace_id, /^[0-9a-f]{32}$/);
    assert.equal(one.kind, 'Server');

    // Retries resent only the rejected documents: requests after the first of each
    // batch are small.
    const retried = es.requests.filter((r) => r.status === 200 && r.items > 0 && r.items < 10);
    assert.ok(retried.length >= 2, `partial resends seen: ${JSON.stringify(es.requests.map((r) => [r.status, r.items]))}`);
    assert.ok(es.requests.some((r) => r.status === 503), 'the 503 was answered');
    assert.ok(es.requests.every((r) => r.headers['content-encoding'] === 'gzip'), 'gzip by default');
  });

  it('a permanently rejected document is dropped, counted and not retried', async () => {
    const m = await outrigger.metrics();
    assert.equal(metricValue(m, 'outrigger_exporter_dropped_log_records_total', { exporter: 'elasticsearch' }), 1);
    // Rule 2 (the poison rule) saw the document exactly once: it was not resent.
    const poisonHits = [...es.ruleHits].filter(([k]) => k.startsWith('2\u0000')).map(([, v]) => v);
    assert.deepEqual(poisonHits, [1]);
    assert.match(outrigger.output, /mapper_parsing_exception/);
  });

  it('the double lists stored documents over HTTP', async () => {
    const r = await fetch(`${es.url}/_double/docs`);
    const docs = await r.json();
    assert.equal(docs.length, LOGS + SPANS);
  });
});
