// Helpers for the StatsD client tests: free ports, temp configs, spawning outrigger,
// readiness, deadline polls, self-metrics, and running the Debian clients (python3-statsd
// and node-lynx) as child processes.
//
// Synchronisation is always "poll a condition until a deadline", never a fixed sleep.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const HOST = '127.0.0.1';

// Debian's interpreter and module directory, never whatever python3/NODE_PATH a developer
// has first (pyenv, nvm): the packages under test are python3-statsd and node-lynx.
export const DEBIAN_PYTHON = '/usr/bin/python3';
export const DEBIAN_NODE_PATH = '/usr/share/nodejs';

/** The binary under test: $OUTRIGGER_BIN, else ../../build/outrigger from this directory. */
export function outriggerBin() {
  const bin = process.env.OUTRIGGER_BIN
    ? path.resolve(process.env.OUTRIGGER_BIN)
    : path.resolve(TEST_DIR, '../../build/outrigger');
  if (!existsSync(bin)) throw new Error(`outrigger binary not found at ${bin}; build it or set OUTRIGGER_BIN`);
  return bin;
}

/**
 * Environment variables that change what the clients send: hot-shots reads DD_* (global
 * tags, agent address, cardinality, external data, origin detection), Python reads
 * PYTHON*. Drop them so a developer's environment cannot alter the wire format.
 */
export function scrubClientEnv() {
  for (const k of Object.keys(process.env)) {
    if (k.startsWith('OTEL_') || k.startsWith('DD_') || k.startsWith('DATADOG_') || k.startsWith('PYTHON')) {
      delete process.env[k];
    }
  }
}

async function freeTcpPort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen({ port: 0, host: HOST, exclusive: true }, resolve);
  });
  return { port: srv.address().port, close: () => new Promise((r) => srv.close(() => r())) };
}

async function freeUdpPort() {
  const sock = dgram.createSocket('udp4');
  await new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port: 0, address: HOST, exclusive: true }, resolve);
  });
  return { port: sock.address().port, close: () => new Promise((r) => sock.close(() => r())) };
}

/**
 * Distinct free loopback ports, e.g. {health: 'tcp', metrics: 'tcp', statsd: 'udp'}: all
 * are held open together (so they differ), then released.
 */
export async function freePorts(kinds) {
  const held = [];
  try {
    const out = {};
    for (const [name, kind] of Object.entries(kinds)) {
      const h = kind === 'udp' ? await freeUdpPort() : await freeTcpPort();
      held.push(h);
      out[name] = h.port;
    }
    return out;
  } finally {
    await Promise.all(held.map((h) => h.close()));
  }
}

/** A minimal YAML emitter for plain objects/arrays/scalars (strings are always quoted). */
export function toYaml(value, indent = 0) {
  const pad = ' '.repeat(indent);
  const scalar = (v) => {
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw new Error(`cannot emit ${typeof v} as YAML`);
  };
  const isEmpty = (v) => (Array.isArray(v) ? v.length === 0 : Object.keys(v).length === 0);
  if (Array.isArray(value)) {
    return value
      .map((v) => {
        if (v !== null && typeof v === 'object') {
          if (isEmpty(v)) return `${pad}- ${Array.isArray(v) ? '[]' : '{}'}\n`;
          return `${pad}-\n${toYaml(v, indent + 2)}`;
        }
        return `${pad}- ${scalar(v)}\n`;
      })
      .join('');
  }
  return Object.entries(value)
    .map(([k, v]) => {
      if (v !== null && typeof v === 'object') {
        if (isEmpty(v)) return `${pad}${k}: ${Array.isArray(v) ? '[]' : '{}'}\n`;
        return `${pad}${k}:\n${toYaml(v, indent + 2)}`;
      }
      return `${pad}${k}: ${scalar(v)}\n`;
    })
    .join('');
}

export async function makeTempDir() {
  return fs.mkdtemp(path.join(os.tmpdir(), 'outrigger-statsd-'));
}

export async function removeTempDir(dir) {
  if (!dir) return;
  if (process.env.OUTRIGGER_IT_KEEP_TMP) {
    console.error(`keeping ${dir} (OUTRIGGER_IT_KEEP_TMP is set)`);
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a truthy value, which is returned. A probe that throws
 * counts as "not yet"; the last error is reported at the deadline.
 */
export async function waitFor(probe, { timeoutMs = 20000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      lastErr = undefined;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      const why = lastErr ? `; last error: ${lastErr.stack ?? lastErr}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/** GET on a fresh connection; resolves with {status, text}. */
export function httpGet(url, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const agent = new http.Agent({ keepAlive: false });
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        agent.destroy();
        resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no response within ${timeoutMs} ms`)));
    req.on('error', (e) => {
      agent.destroy();
      reject(e);
    });
  });
}

/** Parses Prometheus text exposition into [{name, labels, value}]. */
export function parsePrometheus(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[2]) {
      for (const lm of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels`; undefined if none. */
export function metricValue(samples, name, labels = {}) {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length === 0) return undefined;
  return hits.reduce((a, s) => a + s.value, 0);
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
 * Reads a file of JSON lines (the file exporter's output); a missing file is empty. With
 * `partialOk` (reading while outrigger writes), an incomplete last line is left out.
 */
export async function readJsonLines(file, { partialOk = false } = {}) {
  let text;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
  const lines = text.split('\n');
  const last = lines.pop();
  if (!partialOk) assert.equal(last, '', `${file} must end with a newline (a whole last line)`);
  return lines
    .filter((l) => l !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`line ${i + 1} of ${file} is not JSON: ${e.message}: ${l.slice(0, 200)}`);
      }
    });
}

/** One running outrigger. Always stop() or kill() it (kill() is safe on an exited process). */
export class Outrigger {
  constructor(name, proc, configPath, ports) {
    this.name = name;
    this.proc = proc;
    this.configPath = configPath;
    this.ports = ports;
    this.output = '';
    this.exit = null;
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    const keep = (chunk) => {
      this.output += chunk.toString('utf8');
      if (this.output.length > 1 << 20) this.output = this.output.slice(-(1 << 19));
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
  }

  get running() {
    return this.exit === null;
  }

  /**
   * Allocates `ports` (name → 'tcp' | 'udp'; must include health and metrics), writes
   * makeConfig(ports) as YAML, starts outrigger and waits until health_check says ready.
   * If it exits before it is ready (a port taken meanwhile), it is retried on new ports.
   */
  static async start({ name, dir, ports: kinds, makeConfig, readyTimeoutMs = 15000, attempts = 3 }) {
    const bin = outriggerBin();
    let lastErr;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const ports = await freePorts(kinds);
      const configPath = path.join(dir, `${name}-${attempt}.yaml`);
      await fs.writeFile(configPath, toYaml(makeConfig(ports)));
      const proc = spawn(bin, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      const o = new Outrigger(name, proc, configPath, ports);
      try {
        await o.waitReady(readyTimeoutMs);
        return o;
      } catch (e) {
        lastErr = e;
        await o.kill();
        if (o.exit && o.exit.code !== null && attempt < attempts) continue;
        break;
      }
    }
    throw lastErr;
  }

  async waitReady(timeoutMs) {
    const url = `http://${HOST}:${this.ports.health}/`;
    await waitFor(
      async () => {
        if (!this.running) throw new Error(`${this.name} exited early (${JSON.stringify(this.exit)})`);
        return (await httpGet(url, 2000)).status === 200;
      },
      { timeoutMs, what: `${this.name} to be ready at ${url}` },
    ).catch((e) => {
      throw new Error(`${e.message}\n--- ${this.name} output ---\n${this.output}`);
    });
  }

  async metrics() {
    const r = await httpGet(`http://${HOST}:${this.ports.metrics}/metrics`);
    if (r.status !== 200) throw new Error(`GET /metrics on ${this.name}: ${r.status} ${r.text}`);
    return parsePrometheus(r.text);
  }

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
    if (!this.running) return this.exit;
    this.proc.kill(signal);
    return this.waitExit(timeoutMs, `of ${signal}`);
  }

  /** Waits for the process to exit; resolves with {code, signal}. */
  async waitExit(timeoutMs = 30000, what = '') {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms ${what}:\n${this.output}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops with SIGTERM and checks the exit was clean. */
  async stopCleanly() {
    const exit = await this.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, `${this.name} exit after SIGTERM:\n${this.output}`);
  }

  /** Last-resort cleanup: SIGKILL if still running, and wait for the exit. */
  async kill() {
    if (this.running) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
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
  return {
    extensions: { health_check: { endpoint: `${HOST}:${ports.health}` } },
    receivers: { statsd },
    processors: { batch: { timeout: batchTimeout } },
    exporters: { file: { path: outFile } },
    service: {
      extensions: ['health_check'],
      telemetry: { logs: { level: 'info' }, metrics: { address: `${HOST}:${ports.metrics}` } },
      pipelines,
    },
  };
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
