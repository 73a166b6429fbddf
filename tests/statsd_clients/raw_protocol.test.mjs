// Hand-written StatsD lines (node:dgram / node:net) where the exact bytes matter: sample
// rates scaling timer counts, sums and bucket counts (not their values), malformed lines
// next to good ones, the per-metric series limit, and delta / cumulative counters over
// several aggregation intervals.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Outrigger,
  SELF_METRICS,
  makeTempDir,
  metricValue,
  readJsonLines,
  removeTempDir,
  sendTcp,
  sendUdp,
  statsdConfig,
  waitFor,
} from './lib/harness.mjs';
import { collectSeries, mergedValue, numberValue, onePoint, quantiles, seriesKey, seriesKeys, u64 } from './lib/otlp.mjs';

const repeat = (line, n) => Array.from({ length: n }, () => line);

/** Packs lines into datagrams of at most `max` bytes (newline-separated). */
function pack(lines, max = 1400) {
  const out = [];
  let cur = '';
  for (const l of lines) {
    if (cur && cur.length + 1 + l.length > max) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) out.push(cur);
  return out;
}

/** Where `v` (> 0) belongs in an exponential histogram of this scale: (base^i, base^(i+1)]. */
const expIndex = (v, scale) => Math.ceil(Math.log2(v) * 2 ** scale) - 1;

describe('raw StatsD lines', () => {
  let dir;
  const collectors = [];
  before(async () => {
    dir = await makeTempDir();
  });
  after(async () => {
    await Promise.all(collectors.map((c) => c.kill()));
    await removeTempDir(dir);
  });

  async function start(name, statsd, { transport = 'udp', batchTimeout = '100ms' } = {}) {
    const outFile = path.join(dir, `${name}.jsonl`);
    const o = await Outrigger.start({
      name,
      dir,
      ports: { health: 'tcp', metrics: 'tcp', statsd: transport },
      makeConfig: (ports) =>
        statsdConfig(ports, { outFile, batchTimeout, statsd: { endpoint: `127.0.0.1:${ports.statsd}`, transport, ...statsd } }),
    });
    collectors.push(o);
    o.outFile = outFile;
    return o;
  }

  test('sample rates scale timer counts, sums and bucket counts, not values (contrib#5252)', async () => {
    const o = await start('sample-rates', {
      aggregation_interval: '60s',
      timer_histogram_mapping: [
        { statsd_type: 'timing', observer_type: 'summary', summary: { percentiles: [0, 10, 20, 21, 50, 60, 61, 90, 99, 100] } },
        { statsd_type: 'histogram', observer_type: 'histogram', histogram: { explicit_buckets: [10, 100, 1000] } },
        { statsd_type: 'distribution', observer_type: 'histogram', histogram: { max_size: 20 } },
      ],
    });
    const lines = [
      ...repeat('lat:100|ms|@0.1', 50), // 50 samples at 10 % stand for 500
      ...repeat('q:1|ms|@0.5', 10), // weight 20
      ...repeat('q:2|ms', 20), // weight 20
      ...repeat('q:3|ms|@0.25', 5), // weight 20
      ...repeat('q:4|ms', 40), // weight 40
      'mv:10:20:30|ms|@0.5', // DogStatsD multi-value line: 3 values, each weight 2
      ...repeat('h:5|h|@0.5', 4), // bucket (-inf, 10]: 8
      ...repeat('h:10|h|@0.25', 2), // (-inf, 10] (upper bound inclusive): 8
      ...repeat('h:50|h', 3), // (10, 100]: 3
      'h:100|h|@0.1', // (10, 100]: 10
      'h:5000|h|@0.5', // (1000, +inf): 2
      ...repeat('d:3|d|@0.5', 2), // weight 4
      ...repeat('d:7|d', 3), // weight 3
      'd:1000|d|@0.25', // weight 4
      'd:0|d|@0.5', // zero bucket: 2
      'd:-5|d', // negative: 1
      ...repeat('c:1|c|@0.1', 7), // 70
      ...repeat('c2:2.5|c|@0.5', 2), // 10
      'c3:3|c|@0.25|#a:b', // 12
      'g:42|g|@0.5', // gauges are not scaled
      's:x|s|@0.1',
      's:y|s|@0.1',
      's:x|s|@0.1', // sets count members, whatever the rate
    ];
    await sendUdp(o.ports.statsd, pack(lines));
    const points = 50 + 75 + 3 + 11 + 8 + 10 + 1 + 3;
    await o.waitReceiverCounts({ acceptedPoints: points, refusedPoints: 0, malformed: 0 });
    await o.stopCleanly();
    const series = collectSeries(await readJsonLines(o.outFile));
    assert.deepEqual(seriesKeys(series),
      ['lat', 'q', 'mv', 'h', 'd', 'c', 'c2', 'g', 's'].map((n) => seriesKey(n)).concat(seriesKey('c3', { a: 'b' })).sort());

    const lat = onePoint(series, 'lat', {}, 'summary').point;
    assert.equal(u64(lat.count, 'lat.count'), 500, 'count scaled by 1/rate');
    assert.equal(lat.sum, 50000, 'sum scaled by 1/rate');
    for (const [q, v] of Object.entries(quantiles(lat))) assert.equal(v, 100, `lat quantile ${q}: values are not scaled`);
    assert.equal((lat.quantileValues ?? []).length, 10);

    const q = onePoint(series, 'q', {}, 'summary').point;
    assert.equal(u64(q.count, 'q.count'), 100);
    assert.equal(q.sum, 280);
    assert.deepEqual(quantiles(q), { 0: 1, 0.1: 1, 0.2: 1, 0.21: 2, 0.5: 3, 0.6: 3, 0.61: 4, 0.9: 4, 0.99: 4, 1: 4 });

    const mv = onePoint(series, 'mv', {}, 'summary').point;
    assert.equal(u64(mv.count, 'mv.count'), 6);
    assert.equal(mv.sum, 120);
    assert.deepEqual(quantiles(mv), { 0: 10, 0.1: 10, 0.2: 10, 0.21: 10, 0.5: 20, 0.6: 20, 0.61: 20, 0.9: 30, 0.99: 30, 1: 30 });

    const h = onePoint(series, 'h', {}, 'histogram').point;
    assert.deepEqual(h.explicitBounds, [10, 100, 1000]);
    assert.deepEqual(h.bucketCounts.map((c) => u64(c, 'h.bucket')), [16, 13, 0, 2]);
    assert.equal(u64(h.count, 'h.count'), 31);
    assert.equal(h.sum, 11270);
    assert.equal(h.min, 5);
    assert.equal(h.max, 5000);

    const d = onePoint(series, 'd', {}, 'exponentialHistogram').point;
    assert.equal(u64(d.count, 'd.count'), 14);
    assert.equal(d.sum, 4028); // 12 + 21 + 4000 + 0 - 5
    assert.equal(d.min, -5);
    assert.equal(d.max, 1000);
    assert.equal(u64(d.zeroCount, 'd.zeroCount'), 2);
    // max_size 20: scale 1 is the finest at which (3, 1000] fits in 20 buckets.
    assert.equal(d.scale, 1);
    const pos = new Array(expIndex(1000, 1) - expIndex(3, 1) + 1).fill(0);
    pos[0] = 4;
    pos[expIndex(7, 1) - expIndex(3, 1)] = 3;
    pos[pos.length - 1] = 4;
    assert.equal(d.positive?.offset ?? 0, expIndex(3, 1));
    assert.deepEqual(d.positive.bucketCounts.map((c) => u64(c)), pos);
    assert.equal(d.negative?.offset ?? 0, expIndex(5, 1));
    assert.deepEqual(d.negative.bucketCounts.map((c) => u64(c)), [1]);

    assert.equal(numberValue(onePoint(series, 'c', {}, 'sum').point), 70);
    assert.equal(numberValue(onePoint(series, 'c2', {}, 'sum').point), 10);
    assert.equal(numberValue(onePoint(series, 'c3', { a: 'b' }, 'sum').point), 12);
    assert.equal(numberValue(onePoint(series, 'g', {}, 'gauge').point), 42);
    assert.equal(numberValue(onePoint(series, 's', {}, 'gauge').point), 2);
  });

  test('malformed lines are counted; their neighbours in the same datagram are all kept', async () => {
    const o = await start('malformed', { aggregation_interval: '60s' });
    const mixed = [
      'ok.a:1|c',
      'this is not statsd', // bad
      'ok.b:2|c|#t:v',
      'ok.c:x|c', // bad: value
      'ok.d:3|c|@2', // bad: rate > 1
      'ok.e:4|c|@0', // bad: rate 0
      ':5|c', // bad: empty name
      'ok.f:1|zz', // bad: type
      'ok.g:6|ms',
      'ok.h:1|c|#a:b|what', // bad: unknown field
      '_e{5,3}:abc|d', // bad: event lengths do not match
      '_sc|x|9', // bad: service check status
      'ok.i:|c', // bad: empty value
      'ok.j:7|g\r', // CRLF line ending: fine
      '', // empty line: skipped, not malformed
      'ok.k:1:2:3|d', // 3 values (default mapping: gauge, the last value)
      'ok.l:1|c|T12x', // bad: timestamp
      'ok.m:5|c|T1700000000',
    ].join('\n');
    const bigDatagram = 'big:1|c\n'.repeat(2500); // 20000 bytes: more than the receiver reads, refused whole
    await sendUdp(o.ports.statsd, [mixed, 'garbage\n|||', bigDatagram, 'ok.a:1|c']);
    await o.waitReceiverCounts({ acceptedPoints: 1 + 1 + 1 + 1 + 3 + 1 + 1, malformed: 11 + 2 + 1, refusedPoints: 0 });
    await o.stopCleanly();
    const series = collectSeries(await readJsonLines(o.outFile));
    assert.deepEqual(seriesKeys(series), [
      seriesKey('ok.a'), seriesKey('ok.b', { t: 'v' }), seriesKey('ok.g'), seriesKey('ok.j'), seriesKey('ok.k'), seriesKey('ok.m'),
    ].sort());
    assert.equal(numberValue(onePoint(series, 'ok.a', {}, 'sum').point), 2);
    assert.equal(numberValue(onePoint(series, 'ok.b', { t: 'v' }, 'sum').point), 2);
    assert.equal(numberValue(onePoint(series, 'ok.g', {}, 'gauge').point), 6); // timing, default mapping: gauge
    assert.equal(numberValue(onePoint(series, 'ok.j', {}, 'gauge').point), 7);
    assert.equal(numberValue(onePoint(series, 'ok.k', {}, 'gauge').point), 3);
    assert.equal(numberValue(onePoint(series, 'ok.m', {}, 'sum').point), 5);
  });

  test('tcp: lines split across writes, a last line without newline, a line over max_tcp_line_length', async () => {
    const o = await start('tcp-stream', { aggregation_interval: '60s', max_tcp_line_length: 1000 }, { transport: 'tcp' });
    const labels = { receiver: 'statsd', transport: 'tcp' };
    await sendTcp(o.ports.statsd, ['t.a:1|c\nt.b:2', '|c\nbad line\nt.', 'c:3|c\nt.a:1|c']);
    await o.waitReceiverCounts({ acceptedPoints: 4, malformed: 1 }, { labels });
    // A line longer than max_tcp_line_length is dropped (counted as malformed) and the
    // connection goes on. The rest of that line, once its newline arrives, is part of the
    // dropped line: it must not be read as a metric of its own ("tail:1|c").
    const conn = (await import('node:net')).connect({ port: o.ports.statsd, host: '127.0.0.1' });
    await new Promise((resolve, reject) => conn.once('connect', resolve).once('error', reject));
    await new Promise((resolve, reject) => conn.write(`long.${'x'.repeat(1500)}`, (e) => (e ? reject(e) : resolve())));
    await o.waitReceiverCounts({ acceptedPoints: 4, malformed: 2 }, { labels });
    await new Promise((resolve) => conn.end('tail:1|c\nt.after:1|c\n', resolve));
    // Both lines arrive in one read: once "t.after" is in, so is whatever "tail" became.
    const samples = await waitFor(async () => {
      const s = await o.metrics();
      return (metricValue(s, SELF_METRICS.acceptedPoints, labels) ?? 0) >= 5 && s;
    }, { what: 't.after to be accepted' });
    await o.stopCleanly();
    const series = collectSeries(await readJsonLines(o.outFile));
    assert.deepEqual(seriesKeys(series), ['t.a', 't.b', 't.c', 't.after'].map((n) => seriesKey(n)).sort(),
      'the tail of the over-long line must not become a metric');
    assert.equal(metricValue(samples, SELF_METRICS.acceptedPoints, labels), 5, 'accepted points');
    assert.equal(numberValue(onePoint(series, 't.a', {}, 'sum').point), 2);
    assert.equal(numberValue(onePoint(series, 't.b', {}, 'sum').point), 2);
    assert.equal(numberValue(onePoint(series, 't.c', {}, 'sum').point), 3);
    assert.equal(numberValue(onePoint(series, 't.after', {}, 'sum').point), 1);
  });

  test('max_series_per_metric: 5 series per metric name, the rest refused and counted', async () => {
    const o = await start('cardinality', { aggregation_interval: '60s', max_series_per_metric: 5 });
    // One datagram, so the first five ids are the ones that get in.
    const first = Array.from({ length: 20 }, (_, i) => `card:1|c|#id:${i}`).join('\n');
    const second = ['card:1|c|#id:0', 'card:1|c|#id:19', 'other:1|c|#id:a', 'other:1|c|#id:b', 'other:1|c|#id:c']
      .concat(Array.from({ length: 7 }, (_, i) => `wide:${i}|g|#id:${i}`))
      .join('\n');
    await sendUdp(o.ports.statsd, [first, second]);
    const samples = await o.waitReceiverCounts({ acceptedPoints: 5 + 1 + 3 + 5, refusedPoints: 15 + 1 + 2 });
    await o.stopCleanly();
    const series = collectSeries(await readJsonLines(o.outFile));
    assert.deepEqual(seriesKeys(series), [
      ...[0, 1, 2, 3, 4].map((i) => seriesKey('card', { id: String(i) })),
      ...['a', 'b', 'c'].map((i) => seriesKey('other', { id: i })),
      ...[0, 1, 2, 3, 4].map((i) => seriesKey('wide', { id: String(i) })),
    ].sort());
    assert.equal(numberValue(onePoint(series, 'card', { id: '0' }, 'sum').point), 2, 'an existing series still takes values');
    for (const i of [1, 2, 3, 4]) assert.equal(numberValue(onePoint(series, 'card', { id: String(i) }, 'sum').point), 1);
    for (const i of [0, 1, 2, 3, 4]) assert.equal(numberValue(onePoint(series, 'wide', { id: String(i) }, 'gauge').point), i);
    // Lines refused by the limit are well-formed: refused, not malformed.
    assert.equal(metricValue(samples, SELF_METRICS.malformed, { receiver: 'statsd' }), 0, 'malformed requests');
  });

  test('SIGTERM: datagrams already delivered to the socket are in the final flush', async () => {
    // outrigger is stopped (SIGSTOP) while the datagrams arrive, so they wait in the
    // socket's receive queue; then SIGTERM and SIGCONT. Shutdown must read what is queued
    // before its final flush. (A receiver that closes its socket without reading it loses
    // the queue only in some rounds, about 1 in 5 here, depending on which the event loop
    // takes first: the readable socket or the shutdown; hence 20 rounds.)
    for (let round = 1; round <= 20; round++) {
      const o = await start(`drain-${round}`, { aggregation_interval: '60s', socket_buffer_size: '4MiB' });
      o.proc.kill('SIGSTOP');
      await sendUdp(o.ports.statsd, repeat('drain:1|c', 100));
      o.proc.kill('SIGTERM');
      o.proc.kill('SIGCONT');
      const exit = await o.waitExit(30000, 'of SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM:\n${o.output}`);
      const series = collectSeries(await readJsonLines(o.outFile));
      const drain = series.get(seriesKey('drain'));
      assert.equal(drain ? mergedValue(drain) : 0, 100, `round ${round}: all 100 datagrams sent before SIGTERM are counted`);
    }
  });

  /**
   * Sends one datagram per round; after each, waits until the file holds the round's
   * flush (so rounds land in different aggregation intervals for sure), then stops.
   */
  async function rounds(o, name, n, flushed) {
    for (let r = 1; r <= n; r++) {
      await sendUdp(o.ports.statsd, [[`${name}.count:${r}|c`, `${name}.set:m${r}a|s`, `${name}.set:m${r}b|s`, `${name}.gauge:+1|g`].join('\n')]);
      await waitFor(async () => flushed(collectSeries(await readJsonLines(o.outFile, { partialOk: true })), r), {
        what: `${o.name}: round ${r} flushed`,
      });
    }
    await o.waitReceiverCounts({ acceptedPoints: 4 * n, malformed: 0, refusedPoints: 0 });
    await o.stopCleanly();
    return collectSeries(await readJsonLines(o.outFile));
  }
  const byTime = (s) => [...s.points].sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1));

  test('delta counters over several intervals add up exactly; sets reset, gauges carry over', async () => {
    // Short intervals (a series idle for 5 intervals is forgotten, so not too short: a
    // gauge must survive the wait between rounds) and a short batch timeout.
    const o = await start('intervals-delta', { aggregation_interval: '200ms' }, { batchTimeout: '10ms' });
    const series = await rounds(o, 'iv', 4, (s, r) => (s.get(seriesKey('iv.count'))?.points.length ?? 0) >= r);
    const count = series.get(seriesKey('iv.count'));
    assert.equal(count.kind, 'sum');
    assert.equal(count.points.length, 4, 'one point per interval with data');
    assert.deepEqual(byTime(count).map((p) => numberValue(p)), [1, 2, 3, 4]);
    assert.equal(mergedValue(count), 10);
    const pts = byTime(count);
    for (let i = 1; i < pts.length; i++) {
      assert.ok(BigInt(pts[i].startTimeUnixNano) >= BigInt(pts[i - 1].timeUnixNano), 'delta intervals do not overlap');
    }
    assert.deepEqual(byTime(series.get(seriesKey('iv.set'))).map((p) => numberValue(p)), [2, 2, 2, 2], 'a set counts one interval');
    assert.deepEqual(byTime(series.get(seriesKey('iv.gauge'))).map((p) => numberValue(p)), [1, 2, 3, 4], 'gauge deltas accumulate');
  });

  test('aggregation_temporality cumulative: one start time, running totals', async () => {
    const o = await start('intervals-cumulative', { aggregation_interval: '200ms', aggregation_temporality: 'cumulative' }, { batchTimeout: '10ms' });
    const totals = [1, 3, 6, 10];
    const series = await rounds(o, 'cu', 4, (s, r) => {
      const c = s.get(seriesKey('cu.count'));
      return c && numberValue(byTime(c).at(-1)) === totals[r - 1];
    });
    const count = series.get(seriesKey('cu.count'));
    assert.ok(count.metrics.every((m) => m.aggregationTemporality === 2), 'cumulative');
    const values = byTime(count).map((p) => numberValue(p));
    assert.deepEqual([...new Set(values)], totals, `running totals: ${values}`);
    assert.equal(mergedValue(count), 10);
    assert.equal(new Set(count.points.map((p) => p.startTimeUnixNano)).size, 1, 'one start time');
  });
});
