// node-lynx (Debian's `lynx` in /usr/share/nodejs, run with NODE_PATH) → outrigger statsd
// receiver → batch → file exporter, over UDP. This collector also sets
// enable_metric_type and is_monotonic_counter, which every point must reflect.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Outrigger,
  makeTempDir,
  readJsonLines,
  removeTempDir,
  runDebianNode,
  scrubClientEnv,
  statsdConfig,
} from './lib/harness.mjs';
import { collectSeries, numberValue, onePoint, quantiles, seriesKey, seriesKeys, u64 } from './lib/otlp.mjs';

scrubClientEnv();

// argv: <port>. Prints the datagrams lynx wrote (its 'data' event, emitted for every
// datagram it sends, after its own random sampling) as JSON once its socket is closed.
const CLIENT = String.raw`
const Lynx = require('lynx');
const port = Number(process.argv[1]);
const errors = [];
const sent = [];
// lynx reports a stat its sampling left out as the error "Nothing to send".
const c = new Lynx('127.0.0.1', port, {
  scope: 'lynxapp',
  on_error: (e) => { if (e.message !== 'Nothing to send') errors.push(e.message); },
});
c.on('data', (b) => sent.push(b.toString()));
c.increment('hits');
c.increment('hits');
c.increment('hits');
c.count('hits', 10);
c.decrement('hits');                        // 12
c.increment(['fanout.a', 'fanout.b']);      // one datagram, two lines
c.count('fanout.a', 4);
for (let i = 0; i < 100; i++) c.increment('sampled', 0.1);   // "1|c|@0.1" when sampled in
c.timing('render', 250);
c.timing('render', 125);
c.timing('render', 500);
c.timing('render', 125);
c.gauge('memory', 512);
c.gauge('memory', 256);                     // last value wins
c.set('visitors', 7);
c.set('visitors', 8);
c.set('visitors', 7);                       // 2 distinct
const t = c.createTimer('job');
t.stop();
// lynx closes its ephemeral socket after 1 s idle; the process then exits on its own.
process.on('exit', () => {
  if (errors.length) { console.error(JSON.stringify(errors)); process.exitCode = 1; }
  console.log(JSON.stringify(sent));
});
`;

describe('node-lynx', () => {
  let dir;
  let o;
  before(async () => {
    dir = await makeTempDir();
  });
  after(async () => {
    await o?.kill();
    await removeTempDir(dir);
  });

  test('udp: counters (incl. sampled), multi-stat datagrams, timings, gauges, sets, timer', async () => {
    const outFile = path.join(dir, 'lynx.jsonl');
    o = await Outrigger.start({
      name: 'lynx',
      dir,
      ports: { health: 'tcp', metrics: 'tcp', statsd: 'udp' },
      makeConfig: (ports) =>
        statsdConfig(ports, {
          outFile,
          statsd: {
            endpoint: `127.0.0.1:${ports.statsd}`,
            aggregation_interval: '60s',
            enable_metric_type: true,
            is_monotonic_counter: true,
            timer_histogram_mapping: [{ statsd_type: 'timing', observer_type: 'summary', summary: { percentiles: [0, 50, 75, 100] } }],
          },
        }),
    });
    const sent = JSON.parse(await runDebianNode(CLIENT, [o.ports.statsd]));
    const lines = sent.flatMap((d) => d.split('\n')).filter((l) => l !== '');
    assert.ok(sent.includes('lynxapp.fanout.a:1|c\nlynxapp.fanout.b:1|c'), `lynx batches stats into one datagram: ${JSON.stringify(sent)}`);
    const sampled = lines.filter((l) => l.startsWith('lynxapp.sampled:'));
    for (const l of sampled) assert.equal(l, 'lynxapp.sampled:1|c|@0.1');
    assert.ok(sampled.length > 0 && sampled.length < 100, `lynx's sampling sent ${sampled.length} of 100`);
    const job = lines.filter((l) => l.startsWith('lynxapp.job:'));
    assert.equal(job.length, 1, 'one timer sample');
    const jobMs = Number(/^lynxapp\.job:([\d.e-]+)\|ms$/.exec(job[0])[1]);
    assert.ok(jobMs >= 0, `timer value ${jobMs}`);

    await o.waitReceiverCounts({ acceptedPoints: lines.length, refusedPoints: 0, malformed: 0 }, { labels: { receiver: 'statsd', transport: 'udp' } });
    await o.stopCleanly();
    const series = collectSeries(await readJsonLines(outFile));

    const t = (type) => ({ metric_type: type });
    assert.deepEqual(seriesKeys(series), [
      ['lynxapp.hits', 'counter'], ['lynxapp.fanout.a', 'counter'], ['lynxapp.fanout.b', 'counter'],
      ['lynxapp.sampled', 'counter'], ['lynxapp.render', 'timing'], ['lynxapp.memory', 'gauge'],
      ['lynxapp.visitors', 'set'], ['lynxapp.job', 'timing'],
    ].map(([n, type]) => seriesKey(n, t(type))).sort());

    const counter = (name, expected) => {
      const { series: s, point } = onePoint(series, name, t('counter'), 'sum');
      assert.equal(s.metrics[0].isMonotonic, true, `${name}: is_monotonic_counter`);
      assert.equal(s.metrics[0].aggregationTemporality, 1, `${name}: delta`);
      assert.equal(numberValue(point, name), expected, name);
    };
    counter('lynxapp.hits', 12);
    counter('lynxapp.fanout.a', 5);
    counter('lynxapp.fanout.b', 1);
    counter('lynxapp.sampled', 10 * sampled.length);
    assert.equal(numberValue(onePoint(series, 'lynxapp.memory', t('gauge'), 'gauge').point), 256);
    assert.equal(numberValue(onePoint(series, 'lynxapp.visitors', t('set'), 'gauge').point), 2);

    const render = onePoint(series, 'lynxapp.render', t('timing'), 'summary');
    assert.equal(render.series.unit, 'ms');
    assert.equal(u64(render.point.count), 4);
    assert.equal(render.point.sum, 1000);
    // sorted 125 125 250 500: p50 needs weight 2 → 125; p75 needs 3 → 250
    assert.deepEqual(quantiles(render.point), { 0: 125, 0.5: 125, 0.75: 250, 1: 500 });
    const jobPoint = onePoint(series, 'lynxapp.job', t('timing'), 'summary').point;
    assert.equal(u64(jobPoint.count), 1);
    assert.equal(jobPoint.sum, jobMs);
  });
});
