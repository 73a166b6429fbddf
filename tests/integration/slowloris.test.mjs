// Slow and idle clients against the real binary, with small timeouts set in the config: a
// trickled header is cut at read_header_timeout, a trickled body at read_timeout, an idle
// kept-alive connection at idle_timeout; connections beyond max_connections never stall
// service for others. Every cut is counted per reason.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  HOST,
  Outrigger,
  collectorConfig,
  httpRequest,
  makeTempDir,
  metricValue,
  removeTempDir,
  waitFor,
} from './lib/harness.mjs';

const READ_HEADER_MS = 300;
const READ_MS = 700;
const IDLE_MS = 400;
const MAX_CONNECTIONS = 4;

/**
 * Opens a connection, writes `first`, then calls `tick(socket)` every `everyMs` until the
 * server closes it. Resolves with {elapsedMs, data} (elapsed from `first`).
 */
function untilClosed(port, first, { tick, everyMs = 50, limitMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: HOST, port });
    let data = '';
    let t0;
    let timer;
    const limit = setTimeout(() => {
      s.destroy();
      reject(new Error(`connection not closed within ${limitMs} ms`));
    }, limitMs);
    s.on('data', (d) => { data += d.toString(); });
    s.on('error', () => {});
    s.once('connect', () => {
      t0 = Date.now();
      if (first) s.write(first);
      if (tick) timer = setInterval(() => { if (!s.destroyed) s.write(tick()); }, everyMs);
    });
    s.once('close', () => {
      clearInterval(timer);
      clearTimeout(limit);
      resolve({ elapsedMs: Date.now() - t0, data });
    });
  });
}

describe('timeouts and max_connections of the OTLP/HTTP server', () => {
  let dir;
  let col;

  before(async () => {
    dir = await makeTempDir('outrigger-slow-');
    col = await Outrigger.start({
      name: 'slow',
      dir,
      portNames: ['health', 'metrics', 'http'],
      makeConfig: (p) => collectorConfig(p, {
        receivers: {
          otlp: {
            protocols: {
              http: {
                endpoint: `${HOST}:${p.http}`,
                read_header_timeout: `${READ_HEADER_MS}ms`,
                read_timeout: `${READ_MS}ms`,
                idle_timeout: `${IDLE_MS}ms`,
                max_connections: MAX_CONNECTIONS,
              },
            },
          },
        },
        exporters: { file: { path: path.join(dir, 'out.jsonl') } },
        pipelines: { traces: { receivers: ['otlp'], exporters: ['file'] } },
      }),
    });
  });

  after(async () => {
    if (col) await col.kill();
    if (dir) await removeTempDir(dir);
  });

  const refused = async (reason) =>
    metricValue(await col.metrics(), 'outrigger_server_refused_total', { server: 'receiver/otlp', reason }) ?? 0;
  const post = () => httpRequest(`http://${HOST}:${col.ports.http}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"resourceSpans":[]}', timeoutMs: 3000,
  });

  it('a header trickled byte by byte is cut at read_header_timeout', async () => {
    const r = await untilClosed(col.ports.http, 'POST /v1/traces HTTP/1.1\r\nHost: x\r\n', { tick: () => 'X' });
    console.log(`slowloris header cut after ${r.elapsedMs} ms (read_header_timeout ${READ_HEADER_MS} ms)`);
    assert.ok(r.elapsedMs >= READ_HEADER_MS - 50 && r.elapsedMs < READ_HEADER_MS + 1500, `${r.elapsedMs} ms`);
    assert.equal(r.data, '');
    await waitFor(async () => (await refused('read_header_timeout')) >= 1, { what: 'read_header_timeout counted' });
  });

  it('a body trickled byte by byte is cut at read_timeout', async () => {
    const r = await untilClosed(col.ports.http,
      'POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
      { tick: () => ' ' });
    console.log(`slow body cut after ${r.elapsedMs} ms (read_timeout ${READ_MS} ms)`);
    assert.ok(r.elapsedMs >= READ_MS - 50 && r.elapsedMs < READ_MS + 1500, `${r.elapsedMs} ms`);
    await waitFor(async () => (await refused('read_timeout')) >= 1, { what: 'read_timeout counted' });
  });

  it('an idle kept-alive connection is closed at idle_timeout', async () => {
    const body = '{"resourceSpans":[]}';
    let answeredAt = 0;
    const r = await new Promise((resolve) => {
      const s = net.connect({ host: HOST, port: col.ports.http });
      let data = '';
      s.on('data', (d) => {
        data += d.toString();
        if (!answeredAt && data.includes('\r\n\r\n')) answeredAt = Date.now();
      });
      s.once('connect', () => s.write(
        `POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
      s.once('close', () => resolve({ data, idleMs: Date.now() - answeredAt }));
    });
    assert.match(r.data, /^HTTP\/1.1 200/);
    console.log(`idle kept-alive connection closed ${r.idleMs} ms after its answer (idle_timeout ${IDLE_MS} ms)`);
    assert.ok(r.idleMs >= IDLE_MS - 50 && r.idleMs < IDLE_MS + 1500, `${r.idleMs} ms`);
  });

  it('silent connections beyond max_connections make room for a real client', async () => {
    const silent = [];
    for (let i = 0; i < MAX_CONNECTIONS * 3; i++) {
      silent.push(await new Promise((resolve) => {
        const s = net.connect({ host: HOST, port: col.ports.http }, () => resolve(s));
        s.on('error', () => {});
      }));
    }
    const t0 = Date.now();
    const r = await post();
    console.log(`served in ${Date.now() - t0} ms with ${silent.length} silent connections open (max ${MAX_CONNECTIONS})`);
    assert.equal(r.status, 200);
    for (const s of silent) s.destroy();
  });

  it('when every connection is busy, a new one is closed at once (not stalled) and served once they are cut', async () => {
    const busy = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) {
      busy.push(untilClosed(col.ports.http, 'POST /v1/traces HTTP/1.1\r\n', { tick: () => 'X' }));
    }
    // Closed at once (a connection reset or an empty close), never left hanging.
    const before = await refused('max_connections');
    await waitFor(async () => {
      const r = await untilClosed(col.ports.http, null, { limitMs: 1000 });
      return r.elapsedMs < 200 && (await refused('max_connections')) > before;
    }, { what: 'a connection beyond max_connections to be closed at once' });
    await Promise.all(busy);
    assert.equal((await post()).status, 200);
    assert.ok(col.running);
  });
});
