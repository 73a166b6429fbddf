// Outrigger's prometheus receiver scrapes a real Prometheus (its own /metrics) and a real
// node_exporter every second, and writes what it gets with the file exporter. The test
// checks that their series arrive with the right resource (service.name = job,
// service.instance.id = host:port) and that `up` is 1; then it stops node_exporter and
// checks that `up` becomes 0 for that target and that its series get a staleness marker
// (the "no recorded value" flag) once, while the Prometheus target stays up.
//
// Only Node's built-in modules and the shared helpers in ../common. Every wait polls a
// condition until a deadline. Processes and temp dirs are always removed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  HOST,
  Outrigger,
  collectorConfig,
  freePorts,
  httpGet,
  makeTempDir,
  metricValue,
  readJsonLines,
  removeTempDir,
  waitFor,
} from '../common/harness.mjs';
import { PrometheusServer } from '../common/prometheus.mjs';

const NODE_EXPORTER_BIN = process.env.NODE_EXPORTER_BIN || 'prometheus-node-exporter';
const NO_RECORDED_VALUE = 1;

/** Every data point of the file exporter's output, flattened. */
async function points(file) {
  const out = [];
  for (const req of await readJsonLines(file, { partialOk: true })) {
    for (const rm of req.resourceMetrics ?? []) {
      const res = Object.fromEntries((rm.resource?.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const body = m.gauge ?? m.sum ?? m.histogram ?? m.summary ?? {};
          const kind = m.gauge ? 'gauge' : m.sum ? 'sum' : m.histogram ? 'histogram' : 'summary';
          for (const p of body.dataPoints ?? []) {
            out.push({
              name: m.name,
              kind,
              job: res['service.name'],
              instance: res['service.instance.id'],
              value: p.asDouble ?? p.asInt,
              stale: ((p.flags ?? 0) & NO_RECORDED_VALUE) !== 0,
              time: BigInt(p.timeUnixNano ?? 0),
            });
          }
        }
      }
    }
  }
  return out;
}

describe('prometheus receiver scraping real targets', () => {
  let dir;
  let prom;
  let nodeExporter;
  let nodeExporterExit;
  let nodePort;
  let outrigger;
  let outFile;

  before(async () => {
    dir = await makeTempDir('outrigger-scrape-');
    outFile = path.join(dir, 'metrics.jsonl');
    prom = await PrometheusServer.start({ dir, jobs: { self: `${HOST}:1` }, scrapeInterval: '5s' });
    ({ node: nodePort } = await freePorts({ node: 'tcp' }));
    nodeExporter = spawn(
      NODE_EXPORTER_BIN,
      [
        `--web.listen-address=${HOST}:${nodePort}`,
        // Collectors that need no privileges and are quick.
        '--collector.disable-defaults',
        '--collector.cpu',
        '--collector.loadavg',
        '--collector.meminfo',
        '--collector.time',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let neOutput = '';
    nodeExporter.stderr.on('data', (c) => (neOutput += c.toString('utf8')));
    nodeExporterExit = new Promise((resolve) => {
      nodeExporter.on('exit', resolve);
      nodeExporter.on('error', (e) => resolve(e));
    });
    await waitFor(async () => (await httpGet(`http://${HOST}:${nodePort}/metrics`, 2000)).status === 200, {
      timeoutMs: 20000,
      what: `node_exporter on ${nodePort}`,
    }).catch((e) => {
      throw new Error(`${e.message}\n${neOutput}`);
    });
    outrigger = await Outrigger.start({
      name: 'outrigger',
      dir,
      portNames: ['health', 'metrics'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: {
            prometheus: {
              config: {
                global: { scrape_interval: '1s' },
                scrape_configs: [
                  { job_name: 'prometheus', static_configs: [{ targets: [`${HOST}:${prom.port}`] }] },
                  {
                    job_name: 'node',
                    scrape_interval: '1s',
                    scrape_timeout: '900ms',
                    static_configs: [{ targets: [`${HOST}:${nodePort}`], labels: { env: 'it' } }],
                  },
                ],
              },
            },
          },
          exporters: { file: { path: outFile } },
          pipelines: { metrics: { receivers: ['prometheus'], exporters: ['file'] } },
        }),
    });
  });

  after(async () => {
    await outrigger?.kill();
    if (nodeExporter && nodeExporter.exitCode === null && nodeExporter.signalCode === null) {
      nodeExporter.kill('SIGKILL');
      await nodeExporterExit;
    }
    await prom?.stop();
    if (dir) await removeTempDir(dir);
  });

  it('scrapes Prometheus and node_exporter with up = 1', async () => {
    await waitFor(
      async () => {
        const pts = await points(outFile);
        const up = (job) => pts.some((p) => p.name === 'up' && p.job === job && p.value === 1);
        return (
          up('prometheus') &&
          up('node') &&
          pts.some((p) => p.job === 'node' && p.name === 'node_load1' && p.kind === 'gauge') &&
          pts.some((p) => p.job === 'node' && p.name === 'node_cpu_seconds_total' && p.kind === 'sum') &&
          pts.some((p) => p.job === 'prometheus' && p.name === 'prometheus_http_request_duration_seconds' &&
            p.kind === 'histogram') &&
          pts.some((p) => p.job === 'prometheus' && p.name === 'go_gc_duration_seconds' && p.kind === 'summary')
        );
      },
      { timeoutMs: 30000, intervalMs: 250, what: 'series of both targets and up = 1' },
    ).catch(async (e) => {
      throw new Error(`${e.message}\n--- outrigger ---\n${outrigger.output.slice(-4000)}`);
    });
    const pts = await points(outFile);
    const node = pts.find((p) => p.name === 'node_load1');
    assert.equal(node.instance, `${HOST}:${nodePort}`);
    assert.ok(!pts.some((p) => p.job === 'node' && p.stale), 'no staleness marker while node_exporter is up');
  });

  it('marks node_exporter down and its series stale when it stops', async () => {
    const before = (await points(outFile)).length;
    nodeExporter.kill('SIGTERM');
    await nodeExporterExit;
    await waitFor(
      async () => {
        const pts = (await points(outFile)).slice(before);
        return (
          pts.some((p) => p.name === 'up' && p.job === 'node' && p.value === 0) &&
          pts.some((p) => p.job === 'node' && p.name === 'node_load1' && p.stale) &&
          pts.some((p) => p.job === 'node' && p.name === 'node_cpu_seconds_total' && p.stale)
        );
      },
      { timeoutMs: 20000, intervalMs: 250, what: 'up = 0 and staleness markers for node_exporter' },
    );
    // The markers come once; the Prometheus target stays up and is not marked.
    await waitFor(
      async () => (await points(outFile)).slice(before).filter((p) => p.name === 'up' && p.job === 'node' && p.value === 0).length >= 3,
      { timeoutMs: 20000, intervalMs: 250, what: 'three failed scrapes of node_exporter' },
    );
    const pts = (await points(outFile)).slice(before);
    const staleLoad = pts.filter((p) => p.job === 'node' && p.name === 'node_load1' && p.stale);
    assert.equal(staleLoad.length, 1, 'one staleness marker per series');
    assert.ok(!pts.some((p) => p.job === 'prometheus' && p.stale && p.name === 'prometheus_build_info'));
    assert.ok(pts.some((p) => p.name === 'up' && p.job === 'prometheus' && p.value === 1));
    // Self-metrics: the scraped points were accepted.
    const accepted = metricValue(await outrigger.metrics(), 'outrigger_receiver_accepted_metric_points_total', {
      receiver: 'prometheus',
    });
    assert.ok(accepted > 0, `accepted points: ${accepted}`);
  });
});
