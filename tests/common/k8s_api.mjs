// A fake Kubernetes API server for the runtime suites (the real binary talks to it):
// lists with metadata.resourceVersion, paged by limit/continue; chunked newline-delimited
// watches (?watch=1) with bookmarks; 410 Gone as an ERROR event for a version older than
// the history kept; 401 Status bodies for a wrong token; dropped or ended watch
// connections; raw lines and broken list answers for hostile-server tests. Objects are
// kept per collection path exactly as requested ("/api/v1/pods",
// "/api/v1/namespaces/shop/pods"), keyed by metadata.uid. Node's built-in modules only.
// (collector/k8s/fake_api_server.h is the same double for the C++ unit tests.)
import http from 'node:http';

import { HOST } from './harness.mjs';

export class FakeApi {
  constructor(token) {
    this.token = token;
    this.rv = 100;
    this.oldest = 100;
    this.objects = new Map(); // collection path -> Map(uid -> object)
    this.history = []; // {rv, path, type, object}
    this.watches = new Set(); // {path, res, from}
    this.requests = [];
    this.brokenLists = 0; // the next N lists are answered with a body that is no JSON
    this.server = http.createServer((req, res) => this.handle(req, res));
  }
  async listen() {
    await new Promise((r) => this.server.listen(0, HOST, r));
    this.port = this.server.address().port;
  }
  async close() {
    for (const w of this.watches) w.res.destroy();
    this.server.closeAllConnections?.();
    await new Promise((r) => this.server.close(r));
  }
  status(res, code, reason, message) {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }
  handle(req, res) {
    const url = new URL(req.url, 'http://x');
    this.requests.push(req.url);
    if (req.headers.authorization !== `Bearer ${this.token}`) return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    const coll = url.pathname;
    if (url.searchParams.get('watch') !== '1' && url.searchParams.get('watch') !== 'true') {
      if (this.brokenLists > 0) {
        // A hostile or broken server: 200 with a body that is no JSON.
        this.brokenLists--;
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"kind":"PodList","items":[{"metadata":');
      }
      // Paged as the real server does (limit / continue).
      const all = [...(this.objects.get(coll)?.values() ?? [])];
      const offset = Number(url.searchParams.get('continue') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? all.length);
      const items = all.slice(offset, offset + limit);
      const metadata = { resourceVersion: String(this.rv) };
      if (offset + limit < all.length) metadata.continue = String(offset + limit);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata, items }));
    }
    const from = Number(url.searchParams.get('resourceVersion'));
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (from < this.oldest) {
      const st = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410,
                   message: `too old resource version: ${from} (${this.oldest})` };
      res.write(JSON.stringify({ type: 'ERROR', object: st }) + '\n');
      return res.end();
    }
    const w = { path: coll, res, bookmarks: url.searchParams.get('allowWatchBookmarks') === 'true' };
    for (const e of this.history) if (e.path === coll && e.rv > from) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
  }
  emit(coll, type, object) {
    this.history.push({ rv: this.rv, path: coll, type, object });
    for (const w of this.watches) if (w.path === coll) w.res.write(JSON.stringify({ type, object }) + '\n');
  }
  put(coll, object, type) {
    object.metadata.resourceVersion = String(++this.rv);
    if (!this.objects.has(coll)) this.objects.set(coll, new Map());
    const m = this.objects.get(coll);
    type ??= m.has(object.metadata.uid) ? 'MODIFIED' : 'ADDED';
    m.set(object.metadata.uid, object);
    this.emit(coll, type, object);
  }
  remove(coll, uid) {
    const m = this.objects.get(coll);
    const o = structuredClone(m.get(uid));
    m.delete(uid);
    o.metadata.resourceVersion = String(++this.rv);
    this.emit(coll, 'DELETED', o);
  }
  bookmark(coll) {
    const object = { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } };
    for (const w of this.watches) if (w.path === coll && w.bookmarks) w.res.write(JSON.stringify({ type: 'BOOKMARK', object }) + '\n');
  }
  /** Drops every watch connection (no end of the chunked answer). */
  dropWatches() {
    for (const w of this.watches) w.res.destroy();
  }
  /** Ends every watch normally (as at the server's timeoutSeconds), after what was written. */
  endWatches() {
    for (const w of this.watches) w.res.end();
  }
  compact() {
    this.oldest = ++this.rv;
  }
  /** Writes `line` as it is into every open watch of `coll` (a malformed event). */
  sendRaw(coll, line) {
    for (const w of this.watches) if (w.path === coll) w.res.write(line + '\n');
  }
}
