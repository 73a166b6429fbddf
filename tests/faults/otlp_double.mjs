// A double of an OTLP/HTTP backend (another collector) for the fault suite, Node
// built-ins only: POST /v1/logs with OTLP/JSON (the otlphttp exporter with
// `encoding: json`; gzip or not), answered {} (200). It records every log record's body, so a test
// can tell what arrived and how often. Faults: down() closes the listener and every
// connection (the exporter gets "connection refused"), up() listens again on the same
// port; `delayMs` answers every request that much later (a slow backend).
import http from 'node:http';
import zlib from 'node:zlib';

export class OtlpDouble {
  constructor() {
    this.received = new Map(); // body -> times received
    this.requests = 0;
    this.delayMs = 0;
    this.server = null;
    this.port = 0;
  }

  static async start(port = 0) {
    const d = new OtlpDouble();
    await d.up(port);
    return d;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens (again) on `port` (default: the port it had). */
  async up(port = this.port) {
    this.server = http.createServer((req, res) => this.#handle(req, res));
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
  }

  /** Stops listening and drops every connection: the backend is down. */
  async down() {
    if (!this.server) return;
    const s = this.server;
    this.server = null;
    s.closeAllConnections?.();
    await new Promise((resolve) => s.close(() => resolve()));
  }

  /** How many distinct records of `keys` arrived. */
  countOf(keys) {
    let n = 0;
    for (const k of keys) if (this.received.has(k)) n++;
    return n;
  }

  #handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const answer = () => {
        if (req.method !== 'POST' || req.url !== '/v1/logs') {
          res.writeHead(404).end();
          return;
        }
        let body;
        try {
          let raw = Buffer.concat(chunks);
          if (req.headers['content-encoding'] === 'gzip') raw = zlib.gunzipSync(raw);
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"not JSON"}');
          return;
        }
        this.requests++;
        for (const rl of body.resourceLogs ?? []) {
          for (const sl of rl.scopeLogs ?? []) {
            for (const r of sl.logRecords ?? []) {
              const k = r.body?.stringValue ?? '';
              this.received.set(k, (this.received.get(k) ?? 0) + 1);
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      };
      if (this.delayMs > 0) {
        setTimeout(answer, this.delayMs);
      } else {
        answer();
      }
    });
  }

  async close() {
    await this.down();
  }
}
