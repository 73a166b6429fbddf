// hot-shots (npm, DogStatsD mode) → outrigger statsd receiver → batch → file exporter.
// Tags become attributes (a flag tag has the value ""), the client's container id (|c:)
// becomes container.id, histograms (h) and distributions (d) follow
// timer_histogram_mapping, events and service checks become log records.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import StatsD from 'hot-shots';

import { Outrigger, makeTempDir, readJsonLines, removeTempDir, scrubClientEnv, statsdConfig } from './lib/harness.mjs';
import { collectLogs, collectSeries, numberValue, onePoint, quantiles, seriesKey, seriesKeys, u64 } from './lib/otlp.mjs';

scrubClientEnv();

const CONTAINER = 'c0ffee42d00d';
const MAPPING = [
  { statsd_type: 'timing', observer_type: 'summary', summary: { percentiles: [50, 100] } },
  { statsd_type: 'histogram', observer_type: 'histogram', histogram: { explicit_buckets: [10, 100, 1000] } },
  { statsd_type: 'distribution', observer_type: 'histogram', histogram: { max_size: 160 } },
];

/**
 * A hot-shots client in DogStatsD mode with everything that depends on the environment
 * pinned (no telemetry metrics, no DD_* tags, no origin detection), recording every
 * payload it hands to its socket in `wire`.
 */
function client(opts) {
  const errors = [];
  const wire = [];
  const c = new StatsD({
    host: '127.0.0.1',
    datadog: true,
    includeDatadogTelemetry: false,
    includeDataDogTags: false,
    originDetection: false,
    containerID: CONTAINER,
    globalTags: { env: 'it' },
    errorHandler: (e) => errors.push(e),
    ...opts,
  });
  const send = c.socket.send;
  c.socket.send = (buf, cb) => {
    wire.push(buf.toString('utf8'));
    return send(buf, cb);
  };
  return { c, errors, wire };
}

function close(c) {
  return new Promise((resolve, reject) => c.close((e) => (e ? reject(e) : resolve())));
}

/** Calls fn with Math.random returning the values of `seq` in turn (hot-shots' sampling). */
function withRandom(seq, fn) {
  const orig = Math.random;
  let i = 0;
  Math.random = () => seq[i++ % seq.length];
  try {
    fn();
  } finally {
    Math.random = orig;
  }
}

/** Where `v` belongs in an exponential histogram of this scale: (base^i, base^(i+1)]. */
function expIndex(v, scale) {
  return Math.ceil(Math.log2(v) * 2 ** scale) - 1;
}

describe('hot-shots (DogStatsD)', () => {
  let dir;
  const collectors = [];
  before(async () => {
    dir = await makeTempDir();
  });
  after(async () => {
    await Promise.all(collectors.map((c) => c.kill()));
    await removeTempDir(dir);
  });

  test('udp: tagged counters, gauges, sets, timings, histograms, distributions, sampling, buffering, events and checks', async () => {
    const outFile = path.join(dir, 'hot-shots-udp.jsonl');
    const o = await Outrigger.start({
      name: 'hot-shots-udp',
      dir,
      ports: { health: 'tcp', metrics: 'tcp', statsd: 'udp' },
      makeConfig: (ports) =>
        statsdConfig(ports, {
          outFile,
          logs: true,
          statsd: { endpoint: `127.0.0.1:${ports.statsd}`, aggregation_interval: '60s', timer_histogram_mapping: MAPPING },
        }),
    });
    collectors.push(o);
    const testStart = BigInt(Date.now()) * 1000000n;

    // One datagram per call.
    const a = client({ port: o.ports.statsd, protocol: 'udp' });
    const api = ['route:/api', 'canary'];
    for (let i = 0; i < 3; i++) a.c.increment('hs.requests', 1, api);
    a.c.increment('hs.requests', 4, { tags: api }); // the options-object form
    a.c.increment('hs.requests', 2, ['route:/home']);
    a.c.decrement('hs.requests', 1, ['route:/home']);
    a.c.increment('hs.url', 1, ['url:http://example.com:8080/x']); // ':' stays in a tag value
    // 20 calls at rate 0.5; the client sends the 12 whose random number is below 0.5.
    withRandom([0.1, 0.7, 0.3, 0.9, 0.2], () => {
      for (let i = 0; i < 20; i++) a.c.increment('hs.sampled', 1, 0.5, ['k:v']);
    });
    for (const v of [5, 10, 50, 100, 500, 5000]) a.c.histogram('hs.payload', v, ['endpoint:upload']);
    for (const v of [1, 2, 4, 8, 3.5]) a.c.distribution('hs.latency', v);
    for (const v of [3, 1, 2]) a.c.timing('hs.db', v);
    a.c.gauge('hs.queue', 17);
    a.c.gaugeDelta('hs.queue', -2);
    a.c.gaugeDelta('hs.queue', 10);
    a.c.set('hs.users', 'u1');
    a.c.unique('hs.users', 'u2');
    a.c.set('hs.users', 'u1');
    a.c.set('hs.users', 42);
    const metricCallsA = 4 + 2 + 1 + 12 + 6 + 5 + 3 + 3 + 4;

    a.c.event('Deploy finished', 'version 1.2.3 | live', {
      hostname: 'web-1',
      priority: 'low',
      alert_type: 'error',
      aggregation_key: 'deploy-42',
      source_type_name: 'jenkins',
      date_happened: new Date(1700000000000),
    }, ['team:core', 'urgent']);
    a.c.event('Disk filling', 'at 91%', { alert_type: 'warning' });
    a.c.event('Plain event', 'nothing special');
    a.c.check('db.reachable', a.c.CHECKS.CRITICAL, { hostname: 'db-1', message: 'connection refused', date_happened: new Date(1700000100000) }, ['db:main']);
    a.c.check('api.health', a.c.CHECKS.OK, { message: 'fine' });
    a.c.check('cron.last_run', a.c.CHECKS.UNKNOWN, { message: 'no data' });
    await close(a.c);

    // Buffered: several lines per datagram, the rest flushed by close().
    const b = client({ port: o.ports.statsd, protocol: 'udp', maxBufferSize: 400, bufferFlushInterval: 60000 });
    for (let i = 1; i <= 50; i++) {
      b.c.increment('hs.buffered', 1, ['client:b']);
      b.c.gauge('hs.buffered_gauge', i, ['client:b']);
    }
    await close(b.c);

    assert.deepEqual(a.errors, [], 'client a errors');
    assert.deepEqual(b.errors, [], 'client b errors');
    assert.equal(a.wire.length, metricCallsA + 6, 'client a: one datagram per call');
    for (const d of a.wire) assert.ok(d.includes(`|c:${CONTAINER}`), `container id field in ${JSON.stringify(d)}`);
    assert.ok(b.wire.length > 1 && b.wire.length < 100, `client b buffered 100 lines into ${b.wire.length} datagrams`);
    assert.equal(b.wire.flatMap((d) => d.split('\n')).filter((l) => l).length, 100, 'client b lines');
    assert.ok(b.wire.every((d) => Buffer.byteLength(d) <= 400), 'client b datagrams within maxBufferSize');

    await o.waitReceiverCounts({ acceptedPoints: metricCallsA + 100, refusedPoints: 0, malformed: 0, acceptedLogs: 6, refusedLogs: 0 });
    await o.stopCleanly();
    const testEnd = BigInt(Date.now()) * 1000000n;

    const lines = await readJsonLines(outFile);
    const series = collectSeries(lines);
    const base = { env: 'it', 'container.id': CONTAINER };
    const apiAttrs = { ...base, route: '/api', canary: '' };
    const homeAttrs = { ...base, route: '/home' };
    const expected = [
      ['hs.requests', apiAttrs], ['hs.requests', homeAttrs], ['hs.url', { ...base, url: 'http://example.com:8080/x' }],
      ['hs.sampled', { ...base, k: 'v' }], ['hs.payload', { ...base, endpoint: 'upload' }], ['hs.latency', base],
      ['hs.db', base], ['hs.queue', base], ['hs.users', base],
      ['hs.buffered', { ...base, client: 'b' }], ['hs.buffered_gauge', { ...base, client: 'b' }],
    ];
    assert.deepEqual(seriesKeys(series), expected.map(([n, at]) => seriesKey(n, at)).sort());

    const value = (name, at, kind) => numberValue(onePoint(series, name, at, kind).point, name);
    assert.equal(value('hs.requests', apiAttrs, 'sum'), 7);
    assert.equal(value('hs.requests', homeAttrs, 'sum'), 1);
    assert.equal(value('hs.url', { ...base, url: 'http://example.com:8080/x' }, 'sum'), 1);
    assert.equal(value('hs.sampled', { ...base, k: 'v' }, 'sum'), 24); // 12 sent, each 1 / 0.5
    assert.equal(value('hs.queue', base, 'gauge'), 25); // 17 - 2 + 10
    assert.equal(value('hs.users', base, 'gauge'), 3); // u1, u2, 42
    assert.equal(value('hs.buffered', { ...base, client: 'b' }, 'sum'), 50);
    assert.equal(value('hs.buffered_gauge', { ...base, client: 'b' }, 'gauge'), 50); // the last one sent

    // histogram → explicit buckets (b[i-1], b[i]]
    const payload = onePoint(series, 'hs.payload', { ...base, endpoint: 'upload' }, 'histogram');
    assert.equal(payload.series.metrics[0].aggregationTemporality, 1, 'histogram: delta');
    assert.deepEqual(payload.point.explicitBounds, [10, 100, 1000]);
    assert.deepEqual(payload.point.bucketCounts.map((c) => u64(c, 'bucket')), [2, 2, 1, 1]);
    assert.equal(u64(payload.point.count, 'count'), 6);
    assert.equal(payload.point.sum, 5665);
    assert.equal(payload.point.min, 5);
    assert.equal(payload.point.max, 5000);

    // distribution → exponential histogram
    const lat = onePoint(series, 'hs.latency', base, 'exponentialHistogram').point;
    assert.equal(u64(lat.count, 'count'), 5);
    assert.equal(lat.sum, 18.5);
    assert.equal(lat.min, 1);
    assert.equal(lat.max, 8);
    assert.equal(u64(lat.zeroCount, 'zeroCount'), 0);
    const scale = lat.scale ?? 0;
    const offset = lat.positive?.offset ?? 0;
    const counts = (lat.positive?.bucketCounts ?? []).map((c) => u64(c, 'bucket'));
    assert.ok(counts.length >= 1 && counts.length <= 160, `at most max_size buckets: ${counts.length}`);
    const want = new Array(counts.length).fill(0);
    for (const v of [1, 2, 4, 8, 3.5]) want[expIndex(v, scale) - offset] += 1;
    assert.deepEqual(counts, want, `buckets at scale ${scale}, offset ${offset}`);
    // The finest scale whose bucket range for [1, 8] fits in 160 buckets.
    assert.ok(expIndex(8, scale) - expIndex(1, scale) + 1 <= 160);
    assert.ok(scale === 20 || expIndex(8, scale + 1) - expIndex(1, scale + 1) + 1 > 160, `scale ${scale} is the finest that fits`);

    // timing → summary
    const db = onePoint(series, 'hs.db', base, 'summary');
    assert.equal(db.series.unit, 'ms');
    assert.equal(u64(db.point.count, 'count'), 3);
    assert.equal(db.point.sum, 6);
    assert.deepEqual(quantiles(db.point), { 0.5: 2, 1: 3 });

    // Events and service checks → log records.
    // Events and checks carry the client's container id too (|c:); whether it becomes an
    // attribute of the log record is left open, but if it does it must be the right one.
    const logs = collectLogs(lines).map((l) => {
      const { 'container.id': cid, ...rest } = l.attrs;
      if (cid !== undefined) assert.equal(cid, CONTAINER, 'container.id of a log record');
      return { ...l, attrs: rest };
    });
    assert.equal(logs.length, 6, 'log records');
    const byTitle = (t) => logs.find((l) => l.attrs['event.title'] === t || l.attrs['service_check.name'] === t);
    const deploy = byTitle('Deploy finished');
    assert.deepEqual(
      { body: deploy.body, severityNumber: deploy.severityNumber, severityText: deploy.severityText, time: deploy.time, attrs: deploy.attrs },
      {
        body: 'version 1.2.3 | live',
        severityNumber: 17,
        severityText: 'ERROR',
        time: '1700000000000000000',
        attrs: {
          env: 'it', team: 'core', urgent: '', 'dogstatsd.type': 'event', 'event.title': 'Deploy finished',
          'host.name': 'web-1', 'event.priority': 'low', 'event.alert_type': 'error',
          'event.aggregation_key': 'deploy-42', 'event.source_type': 'jenkins',
        },
      },
    );
    const disk = byTitle('Disk filling');
    assert.deepEqual([disk.body, disk.severityNumber, disk.severityText, disk.attrs],
      ['at 91%', 13, 'WARN', { env: 'it', 'dogstatsd.type': 'event', 'event.title': 'Disk filling', 'event.alert_type': 'warning' }]);
    const plain = byTitle('Plain event');
    assert.deepEqual([plain.body, plain.severityNumber, plain.attrs],
      ['nothing special', 9, { env: 'it', 'dogstatsd.type': 'event', 'event.title': 'Plain event' }]);
    for (const l of [disk, plain]) {
      const t = BigInt(l.time);
      assert.ok(t >= testStart && t <= testEnd, `${l.attrs['event.title']}: an event without a date is stamped on receipt`);
    }
    const db1 = byTitle('db.reachable');
    assert.deepEqual(
      [db1.body, db1.severityNumber, db1.severityText, db1.time, db1.attrs],
      ['connection refused', 17, 'CRITICAL', '1700000100000000000', {
        env: 'it', db: 'main', 'dogstatsd.type': 'service_check', 'service_check.name': 'db.reachable',
        'service_check.status': 'CRITICAL', 'host.name': 'db-1',
      }],
    );
    const ok = byTitle('api.health');
    assert.deepEqual([ok.body, ok.severityNumber, ok.severityText, ok.attrs['service_check.status']], ['fine', 9, 'OK', 'OK']);
    const unknown = byTitle('cron.last_run');
    assert.deepEqual([unknown.body, unknown.severityNumber, unknown.severityText, unknown.attrs['service_check.status']],
      ['no data', 5, 'UNKNOWN', 'UNKNOWN']);
  });

  test('tcp: tagged counters, gauges, histograms and an event over one connection', async () => {
    const outFile = path.join(dir, 'hot-shots-tcp.jsonl');
    const o = await Outrigger.start({
      name: 'hot-shots-tcp',
      dir,
      ports: { health: 'tcp', metrics: 'tcp', statsd: 'tcp' },
      makeConfig: (ports) =>
        statsdConfig(ports, {
          outFile,
          logs: true,
          statsd: { endpoint: `127.0.0.1:${ports.statsd}`, transport: 'tcp', aggregation_interval: '60s', timer_histogram_mapping: MAPPING },
        }),
    });
    collectors.push(o);
    const t = client({ port: o.ports.statsd, protocol: 'tcp' });
    for (let i = 0; i < 100; i++) t.c.increment('tcp.requests', 1, [`shard:${i % 4}`]);
    for (const v of [1, 20, 300]) t.c.histogram('tcp.size', v);
    t.c.gauge('tcp.level', 3);
    t.c.gaugeDelta('tcp.level', 4);
    t.c.event('TCP event', 'sent over a stream');
    await close(t.c);
    assert.deepEqual(t.errors, [], 'client errors');

    await o.waitReceiverCounts({ acceptedPoints: 105, refusedPoints: 0, malformed: 0, acceptedLogs: 1 }, { labels: { receiver: 'statsd', transport: 'tcp' } });
    await o.stopCleanly();
    const lines = await readJsonLines(outFile);
    const series = collectSeries(lines);
    const base = { env: 'it', 'container.id': CONTAINER };
    assert.deepEqual(seriesKeys(series), [
      ...[0, 1, 2, 3].map((s) => seriesKey('tcp.requests', { ...base, shard: String(s) })),
      seriesKey('tcp.size', base), seriesKey('tcp.level', base),
    ].sort());
    for (let s = 0; s < 4; s++) {
      assert.equal(numberValue(onePoint(series, 'tcp.requests', { ...base, shard: String(s) }, 'sum').point), 25, `shard ${s}`);
    }
    assert.equal(numberValue(onePoint(series, 'tcp.level', base, 'gauge').point), 7);
    const size = onePoint(series, 'tcp.size', base, 'histogram').point;
    assert.deepEqual(size.bucketCounts.map((c) => u64(c)), [1, 1, 1, 0]);
    assert.equal(size.sum, 321);
    const logs = collectLogs(lines);
    assert.equal(logs.length, 1);
    assert.deepEqual(logs.map((l) => [l.body, l.attrs['event.title']]), [['sent over a stream', 'TCP event']]);
  });

  test.skip('unixgram: hot-shots\' "uds" protocol needs the native unix-dgram module, which is not installed (.npmrc omit=optional); unixgram is covered by python_statsd.test.mjs', () => {});
});
