// Out of file descriptors: the collector runs under a low open-files limit (prlimit), a
// client opens connections until the process holds every descriptor it may, then closes
// them. Accepting must resume by itself (it used to stop for good after the first EMFILE,
// on OTLP/HTTP and on OTLP/gRPC, whose own acceptor in gRPC 1.51 never recovers), so a
// normal request and /metrics succeed again, and the refusals are counted.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import grpc from '@grpc/grpc-js';

import {
  HOST,
  Outrigger,
  freePorts,
  httpRequest,
  makeTempDir,
  metricValue,
  outriggerBin,
  removeTempDir,
  toYaml,
  waitFor,
} from './lib/harness.mjs';

const NOFILE = 64;
const CLIENTS = 150; // well above NOFILE: the rest wait in the listen backlog

async function openFds(pid) {
  return (await fs.readdir(`/proc/${pid}/fd`)).length;
}

function connect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: HOST, port });
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

describe('accepting resumes after the fd limit', () => {
  let dir;
  let col;

  before(async () => {
    dir = await makeTempDir('outrigger-fd-');
    const ports = await freePorts({ health: 'tcp', metrics: 'tcp', http: 'tcp', grpc: 'tcp' });
    const config = {
      extensions: { health_check: { endpoint: `${HOST}:${ports.health}` } },
      receivers: {
        otlp: {
          protocols: {
            http: { endpoint: `${HOST}:${ports.http}` },
            grpc: { endpoint: `${HOST}:${ports.grpc}` },
          },
        },
      },
      exporters: { file: { path: path.join(dir, 'out.jsonl') } },
      service: {
        extensions: ['health_check'],
        telemetry: { metrics: { address: `${HOST}:${ports.metrics}` } },
        pipelines: { traces: { receivers: ['otlp'], exporters: ['file'] } },
      },
    };
    const configPath = path.join(dir, 'fd.yaml');
    await fs.writeFile(configPath, toYaml(config));
    const proc = spawn('prlimit', [`--nofile=${NOFILE}:${NOFILE}`, outriggerBin(), '--config', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    col = new Outrigger('fd', proc, configPath, ports);
    await col.waitReady(15000);
  });

  after(async () => {
    if (col) await col.kill();
    if (dir) await removeTempDir(dir);
  });

  it('serves again once connections close, and counts fd_limit', async () => {
    const socks = [];
    for (let i = 0; i < CLIENTS; i++) socks.push(await connect(col.ports.http));
    // The process reaches its limit: every descriptor it may have is open.
    await waitFor(async () => (await openFds(col.pid)) >= NOFILE, { what: `${NOFILE} open descriptors` });

    for (const s of socks) s.destroy();
    const t0 = Date.now();
    const body = JSON.stringify({ resourceSpans: [] });
    await waitFor(async () => {
      const r = await httpRequest(`http://${HOST}:${col.ports.http}/v1/traces`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body, timeoutMs: 2000,
      }).catch(() => ({ status: 0 }));
      return r.status === 200;
    }, { timeoutMs: 20000, what: 'an OTLP/HTTP request to succeed after the connections closed' });
    console.log(`served again ${Date.now() - t0} ms after ${CLIENTS} connections closed (limit ${NOFILE} fds)`);
    assert.match(col.output, /cannot accept connections: Too many open files/);
    const m = await col.metrics();
    assert.ok(metricValue(m, 'outrigger_server_refused_total', { server: 'receiver/otlp', reason: 'fd_limit' }) > 0);
    assert.ok(col.running);
    assert.equal((await httpRequest(`http://${HOST}:${col.ports.health}/`)).status, 200);
  });

  it('OTLP/gRPC serves again too (gRPC gets its connections from our acceptor)', async () => {
    const socks = [];
    for (let i = 0; i < CLIENTS; i++) socks.push(await connect(col.ports.grpc));
    await waitFor(async () => (await openFds(col.pid)) >= NOFILE, { what: `${NOFILE} open descriptors` });
    for (const s of socks) s.destroy();
    const t0 = Date.now();
    const call = () =>
      new Promise((resolve) => {
        const client = new grpc.Client(`${HOST}:${col.ports.grpc}`, grpc.credentials.createInsecure());
        const id = (x) => x;
        client.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Export', id, id,
          Buffer.alloc(0), { deadline: Date.now() + 2000 }, (err) => {
            client.close();
            resolve(!err);
          });
      });
    await waitFor(call, { timeoutMs: 20000, what: 'an OTLP/gRPC export to succeed after the connections closed' });
    console.log(`gRPC served again ${Date.now() - t0} ms after ${CLIENTS} connections closed (limit ${NOFILE} fds)`);
    const m = await col.metrics();
    assert.ok(metricValue(m, 'outrigger_server_refused_total', { server: 'receiver/otlp/grpc', reason: 'fd_limit' }) > 0);
    assert.ok(col.running);
  });
});
