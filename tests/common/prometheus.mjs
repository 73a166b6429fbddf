// A real Prometheus (Debian package `prometheus`, 2.42; or $PROMETHEUS_BIN) on a free
// loopback port, scraping given targets, and queried through its HTTP API. Built-in
// modules and the shared harness only. Readiness is polled until a deadline.
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

import { HOST, freePorts, httpGet, httpRequest, waitFor } from './harness.mjs';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN || 'prometheus';

// prometheus.yml: one static target per job, all scraped every `scrapeInterval`. A job's
// value is 'host:port', or {target: 'host:port', labels: {name: value}} for target labels
// (e.g. the namespace and pod that Kubernetes service discovery would add), with optional
// `scheme` ('https') and `tls` (Prometheus's tls_config: {ca_file, cert_file, key_file}).
function configYaml(jobs, scrapeInterval) {
  const scrape = Object.entries(jobs)
    .map(([job, spec]) => {
      const { target, labels, scheme, tls } = typeof spec === 'string' ? { target: spec, labels: null } : spec;
      return [
        `  - job_name: ${JSON.stringify(job)}`,
        `    scrape_interval: ${scrapeInterval}`,
        `    scrape_timeout: ${scrapeInterval}`,
        ...(scheme ? [`    scheme: ${scheme}`] : []),
        ...(tls ? [`    tls_config: ${JSON.stringify(tls)}`] : []),
        `    static_configs:`,
        `      - targets: [${JSON.stringify(target)}]`,
        ...(labels ? [`        labels: ${JSON.stringify(labels)}`] : []),
      ].join('\n');
    })
    .join('\n');
  return `global:\n  scrape_interval: ${scrapeInterval}\n` + (scrape ? `scrape_configs:\n${scrape}\n` : '');
}

/** One running Prometheus. Always stop() it (safe when it has exited or never started). */
export class PrometheusServer {
  constructor(proc, port) {
    this.proc = proc;
    this.port = port;
    this.output = '';
    this.exit = null;
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      // 'exit' does not come when the binary cannot be started: 'error' ends it then.
      proc.on('error', (e) => {
        this.exit = { error: e.message };
        resolve(this.exit);
      });
    });
    const keep = (c) => {
      this.output += c.toString('utf8');
      if (this.output.length > 1 << 20) this.output = this.output.slice(-(1 << 19));
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
  }

  /**
   * Starts Prometheus with one scrape job per entry of `jobs` ({name: 'host:port'}; may be
   * empty), scraping every `scrapeInterval`, its TSDB under `dir`, with `extraArgs` (e.g.
   * '--web.enable-remote-write-receiver'), and waits for /-/ready.
   * Retried on a new port if it exits before it is ready (the port taken meanwhile).
   * With `lifecycle`, /-/reload is enabled, for reload().
   */
  static async start({
    dir,
    jobs = {},
    scrapeInterval = '1s',
    extraArgs = [],
    lifecycle = false,
    readyTimeoutMs = 30000,
    attempts = 3,
  }) {
    const configFile = path.join(dir, 'prometheus.yml');
    await fs.writeFile(configFile, configYaml(jobs, scrapeInterval));
    if (lifecycle) extraArgs = [...extraArgs, '--web.enable-lifecycle'];
    let lastErr;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const { port } = await freePorts({ port: 'tcp' });
      const proc = spawn(
        PROMETHEUS_BIN,
        [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${path.join(dir, `tsdb-${attempt}`)}`,
          `--web.listen-address=${HOST}:${port}`,
          ...extraArgs,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const p = new PrometheusServer(proc, port);
      p.configFile = configFile;
      try {
        await waitFor(
          async () => {
            if (p.exit) throw new Error(`prometheus exited: ${JSON.stringify(p.exit)}`);
            return (await httpGet(`http://${HOST}:${port}/-/ready`, 2000)).status === 200;
          },
          { timeoutMs: readyTimeoutMs, intervalMs: 100, what: 'prometheus to be ready' },
        );
        return p;
      } catch (e) {
        await p.stop();
        if (p.exit?.error) {
          throw new Error(`cannot run ${PROMETHEUS_BIN} (apt-get install prometheus, or set PROMETHEUS_BIN): ${p.exit.error}`);
        }
        lastErr = new Error(`${e.message}\n--- prometheus output ---\n${p.output.slice(-4000)}`);
      }
    }
    throw lastErr;
  }

  /**
   * An instant query, evaluated now or at `time` (Unix seconds, may have a fraction);
   * resolves with the result vector [{metric, value: [ts, "v"]}].
   */
  async query(q, { time } = {}) {
    let url = `http://${HOST}:${this.port}/api/v1/query?query=${encodeURIComponent(q)}`;
    if (time !== undefined) url += `&time=${encodeURIComponent(String(time))}`;
    const r = await httpGet(url, 5000);
    const j = JSON.parse(r.text);
    if (j.status !== 'success') throw new Error(`query ${q}: ${r.status} ${r.text}`);
    if (j.data.resultType !== 'vector') throw new Error(`query ${q}: a ${j.data.resultType}, not a vector`);
    return j.data.result;
  }

  /** GET of an HTTP API path (e.g. '/api/v1/targets/metadata?...'); resolves with its `data`. */
  async api(pathAndQuery) {
    const r = await httpGet(`http://${HOST}:${this.port}${pathAndQuery}`, 5000);
    const j = JSON.parse(r.text);
    if (j.status !== 'success') throw new Error(`GET ${pathAndQuery}: ${r.status} ${r.text}`);
    return j.data;
  }

  /**
   * Replaces the scrape jobs ({name: 'host:port'}) and reloads the configuration (needs
   * start({lifecycle: true})). Resolves once Prometheus has accepted the new config.
   */
  async reload({ jobs = {}, scrapeInterval = '1s' }) {
    await fs.writeFile(this.configFile, configYaml(jobs, scrapeInterval));
    const r = await httpRequest(`http://${HOST}:${this.port}/-/reload`, { method: 'POST', timeoutMs: 10000 });
    if (r.status !== 200) throw new Error(`POST /-/reload: ${r.status} ${r.text}`);
  }

  /** SIGTERM, SIGKILL after 10 s; resolves once it has exited. */
  async stop() {
    if (this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
