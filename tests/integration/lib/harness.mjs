// Shared helpers for the outrigger integration tests: free ports, temp configs,
// spawning the binary, readiness, polling, HTTP requests and self-metrics parsing.
//
// Synchronisation is always "poll a condition until a deadline", never a fixed sleep.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const HOST = '127.0.0.1';

/**
 * The binary under test: $OUTRIGGER_BIN (a relative path is taken from the current
 * directory), else ../../build/outrigger relative to tests/integration.
 */
export function outriggerBin() {
  const bin = process.env.OUTRIGGER_BIN
    ? path.resolve(process.env.OUTRIGGER_BIN)
    : path.resolve(TEST_DIR, '../../build/outrigger');
  if (!existsSync(bin)) {
    throw new Error(`outrigger binary not found at ${bin}; build it or set OUTRIGGER_BIN`);
  }
  return bin;
}

/**
 * The SDK exporters read OTEL_* variables (endpoints, headers, protocols, timeouts). Drop them
 * so a developer's environment cannot redirect or alter what the tests send.
 */
export function scrubOtelEnv() {
  for (const k of Object.keys(process.env)) {
    if (k.startsWith('OTEL_')) delete process.env[k];
  }
}

/** `n` distinct free loopback ports: all are held open together, then released. */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen({ port: 0, host: HOST, exclusive: true }, resolve);
      });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
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

/** The value of one sample (exact name, labels must include `labels`); undefined if absent. */
export function metricValue(samples, name, labels = {}) {
  const hits = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length === 0) return undefined;
  return hits.reduce((a, s) => a + s.value, 0);
}

/** Reads a file of JSON lines; a missing file is empty. A partial last line is left out. */
export async function readJsonLines(file) {
  let text;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or a line still being written
  return lines.filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l);
    } catch (e) {
      throw new Error(`line ${i + 1} of ${file} is not JSON: ${e.message}: ${l.slice(0, 200)}`);
    }
  });
}

/**
 * One running outrigger. Start with Outrigger.start(); always stop()/kill() it (kill() is safe
 * to call on an exited process). Output is kept for diagnostics.
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
   * Starts outrigger and waits until its health_check says ready.
   * `portNames` are allocated as free ports and passed to `makeConfig(ports)` (an object that
   * is written as YAML; it must enable health_check on ports.health). If the process exits
   * before it is ready (e.g. a port was taken meanwhile), it is retried with new ports.
   */
  static async start({ name, dir, portNames, makeConfig, readyTimeoutMs = 15000, attempts = 3 }) {
    const bin = outriggerBin();
    let lastErr;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const list = await freePorts(portNames.length);
      const ports = Object.fromEntries(portNames.map((n, i) => [n, list[i]]));
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
        if (!this.running) {
          throw new Error(`${this.name} exited early (${JSON.stringify(this.exit)}):\n${this.output}`);
        }
        const r = await httpRequest(url, { timeoutMs: 2000 });
        return r.status === 200;
      },
      { timeoutMs, intervalMs: 50, what: `${this.name} to be ready at ${url}` },
    ).catch((e) => {
      throw new Error(`${e.message}\n--- ${this.name} output ---\n${this.output}`);
    });
  }

  async metrics() {
    const r = await httpRequest(`http://${HOST}:${this.ports.metrics}/metrics`);
    if (r.status !== 200) throw new Error(`GET /metrics on ${this.name}: ${r.status} ${r.text}`);
    return parsePrometheus(r.text);
  }

  /** Sends `signal` and waits for the exit; resolves with {code, signal}. */
  async stop(signal = 'SIGTERM', timeoutMs = 20000) {
    if (!this.running) return this.exit;
    this.proc.kill(signal);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms of ${signal}:\n${this.output}`)),
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
