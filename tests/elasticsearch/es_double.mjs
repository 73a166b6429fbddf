// A protocol double of Elasticsearch's _bulk API, Node built-ins only. No real
// Elasticsearch can run on the test machines; this implements the documented request
// and response shapes (docs-bulk.html):
//
//   POST /_bulk   NDJSON: an action line ({"create"|"index": {"_index", "_id"?, ...}})
//                 then a source line (a JSON object); the body must end with "\n".
//                 Content-Type application/x-ndjson (or application/json);
//                 Content-Encoding: gzip accepted.
//                 200 {"took","errors","items":[{"create":{"_index","_id","status",
//                 "result"} | {..., "status", "error":{"type","reason"}}}]}
//                 Malformed NDJSON: 400 {"error":{"root_cause","type","reason"},"status":400}
//                 A create with an _id that exists: item 409 version_conflict_engine_exception.
//                 An action's "dynamic_templates" must map fields to template names (else
//                 400 for the request); into a data stream matching *.otel-* only the
//                 templates of Elasticsearch's metrics OTel mappings exist (counter_/gauge_
//                 double/long, histogram, summary): another name is an item 400
//                 document_parsing_exception "Can't find dynamic template ...".
//   GET /_nodes/http      (cluster-nodes-info.html) {"_nodes":{...},"cluster_name","nodes":
//                 {id:{"name","roles","http":{"bound_address","publish_address"}}}}: this
//                 node, or the nodes set with `nodes: [{id, publishAddress, roles}]`;
//                 401 without the expected Authorization, `nodesStatus` answers an error.
//   GET /_double/docs     every stored document: [{"_index","_id","_source","dynamic_templates"}]
//   POST /_double/faults  {"rules":[{"contains","status","type","times"}],
//                          "failNext":[{"status","retryAfter","body"}], "failAll":{...},
//                          "maxBody":n, "auth":"...", "delayMs":n, "throttleEvery":n}
//
// Faults: per item (a document whose source contains `contains` is answered `status`
// with error `type`, `times` times, -1 = always), per request (the next requests are
// answered with a status, e.g. 429/503 with Retry-After; with failAll every request is,
// as a node that is not ready), 413 above maxBody bytes (as http.max_content_length
// does), 401 without the expected Authorization header. A failNext/failAll entry with a
// `body` is answered with that body as text/html (e.g. status 200 and a body that is not
// JSON, as a proxy's error page); `delayMs` delays every answer; with `throttleEvery` n,
// every n-th document (counted over all requests) is answered 429.
//
// HTTPS: start(port, {key, cert}) serves TLS with that PEM key and certificate (as
// Elasticsearch with xpack.security.http.ssl); `tlsErrors` lists the handshakes that
// failed (a client that does not trust the certificate), `requests[].tls` says whether
// a request came over TLS.
//
// Run alone: node es_double.mjs [port] [key.pem cert.pem]  (prints "listening on <url>").
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

// The dynamic templates of Elasticsearch's metrics-otel@mappings (what the exporter's otel
// mode names in "dynamic_templates").
const OTEL_METRICS_TEMPLATES = new Set([
  'counter_double',
  'counter_long',
  'gauge_double',
  'gauge_long',
  'histogram',
  'summary',
]);

function errorBody(status, type, reason) {
  const e = { type, reason };
  return JSON.stringify({ error: { root_cause: [e], type, reason }, status });
}

export class EsDouble {
  constructor(tls) {
    this.rules = []; // {contains, status, type, times}
    this.ruleHits = new Map(); // `${ruleIndex}\u0000${source}` -> hits
    this.failNext = []; // {status, retryAfter}
    this.failAll = null; // {status, retryAfter}: every _bulk request
    this.tlsErrors = []; // failed TLS handshakes: {code, message}
    this.maxBody = 0;
    this.auth = '';
    this.docs = []; // {_index, _id, _source, text}
    this.ids = new Map(); // index -> Set(ids)
    this.requests = []; // {status, items, bytes, headers, tls}
    this.nextId = 0;
    this.delayMs = 0;
    this.throttleEvery = 0;
    this.itemAttempts = 0;
    this.nodes = null; // null: this node only
    this.nodesStatus = 200;
    this.nodesRequests = []; // {headers}
    const handler = (req, res) => this.#handle(req, res);
    if (tls) {
      this.server = https.createServer({ key: tls.key, cert: tls.cert }, handler);
      this.server.on('tlsClientError', (e) => this.tlsErrors.push({ code: e.code, message: e.message }));
    } else {
      this.server = http.createServer(handler);
    }
  }

  /**
   * Starts listening on 127.0.0.1 (port 0: any free port); over HTTPS when `tls` gives
   * {key, cert} (PEM strings or Buffers).
   */
  static async start(port = 0, tls = undefined) {
    const d = new EsDouble(tls);
    await new Promise((resolve, reject) => {
      d.server.once('error', reject);
      d.server.listen(port, '127.0.0.1', resolve);
    });
    d.port = d.server.address().port;
    d.url = `${tls ? 'https' : 'http'}://127.0.0.1:${d.port}`;
    return d;
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }

  configure({ rules, failNext, failAll, maxBody, auth, delayMs, throttleEvery, nodes, nodesStatus } = {}) {
    if (nodes !== undefined) this.nodes = nodes;
    if (nodesStatus !== undefined) this.nodesStatus = nodesStatus;
    if (delayMs !== undefined) this.delayMs = delayMs;
    if (throttleEvery !== undefined) this.throttleEvery = throttleEvery;
    if (rules) this.rules.push(...rules);
    if (failNext) this.failNext.push(...failNext);
    if (failAll !== undefined) this.failAll = failAll;
    if (maxBody !== undefined) this.maxBody = maxBody;
    if (auth !== undefined) this.auth = auth;
  }

  /** Stored documents of `index` (all if omitted). */
  stored(index) {
    return this.docs.filter((d) => index === undefined || d._index === index);
  }

  #nodesHttp(req, res) {
    this.nodesRequests.push({ headers: req.headers });
    if (req.method !== 'GET') {
      this.#send(res, 405, errorBody(405, 'method_not_allowed', `${req.method} not allowed`));
      return;
    }
    if (this.auth && req.headers.authorization !== this.auth) {
      this.#send(res, 401, errorBody(401, 'security_exception', 'missing authentication credentials for REST request [/_nodes/http]'));
      return;
    }
    if (this.nodesStatus !== 200) {
      this.#send(res, this.nodesStatus, errorBody(this.nodesStatus, 'master_not_discovered_exception', 'injected'));
      return;
    }
    const list = this.nodes ?? [{ id: 'self', publishAddress: `127.0.0.1:${this.port}` }];
    const nodes = {};
    for (const n of list) {
      const ipPort = n.publishAddress.split('/').pop();
      nodes[n.id] = {
        name: `node-${n.id}`,
        transport_address: '127.0.0.1:9300',
        host: '127.0.0.1',
        ip: '127.0.0.1',
        version: '8.15.0',
        roles: n.roles ?? ['data', 'ingest', 'master'],
        http: { bound_address: [ipPort], publish_address: n.publishAddress, max_content_length_in_bytes: 104857600 },
      };
    }
    const total = list.length;
    this.#send(res, 200, JSON.stringify({ _nodes: { total, successful: total, failed: 0 }, cluster_name: 'double', nodes }));
  }

  #send(res, status, body, headers = {}) {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  }

  #handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const answer = () => {
        try {
          this.#route(req, raw, res);
        } catch (e) {
          this.#send(res, 500, errorBody(500, 'exception', String(e)));
        }
      };
      if (this.delayMs > 0 && req.url.startsWith('/_bulk')) {
        setTimeout(answer, this.delayMs);
      } else {
        answer();
      }
    });
  }

  #route(req, raw, res) {
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && path === '/_double/docs') {
      this.#send(
        res,
        200,
        JSON.stringify(
          this.docs.map(({ _index, _id, _source, dynamicTemplates }) => ({
            _index,
            _id,
            _source,
            dynamic_templates: dynamicTemplates,
          })),
        ),
      );
      return;
    }
    if (path === '/_nodes/http') {
      this.#nodesHttp(req, res);
      return;
    }
    if (req.method === 'POST' && path === '/_double/faults') {
      this.configure(JSON.parse(raw.toString('utf8')));
      this.#send(res, 200, '{"acknowledged":true}');
      return;
    }
    if (path !== '/_bulk') {
      this.#send(res, 404, errorBody(404, 'resource_not_found_exception', `no handler for ${path}`));
      return;
    }
    const record = { status: 0, items: 0, bytes: raw.length, headers: req.headers, tls: Boolean(req.socket.encrypted) };
    this.requests.push(record);
    const reply = (status, body, headers) => {
      record.status = status;
      this.#send(res, status, body, headers);
    };
    if (req.method !== 'POST' && req.method !== 'PUT') {
      reply(405, errorBody(405, 'method_not_allowed', `${req.method} not allowed`));
      return;
    }
    if (this.auth && req.headers.authorization !== this.auth) {
      reply(401, errorBody(401, 'security_exception', 'missing authentication credentials for REST request [/_bulk]'), {
        'www-authenticate': 'Basic realm="security" charset="UTF-8"',
      });
      return;
    }
    if (this.failNext.length > 0 || this.failAll) {
      const f = this.failNext.length > 0 ? this.failNext.shift() : this.failAll;
      if (f.body !== undefined) {
        reply(f.status, f.body, { 'content-type': 'text/html' });
        return;
      }
      const type = f.status === 429 ? 'es_rejected_execution_exception' : 'unavailable_shards_exception';
      reply(f.status, errorBody(f.status, type, 'injected'), f.retryAfter ? { 'retry-after': String(f.retryAfter) } : {});
      return;
    }
    if (this.maxBody > 0 && raw.length > this.maxBody) {
      reply(413, '');
      return;
    }
    let body = raw;
    if ((req.headers['content-encoding'] ?? '') === 'gzip') {
      try {
        body = zlib.gunzipSync(raw);
      } catch {
        reply(400, errorBody(400, 'parse_exception', 'request body is not valid gzip'));
        return;
      }
    }
    const ct = req.headers['content-type'] ?? '';
    if (!ct.startsWith('application/x-ndjson') && !ct.startsWith('application/json')) {
      reply(406, JSON.stringify({ error: `Content-Type header [${ct}] is not supported`, status: 406 }));
      return;
    }
    const text = body.toString('utf8');
    if (!text.endsWith('\n')) {
      reply(400, errorBody(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]'));
      return;
    }
    const lines = text.slice(0, -1).split('\n');
    const ops = [];
    for (let i = 0; i < lines.length; i += 2) {
      let action;
      try {
        action = JSON.parse(lines[i]);
      } catch {
        action = undefined;
      }
      if (!action || typeof action !== 'object' || Array.isArray(action) || Object.keys(action).length !== 1) {
        reply(400, errorBody(400, 'illegal_argument_exception', `Malformed action/metadata line [${i + 1}]`));
        return;
      }
      const op = Object.keys(action)[0];
      if (op !== 'create' && op !== 'index') {
        reply(400, errorBody(400, 'illegal_argument_exception', `Unsupported action [${op}] in this double`));
        return;
      }
      const meta = action[op];
      if (!meta || typeof meta._index !== 'string') {
        reply(400, errorBody(400, 'action_request_validation_exception', 'Validation Failed: 1: index is missing;'));
        return;
      }
      if (i + 1 >= lines.length) {
        reply(400, errorBody(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]'));
        return;
      }
      let source;
      try {
        source = JSON.parse(lines[i + 1]);
      } catch {
        source = undefined;
      }
      if (!source || typeof source !== 'object' || Array.isArray(source)) {
        reply(400, errorBody(400, 'x_content_parse_exception', `failed to parse source on line [${i + 2}]`));
        return;
      }
      const dt = meta.dynamic_templates;
      if (dt !== undefined && (dt === null || typeof dt !== 'object' || Array.isArray(dt) || Object.values(dt).some((v) => typeof v !== 'string'))) {
        reply(400, errorBody(400, 'x_content_parse_exception', '[dynamic_templates] must be a map of field to template name'));
        return;
      }
      ops.push({ op, index: meta._index, id: meta._id, source, text: lines[i + 1], dynamicTemplates: dt });
    }
    record.items = ops.length;
    let errors = false;
    const items = ops.map((o) => {
      let status = 201;
      let type = '';
      if (this.throttleEvery > 0 && this.itemAttempts++ % this.throttleEvery === this.throttleEvery - 1) {
        status = 429;
        type = 'es_rejected_execution_exception';
      }
      for (let k = 0; k < this.rules.length; k++) {
        const r = this.rules[k];
        if (status !== 201 || !o.text.includes(r.contains)) continue;
        const key = `${k}\u0000${o.text}`;
        const hits = this.ruleHits.get(key) ?? 0;
        if (r.times < 0 || hits < r.times) {
          this.ruleHits.set(key, hits + 1);
          status = r.status;
          type = r.type;
          break;
        }
      }
      if (status === 201 && o.dynamicTemplates && /\.otel-/.test(o.index)) {
        for (const [field, name] of Object.entries(o.dynamicTemplates)) {
          if (!OTEL_METRICS_TEMPLATES.has(name)) {
            status = 400;
            type = 'document_parsing_exception';
            o.reason = `Can't find dynamic template for dynamic template name [${name}] of field [${field}]`;
            break;
          }
        }
      }
      const ids = this.ids.get(o.index) ?? new Set();
      this.ids.set(o.index, ids);
      if (status === 201 && o.id !== undefined && ids.has(o.id)) {
        if (o.op === 'create') {
          status = 409;
          type = 'version_conflict_engine_exception';
        } else {
          status = 200; // index over an existing id: updated, not a new document
        }
      }
      const id = o.id ?? `auto-${this.nextId++}`;
      const item = { _index: o.index, _id: id, status };
      if (status === 201) {
        ids.add(id);
        this.docs.push({ _index: o.index, _id: id, _source: o.source, text: o.text, dynamicTemplates: o.dynamicTemplates });
        item._version = 1;
        item.result = 'created';
      } else if (status === 200) {
        const at = this.docs.findIndex((d) => d._index === o.index && d._id === id);
        this.docs[at] = { _index: o.index, _id: id, _source: o.source, text: o.text };
        item.result = 'updated';
      } else {
        errors = true;
        item.error = { type, reason: o.reason ?? `[${id}]: ${type} (injected)`, index: o.index };
      }
      return { [o.op]: item };
    });
    reply(200, JSON.stringify({ took: 1, errors, items }));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [port, key, cert] = process.argv.slice(2);
  const tls = key && cert ? { key: readFileSync(key), cert: readFileSync(cert) } : undefined;
  const d = await EsDouble.start(Number(port ?? 0), tls);
  console.log(`listening on ${d.url}`);
}
