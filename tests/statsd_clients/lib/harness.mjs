// Helpers for the StatsD client tests: the shared harness (../../common/harness.mjs: free
// ports, temp configs, spawning outrigger, readiness, deadline polls, self-metrics), the
// statsd receiver's self-metrics and config, and running the Debian clients (python3-statsd
// and node-lynx) as child processes.
//
// Synchronisation is always "poll a condition until a deadline", never a fixed sleep.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
  HOST,
  Outrigger as SharedOutrigger,
  collectorConfig,
  makeTempDir as makeTempDirShared,
  metricValue,
  scrubEnv,
  waitFor,
} from '../../common/harness.mjs';

export {
  HOST,
  freePorts,
  httpGet,
  metricValue,
  outriggerBin,
  parsePrometheus,
  readJsonLines,
  removeTempDir,
  toYaml,
  waitFor,
} from '../../common/harness.mjs';

// Debian's interpreter and module directory, never whatever python3/NODE_PATH a developer
// has first (pyenv, nvm): the packages under test are python3-statsd and node-lynx.
export const DEBIAN_PYTHON = '/usr/bin/python3';
export const DEBIAN_NODE_PATH = '/usr/share/nodejs';

/**
 * Environment variables that change what the clients send: hot-shots reads DD_* (global
 * tags, agent address, cardinality, external data, origin detection), Python reads
 * PYTHON*. Drop them so a developer's environment cannot alter the wire format.
 */
export function scrubClientEnv() {
  scrubEnv(['OTEL_', 'DD_', 'DATADOG_', 'PYTHON']);
}

export function makeTempDir() {
  return makeTempDirShared('outrigger-statsd-');
}

/** The receiver's self-metrics this suite checks, by short name. */
export const SELF_METRICS = {
  acceptedPoints: 'outrigger_receiver_accepted_metric_points_total',
  refusedPoints: 'outrigger_receiver_refused_metric_points_total',
  acceptedLogs: 'outrigger_receiver_accepted_log_records_total',
  refusedLogs: 'outrigger_receiver_refused_log_records_total',
  malformed: 'outrigger_receiver_malformed_requests_total',
};

/**
 * One running outrigger (see the shared harness) with the statsd checks. Start with
 * Outrigger.start({ports: {name: 'tcp' | 'udp', ...}, ...}); always stop() or kill() it.
 */
export class Outrigger extends SharedOutrigger {
  /**
   * Waits until the statsd receiver's self-metrics reach `expected` ({acceptedPoints: n,
   * malformed: k, ...}; see SELF_METRICS), then checks they are exactly that (an
   * over-count fails). This is how the tests know the receiver has read everything the
   * clients sent before they stop it. Returns the samples.
   */
  async waitReceiverCounts(expected, { labels = { receiver: 'statsd' }, timeoutMs = 20000 } = {}) {
    let last;
    const read = (samples) =>
      Object.fromEntries(Object.keys(expected).map((k) => [k, metricValue(samples, SELF_METRICS[k], labels) ?? 0]));
    try {
      await waitFor(
        async () => {
          const samples = await this.metrics();
          last = read(samples);
          return Object.entries(expected).every(([k, v]) => last[k] >= v);
        },
        { timeoutMs, what: `receiver counts ${JSON.stringify(expected)} on ${this.name}` },
      );
    } catch (e) {
      throw new Error(`${e.message}\nlast seen: ${JSON.stringify(last)}\n--- ${this.name} output ---\n${this.output}`);
    }
    // Read once more: nothing may be counted beyond what was expected.
    const samples = await this.metrics();
    assert.deepEqual(read(samples), expected, `${this.name}: receiver self-metrics ${JSON.stringify(labels)}`);
    return samples;
  }

  /** SIGTERM (the receiver flushes its aggregation on shutdown); resolves with {code, signal}. */
  async stop(signal = 'SIGTERM', timeoutMs = 30000) {
    return super.stop(signal, timeoutMs);
  }

  /** Stops with SIGTERM and checks the exit was clean. */
  async stopCleanly() {
    const exit = await this.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, `${this.name} exit after SIGTERM:\n${this.output}`);
  }
}

/**
 * A full config: statsd receiver (`statsd` settings as given) → batch → file exporter at
 * `outFile` for metrics (and logs when `logs`), health_check on ports.health and
 * self-metrics on ports.metrics (never the default 8888).
 */
export function statsdConfig(ports, { statsd, outFile, logs = false, batchTimeout = '100ms' }) {
  const pipelines = { metrics: { receivers: ['statsd'], processors: ['batch'], exporters: ['file'] } };
  if (logs) pipelines.logs = { receivers: ['statsd'], processors: ['batch'], exporters: ['file'] };
  return collectorConfig(ports, {
    receivers: { statsd },
    processors: { batch: { timeout: batchTimeout } },
    exporters: { file: { path: outFile } },
    pipelines,
  });
}

/**
 * Runs a child process to completion: resolves with its stdout when it exits 0, rejects
 * with its output otherwise or after `timeoutMs` (then it is killed).
 */
export function runChild(cmd, args, { env = process.env, timeoutMs = 60000, what = cmd } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    proc.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: cannot start ${cmd}: ${e.message}`));
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${what} exited with ${code ?? signal}\nstdout: ${out}\nstderr: ${err}`));
    });
  });
}

/** Runs a Python script with Debian's /usr/bin/python3 (python3-statsd); returns its stdout. */
export function runDebianPython(script, args = [], opts = {}) {
  if (!existsSync(DEBIAN_PYTHON)) throw new Error(`${DEBIAN_PYTHON} is missing (apt-get install python3-statsd)`);
  const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', PYTHONNOUSERSITE: '1', PYTHONDONTWRITEBYTECODE: '1' };
  return runChild(DEBIAN_PYTHON, ['-c', script, ...args.map(String)], { env, what: 'python3-statsd client', ...opts });
}

/** Runs a CommonJS script with node, NODE_PATH set to Debian's modules (node-lynx); returns stdout. */
export function runDebianNode(script, args = [], opts = {}) {
  if (!existsSync(path.join(DEBIAN_NODE_PATH, 'lynx'))) {
    throw new Error(`${DEBIAN_NODE_PATH}/lynx is missing (apt-get install node-lynx)`);
  }
  const env = { PATH: process.env.PATH, NODE_PATH: DEBIAN_NODE_PATH };
  return runChild(process.execPath, ['--no-deprecation', '-e', script, '--', ...args.map(String)], { env, what: 'node-lynx client', ...opts });
}

/** Sends each payload (string or Buffer) as one UDP datagram, in order; resolves once all are sent. */
export async function sendUdp(port, payloads) {
  const sock = dgram.createSocket('udp4');
  try {
    for (const p of payloads) {
      await new Promise((resolve, reject) => sock.send(Buffer.from(p), port, HOST, (e) => (e ? reject(e) : resolve())));
    }
  } finally {
    await new Promise((r) => sock.close(() => r()));
  }
}

/** One TCP connection: writes each chunk in order (waiting for each write), then ends it. */
export async function sendTcp(port, chunks) {
  const sock = net.connect({ port, host: HOST });
  await new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  for (const c of chunks) {
    await new Promise((resolve, reject) => sock.write(c, (e) => (e ? reject(e) : resolve())));
  }
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.end(resolve);
  });
}
