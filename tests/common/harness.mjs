// Helpers shared by the Node test suites (tests/integration, tests/statsd_clients,
// tests/prometheus): free loopback ports, temp dirs and YAML configs, spawning outrigger and
// waiting for its health_check, deadline polls, HTTP requests, /metrics parsing, and JSON
// lines. Node's built-in modules only: each suite installs its own node_modules, and this
// directory has none.
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

const COMMON_DIR = path.dirname(fileURLToPath(import.meta.url));
export const HOST = '127.0.0.1';

/**
 * The binary under test: $OUTRIGGER_BIN (a relative path is taken from the current
 * directory), else build/outrigger at the top of the source tree.
 */
export function outriggerBin() {
  const bin = process.env.OUTRIGGER_BIN
    ? path.resolve(process.env.OUTRIGGER_BIN)
    : path.resolve(COMMON_DIR, '../../build/outrigger');
  if (!existsSync(bin)) {
    throw new Error(`outrigger binary not found at ${bin}; build it or set OUTRIGGER_BIN`);
  }
  return bin;
}

/** Deletes every environment variable whose name starts with one of `prefixes`. */
export function scrubEnv(prefixes) {
  for (const k of Object.keys(process.env)) {
    if (prefixes.some((p) => k.startsWith(p))) delete process.env[k];
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
 * Distinct free loopback ports: all are held open together (so they differ), then released.
 * `kinds` is either a count (→ an array of that many TCP ports) or an object naming each port
 * and its kind, e.g. {health: 'tcp', metrics: 'tcp', statsd: 'udp'} (→ {health: n, ...}).
 */
export async function freePorts(kinds) {
  const named = typeof kinds !== 'number';
  const entries = named ? Object.entries(kinds) : Array.from({ length: kinds }, (_, i) => [i, 'tcp']);
  const held = [];
  try {
    const out = named ? {} : [];
    for (const [name, kind] of entries) {
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
    if (v === null || v === undefined) return 'null';
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

export async function makeTempDir(prefix = 'outrigger-it-') {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Removes a temp dir, unless $OUTRIGGER_IT_KEEP_TMP is set (then it is kept and named). */
export async function removeTempDir(dir) {
  if (!dir) return;
  if (process.env.OUTRIGGER_IT_KEEP_TMP) {
    console.error(`keeping ${dir} (OUTRIGGER_IT_KEEP_TMP is set)`);
    return;
  }
  await fs.rm(dir, { recursive: true, force: true });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` (sync or async) until it returns a truthy value, which is returned. A probe
 * that throws counts as "not yet"; the last error is reported at the deadline.
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

/**
 * A raw HTTP request on a fresh connection (no keep-alive). Resolves with
 * {status, headers, body: Buffer, text} as soon as a full response arrives, even if the
 * server stopped reading the request body early (as it may for 413). With `chunkSize`, a
 * Buffer body is sent chunked (no Content-Length).
 */
export function httpRequest(url, { method = 'GET', headers = {}, body, chunkSize = 0, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const agent = new http.Agent({ keepAlive: false });
    const req = http.request(url, { method, headers, agent });
    let settled = false;
    let gotResponse = false;
    const done = (fn, v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      agent.destroy();
      fn(v);
    };
    const timer = setTimeout(() => {
      req.destroy();
      done(reject, new Error(`${method} ${url}: no response within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('response', (res) => {
      gotResponse = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        done(resolve, { status: res.statusCode, headers: res.headers, body: buf, text: buf.toString('utf8') });
      });
      res.on('error', (e) => done(reject, e));
    });
    req.on('error', (e) => {
      if (gotResponse) return;
      // EPIPE/ECONNRESET while still writing a body the server refused: its response may
      // still be on its way (handled above); fail only if none comes. Anything else
      // (e.g. ECONNREFUSED) fails at once.
      if (body !== undefined && (e.code === 'EPIPE' || e.code === 'ECONNRESET')) {
        setTimeout(() => done(reject, e), 2000);
      } else {
        done(reject, e);
      }
    });
    if (body === undefined) {
      req.end();
    } else if (chunkSize > 0) {
      // Transfer-Encoding: chunked, no Content-Length: the size is only known while reading.
      for (let i = 0; i < body.length; i += chunkSize) req.write(body.subarray(i, i + chunkSize));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** GET on a fresh connection; resolves with {status, text}. */
/**
 * POSTs an OTLP/JSON request (`path` /v1/traces, /v1/metrics or /v1/logs) to an OTLP/HTTP
 * receiver on `port`; throws unless it answers 200.
 */
export async function postOtlpJson(port, path, request, { retryPushback = false } = {}) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(`http://${HOST}:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const body = await r.text();
    if (r.status === 200) return;
    // As OTLP clients do (the spec's retryable codes): pushback is sent again after
    // Retry-After (capped at 1 s here), a bounded number of times.
    if (retryPushback && (r.status === 429 || r.status === 503) && attempt < 30) {
      const after = Math.min(1000, 1000 * Number(r.headers.get('retry-after') || 1));
      await new Promise((resolve) => setTimeout(resolve, after));
      continue;
    }
    throw new Error(`OTLP POST ${path}: ${r.status} ${body}`);
  }
}

export async function httpGet(url, timeoutMs = 5000) {
  const { status, text } = await httpRequest(url, { timeoutMs });
  return { status, text };
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
      for (const lm of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        // Label values are escaped: \\ \" \n.
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
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

/**
 * Reads a file of JSON lines (the file exporter's output); a missing file is empty. With
 * `partialOk` (reading while outrigger writes), an incomplete last line is left out;
 * without it, the file must end with a newline.
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
  const last = lines.pop(); // '' after the final newline, or a line still being written
  if (!partialOk) assert.equal(last, '', `${file} must end with a newline (a whole last line)`);
  return lines
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`line ${i + 1} of ${file} is not JSON: ${e.message}: ${l.slice(0, 200)}`);
      }
    });
}

/**
 * One running outrigger. Start with Outrigger.start() (or a subclass's start()); always
 * stop()/kill() it (kill() is safe to call on an exited process). Output is kept for
 * diagnostics.
 */
export class Outrigger {
  constructor(name, proc, configPath, ports) {
    this.name = name;
    this.proc = proc;
    this.configPath = configPath;
    this.ports = ports;
    this.output = '';
    this.exit = null; // {code, signal} once exited
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

  get pid() {
    return this.proc.pid;
  }

  get running() {
    return this.exit === null;
  }

  /**
   * Allocates free ports, writes makeConfig(ports) as YAML, starts outrigger and waits until
   * its health_check says ready. The ports are either `portNames` (all TCP) or `ports`
   * (name → 'tcp' | 'udp'); they must include health (and metrics, for metrics()). If the
   * process exits before it is ready (e.g. a port was taken meanwhile), it is retried with
   * new ports.
   */
  static async start({ name, dir, portNames, ports: kinds, makeConfig, readyTimeoutMs = 15000, attempts = 3 }) {
    const bin = outriggerBin();
    const portKinds = kinds ?? Object.fromEntries(portNames.map((n) => [n, 'tcp']));
    let lastErr;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const ports = await freePorts(portKinds);
      const configPath = path.join(dir, `${name}-${attempt}.yaml`);
      await fs.writeFile(configPath, toYaml(makeConfig(ports)));
      const proc = spawn(bin, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      const o = new this(name, proc, configPath, ports);
      try {
        await o.waitReady(readyTimeoutMs);
        return o;
      } catch (e) {
        lastErr = e;
        await o.kill();
        if (o.exit && o.exit.code !== null && attempt < attempts) continue; // exited: maybe a port race
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
        return (await httpRequest(url, { timeoutMs: 2000 })).status === 200;
      },
      { timeoutMs, intervalMs: 50, what: `${this.name} to be ready at ${url}` },
    ).catch((e) => {
      throw new Error(`${e.message}\n--- ${this.name} output ---\n${this.output}`);
    });
  }

  /** GET /metrics (self-metrics on ports.metrics), parsed. */
  async metrics() {
    const r = await httpRequest(`http://${HOST}:${this.ports.metrics}/metrics`);
    if (r.status !== 200) throw new Error(`GET /metrics on ${this.name}: ${r.status} ${r.text}`);
    return parsePrometheus(r.text);
  }

  /** Sends `signal` and waits for the exit; resolves with {code, signal}. */
  async stop(signal = 'SIGTERM', timeoutMs = 20000) {
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

  /** Last-resort cleanup: SIGKILL if still running, and wait for the exit. */
  async kill() {
    if (this.running) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }
}

/**
 * A full config: health_check on ports.health and self-metrics on ports.metrics (never the
 * default 8888, tests may run in parallel) around the given components and pipelines.
 */
export function collectorConfig(ports, { receivers, processors, exporters, pipelines }) {
  const cfg = {
    extensions: { health_check: { endpoint: `${HOST}:${ports.health}` } },
    receivers,
  };
  if (processors) cfg.processors = processors;
  cfg.exporters = exporters;
  cfg.service = {
    extensions: ['health_check'],
    telemetry: { logs: { level: 'info' }, metrics: { address: `${HOST}:${ports.metrics}` } },
    pipelines,
  };
  return cfg;
}
