// python3-statsd (Debian's `statsd` 4.x for /usr/bin/python3) → outrigger statsd receiver
// → batch → file exporter, over UDP (StatsClient), TCP (TCPStatsClient) and unixgram (the
// library's StatsClient with a unix datagram socket in place of its UDP socket).
//
// The client records every datagram/chunk it writes (its _send), so the test knows what
// the random client-side sampling let through; every other value is asserted as a
// constant.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Outrigger,
  makeTempDir,
  readJsonLines,
  removeTempDir,
  runDebianPython,
  scrubClientEnv,
  statsdConfig,
} from './lib/harness.mjs';
import { collectSeries, onePoint, numberValue, quantiles, seriesKey, seriesKeys, u64 } from './lib/otlp.mjs';

scrubClientEnv();

// argv: <udp|tcp|unixgram> <port or socket path>. Prints the datagrams/chunks it sent as JSON.
const CLIENT = String.raw`
import json, socket, sys
from datetime import timedelta
import statsd
from statsd import StatsClient, TCPStatsClient

transport, target = sys.argv[1], sys.argv[2]

class UnixgramStatsClient(StatsClient):
    """python3-statsd's datagram client (formatting, pipelines, maxudpsize) on a unix
    datagram socket: the library has no unixgram client of its own."""
    def __init__(self, path, prefix=None, maxudpsize=512):
        self._addr = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._prefix = prefix
        self._maxudpsize = maxudpsize

base = {'udp': StatsClient, 'tcp': TCPStatsClient, 'unixgram': UnixgramStatsClient}[transport]
sent = []

class Recording(base):
    def _send(self, data):
        sent.append(data)
        super()._send(data)

if transport == 'unixgram':
    c = Recording(target, prefix='pyapp')
else:
    c = Recording('127.0.0.1', int(target), prefix='pyapp')

for _ in range(10):
    c.incr('requests')                  # 10
c.incr('requests', 5)                   # 15
c.decr('requests', 3)                   # 12
c.incr('bytes', 1.5)                    # a float count
for _ in range(200):
    c.incr('sampled', 2, rate=0.25)     # sent only when random() <= 0.25, as "2|c|@0.25"
c.gauge('temperature', 20)
c.gauge('temperature', 5, delta=True)   # "+5|g"
c.gauge('temperature', -3, delta=True)  # "-3|g"  -> 22
c.gauge('below_zero', -7)               # one datagram "0|g\n-7|g" -> -7
c.timing('latency', 12.5)
c.timing('latency', timedelta(milliseconds=30))
c.timing('latency', 7)
for u in ['alice', 'bob', 'alice', 'carol', 'bob']:
    c.set('users', u)                   # 3 distinct
with c.pipeline() as p:                 # one datagram, four lines
    p.incr('piped')
    p.incr('piped', 4)
    p.timing('latency', 50.5)
    p.gauge('piped_gauge', 9)
with c.timer('block'):
    pass

@c.timer('block')
def work():
    return sum(range(1000))

work()
c.close()
print(json.dumps(sent))
`;

const SUMMARY = { statsd_type: 'timing', observer_type: 'summary', summary: { percentiles: [0, 25, 50, 75, 100] } };

/** The lines the client wrote, one string per statsd line. */
function linesOf(sent) {
  return sent.flatMap((d) => d.split('\n')).filter((l) => l !== '');
}

function checkPythonSeries(series, sent) {
  const lines = linesOf(sent);
  const sampled = lines.filter((l) => l.startsWith('pyapp.sampled:'));
  for (const l of sampled) assert.equal(l, 'pyapp.sampled:2|c|@0.25', 'how python-statsd writes a sampled counter');
  // 200 tries at 25 %: the client drops some and sends some (both at odds below 1e-20).
  assert.ok(sampled.length > 0 && sampled.length < 200, `client-side sampling sent ${sampled.length} of 200`);
  // The pipeline: one datagram (or stream write) with four lines; the negative gauge: two.
  assert.ok(sent.includes('pyapp.piped:1|c\npyapp.piped:4|c\npyapp.latency:50.500000|ms\npyapp.piped_gauge:9|g'),
    `the pipeline's write: ${JSON.stringify(sent)}`);
  assert.ok(sent.includes('pyapp.below_zero:0|g\npyapp.below_zero:-7|g'), 'negative gauge as 0 then -7');
  const blockValues = lines.filter((l) => l.startsWith('pyapp.block:')).map((l) => Number(/^pyapp\.block:([\d.]+)\|ms$/.exec(l)[1]));
  assert.equal(blockValues.length, 2, 'two timer samples (context manager and decorator)');
  blockValues.sort((a, b) => a - b);

  assert.deepEqual(seriesKeys(series), [
    'pyapp.below_zero', 'pyapp.block', 'pyapp.bytes', 'pyapp.latency', 'pyapp.piped', 'pyapp.piped_gauge',
    'pyapp.requests', 'pyapp.sampled', 'pyapp.temperature', 'pyapp.users',
  ].map((n) => seriesKey(n)).sort());

  const sum = (name, expected) => {
    const { series: s, point } = onePoint(series, name, {}, 'sum');
    assert.equal(s.metrics[0].aggregationTemporality, 1, `${name}: delta`);
    assert.ok(!s.metrics[0].isMonotonic, `${name}: not monotonic by default`);
    assert.ok(BigInt(point.startTimeUnixNano) <= BigInt(point.timeUnixNano), `${name}: start <= time`);
    assert.equal(numberValue(point, name), expected, name);
  };
  const gauge = (name, expected) => assert.equal(numberValue(onePoint(series, name, {}, 'gauge').point, name), expected, name);

  sum('pyapp.requests', 12);
  sum('pyapp.bytes', 1.5);
  sum('pyapp.sampled', 8 * sampled.length); // 2 / 0.25 per sent line
  sum('pyapp.piped', 5);
  gauge('pyapp.temperature', 22);
  gauge('pyapp.below_zero', -7);
  gauge('pyapp.piped_gauge', 9);
  gauge('pyapp.users', 3);

  const lat = onePoint(series, 'pyapp.latency', {}, 'summary');
  assert.equal(lat.series.unit, 'ms');
  assert.equal(u64(lat.point.count, 'count'), 4);
  assert.equal(lat.point.sum, 100); // 12.5 + 30 + 7 + 50.5
  assert.deepEqual(quantiles(lat.point), { 0: 7, 0.25: 7, 0.5: 12.5, 0.75: 30, 1: 50.5 });

  const block = onePoint(series, 'pyapp.block', {}, 'summary');
  assert.equal(u64(block.point.count, 'count'), 2);
  assert.equal(block.point.sum, blockValues[0] + blockValues[1]);
  assert.deepEqual(quantiles(block.point), {
    0: blockValues[0], 0.25: blockValues[0], 0.5: blockValues[0], 0.75: blockValues[1], 1: blockValues[1],
  });
  return lines.length;
}

describe('python3-statsd', () => {
  let dir;
  const collectors = [];
  before(async () => {
    dir = await makeTempDir();
  });
  after(async () => {
    await Promise.all(collectors.map((c) => c.kill()));
    await removeTempDir(dir);
  });

  for (const transport of ['udp', 'tcp', 'unixgram']) {
    test(`${transport}: counters (with sample rate), gauges (with deltas), timings, sets, pipelines`, async () => {
      const outFile = path.join(dir, `python-${transport}.jsonl`);
      const socketPath = path.join(dir, 'statsd.sock');
      const o = await Outrigger.start({
        name: `python-${transport}`,
        dir,
        ports: { health: 'tcp', metrics: 'tcp', ...(transport === 'unixgram' ? {} : { statsd: transport }) },
        makeConfig: (ports) =>
          statsdConfig(ports, {
            outFile,
            statsd: {
              endpoint: transport === 'unixgram' ? socketPath : `127.0.0.1:${ports.statsd}`,
              transport,
              aggregation_interval: '60s',
              timer_histogram_mapping: [SUMMARY],
            },
          }),
      });
      collectors.push(o);
      const sent = JSON.parse(await runDebianPython(CLIENT, [transport, transport === 'unixgram' ? socketPath : o.ports.statsd]));
      const nLines = linesOf(sent).length;
      await o.waitReceiverCounts({ acceptedPoints: nLines, refusedPoints: 0, malformed: 0 }, { labels: { receiver: 'statsd', transport } });
      await o.stopCleanly();
      const series = collectSeries(await readJsonLines(outFile));
      checkPythonSeries(series, sent);
    });
  }
});
