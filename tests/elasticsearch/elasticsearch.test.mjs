// OTLP logs and traces pushed with fetch() into the real outrigger binary (otlp http →
// elasticsearch exporter) arrive in es_double.mjs, a double of Elasticsearch's _bulk
// API, exactly once each, although the double rejects some documents with 429 (twice
// each), answers one whole request with 503 + Retry-After, and rejects one document
// permanently with 400 mapper_parsing_exception (which must be dropped and counted, not
// retried). No real Elasticsearch can run here; the double implements the documented
// request and response shapes.
//
// Then: `endpoints` (round-robin over several nodes, failover past a node that refuses
// connections or answers 503), and TLS against an HTTPS double with a CA and server
// certificate made at test time with the openssl CLI (tls.ca_file, tls.insecure_skip_verify, and
// what happens without the right CA).
//
// Node built-ins and the shared harness only. Every wait polls a condition until a
// deadline; processes and temp dirs are always removed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import {
  HOST,
  Outrigger,
  collectorConfig,
  freePorts,
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
          metricValue(m, 'outrigger_exporter_sent_log_records_total', labels) === LOGS &&
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

    // Retries resent only the rejected documents: every document once (the poison one
    // included), plus rec-1 and rec-10..19 twice (429 twice) and span-2, span-20..29 once;
    // however the exporter happened to batch them (a whole-batch resend would add more).
    const sent = es.requests.filter((r) => r.status === 200).reduce((n, r) => n + r.items, 0);
    assert.equal(
      sent,
      LOGS + 1 + SPANS + 11 * 2 + 11,
      `documents sent: ${JSON.stringify(es.requests.map((r) => [r.status, r.items]))}`,
    );
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

// ---- Shared by the suites below -------------------------------------------------------

const LABELS = { exporter: 'elasticsearch' };

/** `n` log records with bodies `${prefix}-0` ... in one OTLP request. */
function namedLogs(prefix, from, to) {
  const now = BigInt(Date.now()) * 1000000n;
  const logRecords = [];
  for (let i = from; i < to; i++) logRecords.push({ timeUnixNano: String(now + BigInt(i)), body: { stringValue: `${prefix}-${i}` } });
  return { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'es-it' }, logRecords }] }] };
}

/** body.text -> how many times it is stored, over every double given. */
function storedBodies(...doubles) {
  const m = new Map();
  for (const d of doubles) {
    for (const doc of d.stored('logs-generic-default')) m.set(doc._source.body.text, (m.get(doc._source.body.text) ?? 0) + 1);
  }
  return m;
}

function assertExactlyOnce(bodies, prefix, n) {
  for (let i = 0; i < n; i++) assert.equal(bodies.get(`${prefix}-${i}`), 1, `${prefix}-${i} stored ${bodies.get(`${prefix}-${i}`)} times`);
  assert.equal(bodies.size, n, `only ${prefix}-0..${n - 1} stored: ${[...bodies.keys()].join(',')}`);
}

/**
 * An outrigger with an OTLP/HTTP receiver and one elasticsearch exporter for logs;
 * service.shutdown_timeout 2s (a batch still retrying must not hold the stop for 25s).
 */
function startLogsToEs(dir, name, elasticsearch) {
  return Outrigger.start({
    name,
    dir,
    portNames: ['health', 'metrics', 'otlp'],
    makeConfig: (ports) => {
      const cfg = collectorConfig(ports, {
        receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
        exporters: { elasticsearch },
        pipelines: { logs: { receivers: ['otlp'], exporters: ['elasticsearch'] } },
      });
      cfg.service.shutdown_timeout = '2s';
      return cfg;
    },
  });
}

async function stopAll(instances) {
  for (const o of instances) {
    if (!o) continue;
    await o.stop().catch(() => {});
    await o.kill();
  }
}

const withOutput = (o) => (e) => {
  throw new Error(`${e.message}\n--- ${o.name} ---\n${o.output}`);
};

// ---- endpoints: round-robin and failover ----------------------------------------------

describe('elasticsearch exporter with several endpoints', () => {
  const PUSHES = 12;
  const PER_PUSH = 5;
  let dir;
  let deadUrl;
  const doubles = {}; // a, b: healthy; c: answers every _bulk with 503
  let failover; // [a, dead, b]: no retries at all, so only failover can deliver
  let mixed; // [a, dead, c (503), b]: the usual retries

  before(async () => {
    dir = await makeTempDir('outrigger-es-endpoints-');
    doubles.a = await EsDouble.start();
    doubles.b = await EsDouble.start();
    doubles.c = await EsDouble.start();
    doubles.c.configure({ failAll: { status: 503 } });
    // A port that was free a moment ago and that nobody listens on: connection refused.
    const [deadPort] = await freePorts(1);
    deadUrl = `http://${HOST}:${deadPort}`;
    // One consumer and no batching: one bulk request per push, in round-robin order.
    const common = {
      compression: 'none',
      sending_queue: { num_consumers: 1, batch: { enabled: false } },
    };
    failover = await startLogsToEs(dir, 'outrigger-failover', {
      ...common,
      endpoints: [doubles.a.url, deadUrl, doubles.b.url],
      // No resend within a push, and the helper's first retry after a minute: a push that
      // failed would not arrive within the test's deadline.
      retry: { enabled: false },
      retry_on_failure: { initial_interval: '1m', max_interval: '1m' },
    });
    mixed = await startLogsToEs(dir, 'outrigger-mixed', {
      ...common,
      endpoints: [doubles.a.url, deadUrl, doubles.c.url, doubles.b.url],
      headers: { 'X-Instance': 'mixed' },
      retry: { initial_interval: '20ms', max_interval: '100ms' },
      retry_on_failure: { initial_interval: '50ms', max_interval: '200ms' },
    });
  });

  after(async () => {
    await stopAll([failover, mixed]);
    for (const d of Object.values(doubles)) await d.close();
    if (dir) await removeTempDir(dir);
  });

  it('spreads requests over the live nodes and fails over past a refused connection at once', async () => {
    for (let i = 0; i < PUSHES; i++) {
      await postOtlpJson(failover.ports.otlp, '/v1/logs', namedLogs('fo', i * PER_PUSH, (i + 1) * PER_PUSH));
    }
    await waitFor(
      async () => metricValue(await failover.metrics(), 'outrigger_exporter_sent_log_records_total', LABELS) === PUSHES * PER_PUSH,
      { timeoutMs: 20000, intervalMs: 100, what: 'every push delivered without a retry' },
    ).catch(withOutput(failover));
    const m = await failover.metrics();
    assert.equal(metricValue(m, 'outrigger_exporter_send_failed_log_records_total', LABELS) ?? 0, 0, 'no push failed');
    assert.equal(metricValue(m, 'outrigger_exporter_dropped_log_records_total', LABELS) ?? 0, 0);

    const mine = (d) => d.requests.filter((r) => r.headers['x-instance'] === undefined);
    const a = mine(doubles.a);
    const b = mine(doubles.b);
    // Turns a, dead→b, b, a, dead→b, b, ...: a third to a, the rest (the dead node's
    // turns included) to b. Every request was answered 200, one per push.
    assert.equal(a.length + b.length, PUSHES, `one request per push: a ${a.length}, b ${b.length}`);
    assert.equal(a.length, PUSHES / 3);
    assert.equal(b.length, (2 * PUSHES) / 3);
    assert.ok([...a, ...b].every((r) => r.status === 200 && r.items === PER_PUSH));
    assertExactlyOnce(storedBodies(doubles.a, doubles.b), 'fo', PUSHES * PER_PUSH);
    assert.match(failover.output, new RegExp(`${deadUrl}/_bulk: .*trying the next endpoint`));
  });

  it('a node down and a node answering 503 lose and duplicate nothing', async () => {
    const before = { a: doubles.a.stored().length, b: doubles.b.stored().length };
    for (let i = 0; i < PUSHES; i++) {
      await postOtlpJson(mixed.ports.otlp, '/v1/logs', namedLogs('mx', i * PER_PUSH, (i + 1) * PER_PUSH));
    }
    await waitFor(
      async () => metricValue(await mixed.metrics(), 'outrigger_exporter_sent_log_records_total', LABELS) === PUSHES * PER_PUSH,
      { timeoutMs: 30000, intervalMs: 100, what: 'every push delivered' },
    ).catch(withOutput(mixed));
    assert.equal(metricValue(await mixed.metrics(), 'outrigger_exporter_dropped_log_records_total', LABELS) ?? 0, 0);

    const mine = (d) => d.requests.filter((r) => r.headers['x-instance'] === 'mixed');
    // Spread over every node that listens: a and b indexed, c was asked and said 503.
    assert.ok(mine(doubles.a).some((r) => r.status === 200 && r.items > 0), 'a indexed some');
    assert.ok(mine(doubles.b).some((r) => r.status === 200 && r.items > 0), 'b indexed some');
    assert.ok(mine(doubles.c).length > 0 && mine(doubles.c).every((r) => r.status === 503), 'c was tried, answered 503');
    assert.equal(doubles.c.stored().length, 0);
    const bodies = storedBodies(doubles.a, doubles.b);
    const mx = new Map([...bodies].filter(([k]) => k.startsWith('mx-')));
    assertExactlyOnce(mx, 'mx', PUSHES * PER_PUSH);
    assert.equal(doubles.a.stored().length + doubles.b.stored().length - before.a - before.b, PUSHES * PER_PUSH);
    assert.match(mixed.output, /trying the next endpoint/);
  });
});

// ---- TLS --------------------------------------------------------------------------------

const run = promisify(execFile);
const openssl = (args, cwd) => run('openssl', args, { cwd });

/**
 * A throwaway CA and a server certificate for 127.0.0.1 signed by it (EC P-256, one day),
 * plus an unrelated CA: {caFile, otherCaFile, key, cert} in `dir`.
 */
async function makeCertificates(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const name of ['ca', 'other-ca']) {
    await openssl(
      ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=outrigger test ${name}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    );
  }
  await openssl(['req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  await fs.writeFile(
    path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  await openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
      '-days', '1', '-extfile', 'server.ext'],
    dir,
  );
  return {
    caFile: path.join(dir, 'ca.crt'),
    otherCaFile: path.join(dir, 'other-ca.crt'),
    key: await fs.readFile(path.join(dir, 'server.key')),
    cert: await fs.readFile(path.join(dir, 'server.crt')),
  };
}

describe('elasticsearch exporter over HTTPS', () => {
  const N = 20;
  let dir;
  let certs;
  const doubles = {};
  const instances = {};

  // One HTTPS double per case, so each one's requests and handshakes are its own.
  const start = async (name, tls, retryOnFailure) => {
    doubles[name] = await EsDouble.start(0, { key: certs.key, cert: certs.cert });
    instances[name] = await startLogsToEs(dir, `outrigger-${name}`, {
      endpoint: doubles[name].url,
      tls,
      flush: { interval: '100ms' },
      retry: { initial_interval: '20ms', max_interval: '100ms' },
      retry_on_failure: retryOnFailure,
    });
    await postOtlpJson(instances[name].ports.otlp, '/v1/logs', namedLogs(name, 0, N));
  };

  before(async () => {
    dir = await makeTempDir('outrigger-es-tls-');
    certs = await makeCertificates(dir);
    const fast = { initial_interval: '50ms', max_interval: '200ms' };
    await start('ca', { ca_file: certs.caFile }, fast);
    await start('insecure', { insecure_skip_verify: true }, fast);
    // Untrusted: retried for max_elapsed_time (5m by default: longer than this suite).
    await start('noca', {}, fast);
    // Untrusted with a short retry budget: given up on after 1s.
    await start('wrongca', { ca_file: certs.otherCaFile }, { ...fast, max_elapsed_time: '1s' });
  });

  after(async () => {
    await stopAll(Object.values(instances));
    for (const d of Object.values(doubles)) await d.close();
    if (dir) await removeTempDir(dir);
  });

  const metric = async (name, what) => metricValue(await instances[name].metrics(), what, LABELS) ?? 0;

  it('with the right tls.ca_file every record arrives once, over TLS', async () => {
    await waitFor(async () => (await metric('ca', 'outrigger_exporter_sent_log_records_total')) === N, {
      timeoutMs: 20000,
      intervalMs: 100,
      what: 'every record delivered',
    }).catch(withOutput(instances.ca));
    assertExactlyOnce(storedBodies(doubles.ca), 'ca', N);
    assert.ok(doubles.ca.requests.length > 0 && doubles.ca.requests.every((r) => r.tls));
    assert.deepEqual(doubles.ca.tlsErrors, []);
    assert.equal(await metric('ca', 'outrigger_exporter_send_failed_log_records_total'), 0);
  });

  it('tls.insecure_skip_verify skips verification: every record arrives without a CA', async () => {
    await waitFor(async () => (await metric('insecure', 'outrigger_exporter_sent_log_records_total')) === N, {
      timeoutMs: 20000,
      intervalMs: 100,
      what: 'every record delivered',
    }).catch(withOutput(instances.insecure));
    assertExactlyOnce(storedBodies(doubles.insecure), 'insecure', N);
    assert.deepEqual(doubles.insecure.tlsErrors, []);
  });

  it('without the CA nothing is sent: failures are counted and logged, the records kept for retry', async () => {
    // Several attempts of the whole batch (each one after the exporter's own resends).
    await waitFor(async () => (await metric('noca', 'outrigger_exporter_retries_total')) >= 2, {
      timeoutMs: 20000,
      intervalMs: 100,
      what: 'the helper to retry the batch',
    }).catch(withOutput(instances.noca));
    assert.ok((await metric('noca', 'outrigger_exporter_send_failed_log_records_total')) >= 2 * N);
    assert.equal(await metric('noca', 'outrigger_exporter_sent_log_records_total'), 0);
    assert.equal(await metric('noca', 'outrigger_exporter_dropped_log_records_total'), 0, 'not given up on');
    assert.ok(instances.noca.running);
    // The handshake failed: no _bulk request reached the server, nothing was stored.
    assert.equal(doubles.noca.requests.length, 0);
    assert.equal(doubles.noca.stored().length, 0);
    assert.ok(doubles.noca.tlsErrors.length > 0);
    assert.match(instances.noca.output, new RegExp(`export of ${N} log_records failed, retrying in .*(SSL peer certificate|SSL certificate problem)`));
    // Still retrying at shutdown: given up on at the shutdown deadline, and said so.
    assert.deepEqual(await instances.noca.stop(), { code: 0, signal: null });
    assert.match(instances.noca.output, new RegExp(`dropping ${N} log_records: shutdown deadline reached while retrying`));
  });

  it('with a wrong CA nothing is sent, and the records are counted dropped when retries run out', async () => {
    await waitFor(async () => (await metric('wrongca', 'outrigger_exporter_dropped_log_records_total')) === N, {
      timeoutMs: 20000,
      intervalMs: 100,
      what: 'the exporter to give up after max_elapsed_time',
    }).catch(withOutput(instances.wrongca));
    assert.equal(await metric('wrongca', 'outrigger_exporter_sent_log_records_total'), 0);
    assert.ok((await metric('wrongca', 'outrigger_exporter_send_failed_log_records_total')) >= N);
    assert.equal(doubles.wrongca.requests.length, 0);
    assert.equal(doubles.wrongca.stored().length, 0);
    assert.ok(doubles.wrongca.tlsErrors.length > 0);
    assert.match(instances.wrongca.output, new RegExp(`dropping ${N} log_records: still failing after .*(SSL peer certificate|SSL certificate problem)`));
  });
});

// ---- metrics, ELASTICSEARCH_URL, api_key with user/password, batcher ------------------

/** One OTLP metrics request: at `t`, with attribute cpu=`cpu`, a gauge (int), a monotonic
 * sum (double) and a histogram (bounds 1, 10), all of one resource and scope. */
function metricsRequest(t, cpu) {
  const point = (v) => ({ timeUnixNano: String(t), startTimeUnixNano: String(t - 1000n), attributes: [attr('cpu', cpu)], ...v });
  return {
    resourceMetrics: [
      {
        resource,
        scopeMetrics: [
          {
            scope: { name: 'es-it' },
            metrics: [
              { name: 'system.load', gauge: { dataPoints: [point({ asInt: '3' })] } },
              { name: 'system.cpu.time', sum: { isMonotonic: true, aggregationTemporality: 2, dataPoints: [point({ asDouble: 2 })] } },
              {
                name: 'latency',
                unit: 'ms',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [point({ count: '6', sum: 40, explicitBounds: [1, 10], bucketCounts: ['2', '0', '4'] })],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

function startMetricsToEs(dir, name, elasticsearch) {
  return Outrigger.start({
    name,
    dir,
    portNames: ['health', 'metrics', 'otlp'],
    makeConfig: (ports) => {
      const cfg = collectorConfig(ports, {
        receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
        exporters: { elasticsearch },
        pipelines: {
          metrics: { receivers: ['otlp'], exporters: ['elasticsearch'] },
          logs: { receivers: ['otlp'], exporters: ['elasticsearch'] },
        },
      });
      cfg.service.shutdown_timeout = '2s';
      return cfg;
    },
  });
}

describe('elasticsearch exporter: metrics', () => {
  let dir;
  let es;
  let outrigger;
  const apiKey = Buffer.from('mid:mkey').toString('base64');

  before(async () => {
    dir = await makeTempDir('outrigger-es-metrics-');
    es = await EsDouble.start();
    // The API key is what upstream sends when user/password are given too.
    es.configure({ auth: `ApiKey ${apiKey}` });
    // No endpoint in the config: upstream reads ELASTICSEARCH_URL (inherited by the child).
    process.env.ELASTICSEARCH_URL = es.url;
    try {
      outrigger = await startMetricsToEs(dir, 'outrigger-metrics', {
        api_key: apiKey,
        user: 'elastic',
        password: 'changeme',
        // upstream's batcher: two pushes of 3 data points reach min_size 6 together.
        batcher: { enabled: true, min_size: 6, max_size: 100, flush_timeout: '30s' },
        sending_queue: { num_consumers: 1 },
        retry: { initial_interval: '20ms', max_interval: '100ms' },
      });
    } finally {
      delete process.env.ELASTICSEARCH_URL;
    }
  });

  after(async () => {
    await stopAll([outrigger]);
    if (es) await es.close();
    if (dir) await removeTempDir(dir);
  });

  it('data points of one time and attributes become one document, with dynamic templates', async () => {
    const t = BigInt(Date.now()) * 1000000n;
    await postOtlpJson(outrigger.ports.otlp, '/v1/metrics', metricsRequest(t, '0'));
    await postOtlpJson(outrigger.ports.otlp, '/v1/metrics', metricsRequest(t, '1'));
    await waitFor(
      async () => metricValue(await outrigger.metrics(), 'outrigger_exporter_sent_metric_points_total', LABELS) === 6,
      { timeoutMs: 20000, intervalMs: 100, what: 'six data points sent' },
    ).catch(withOutput(outrigger));
    // The batcher merged the two pushes: one bulk request (flush_timeout is 30s).
    const bulks = es.requests.filter((r) => r.items > 0);
    assert.equal(bulks.length, 1, JSON.stringify(es.requests.map((r) => r.items)));
    assert.equal(bulks[0].headers.authorization, `ApiKey ${apiKey}`);
    // Per cpu: gauge and sum share a document (no unit); the histogram (unit ms) has its own.
    const docs = es.stored('metrics-generic.otel-default');
    assert.equal(docs.length, 4, JSON.stringify(docs.map((d) => d._source)));
    const plain = docs.filter((d) => d._source.attributes.cpu === '0' && !d._source.unit)[0];
    assert.deepEqual(plain._source.metrics, { 'system.load': 3, 'system.cpu.time': 2 });
    assert.deepEqual(plain._source.data_stream, { type: 'metrics', dataset: 'generic.otel', namespace: 'default' });
    assert.equal(plain._source.resource.attributes['service.name'], 'es-it');
    assert.equal(plain._source.scope.name, 'es-it');
    assert.deepEqual(plain.dynamicTemplates, { 'metrics.system.load': 'gauge_long', 'metrics.system.cpu.time': 'counter_double' });
    assert.match(plain.text, /"system\.cpu\.time":2\.0/); // a double keeps its radix point
    const hist = docs.filter((d) => d._source.attributes.cpu === '1' && d._source.unit === 'ms')[0];
    assert.deepEqual(hist._source.metrics.latency, { counts: [2, 4], values: [0.5, 10] });
    assert.deepEqual(hist.dynamicTemplates, { 'metrics.latency': 'histogram' });
  });
});

// ---- discover: sniffing the nodes with GET _nodes/http --------------------------------

describe('elasticsearch exporter: node discovery', () => {
  let dir;
  const doubles = {}; // seed: the configured node; other: found by discovery; master: master-only
  let outrigger;

  before(async () => {
    dir = await makeTempDir('outrigger-es-discover-');
    for (const k of ['seed', 'other', 'master']) doubles[k] = await EsDouble.start();
    const auth = `Basic ${Buffer.from('elastic:changeme').toString('base64')}`;
    for (const d of Object.values(doubles)) d.configure({ auth });
    doubles.seed.configure({
      nodes: [
        { id: 'a', publishAddress: `127.0.0.1:${doubles.seed.port}` },
        { id: 'b', publishAddress: `localhost/127.0.0.1:${doubles.other.port}` },
        { id: 'm', publishAddress: `127.0.0.1:${doubles.master.port}`, roles: ['master'] },
      ],
    });
    outrigger = await startLogsToEs(dir, 'outrigger-discover', {
      endpoint: doubles.seed.url,
      user: 'elastic',
      password: 'changeme',
      discover: { on_start: true, interval: '200ms' },
      sending_queue: { num_consumers: 1, batch: { enabled: false } },
    });
  });

  after(async () => {
    await stopAll([outrigger]);
    for (const d of Object.values(doubles)) await d.close();
    if (dir) await removeTempDir(dir);
  });

  it('spreads requests over the data nodes _nodes/http lists, never a master-only node', async () => {
    await waitFor(async () => doubles.seed.nodesRequests.length > 0, { what: 'a GET _nodes/http' }).catch(withOutput(outrigger));
    assert.equal(doubles.seed.nodesRequests[0].headers.authorization, `Basic ${Buffer.from('elastic:changeme').toString('base64')}`);
    let pushes = 0;
    await waitFor(
      async () => {
        await postOtlpJson(outrigger.ports.otlp, '/v1/logs', namedLogs('disc', pushes, pushes + 1));
        pushes++;
        return doubles.other.stored().length > 0 && doubles.seed.stored().length > 0;
      },
      { timeoutMs: 20000, intervalMs: 100, what: 'documents on both data nodes' },
    ).catch(withOutput(outrigger));
    await waitFor(
      async () => metricValue(await outrigger.metrics(), 'outrigger_exporter_sent_log_records_total', LABELS) === pushes,
      { what: 'every push sent' },
    );
    assertExactlyOnce(storedBodies(doubles.seed, doubles.other), 'disc', pushes);
    assert.equal(doubles.master.requests.length, 0);
  });
});
