// OTLP/gRPC with TLS, mTLS and bearer tokens, with certificates made by `openssl` at test
// time. The receiving collector requires a client certificate signed by its CA and a
// bearer token read from a file. Real clients: the OpenTelemetry JS SDK's gRPC exporter,
// grpc-js directly (to see each status code), and our own `otlp` exporter (client
// certificate, CA, token from a bearertokenauth extension) in a second collector.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import grpc from '@grpc/grpc-js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';

import { makeCerts } from './lib/certs.mjs';
import {
  HOST,
  Outrigger,
  collectorConfig,
  makeTempDir,
  metricValue,
  readJsonLines,
  removeTempDir,
  scrubOtelEnv,
  waitFor,
} from './lib/harness.mjs';
import { flattenSpans } from './lib/otlp_json.mjs';
import { encodeTraceRequest } from './lib/proto.mjs';

scrubOtelEnv();

const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const GRPC_OK = 0;
const GRPC_UNAVAILABLE = 14;
const GRPC_UNAUTHENTICATED = 16;
const EXPORT_SUCCESS = 0;
const EXPORT_FAILED = 1;
const REFUSED = { extension: 'bearertokenauth/server', result: 'refused' };
const ACCEPTED = { extension: 'bearertokenauth/server', result: 'accepted' };
const AUTH_METRIC = 'outrigger_extension_bearertokenauth_requests_total';

const hex = (n) => randomBytes(n).toString('hex');
const NOW_NS = BigInt(Date.now()) * 1000000n;

function protoTrace(name) {
  return encodeTraceRequest({
    resourceAttrs: { 'service.name': 'auth-tls-test' },
    spans: [{ traceId: hex(16), spanId: hex(8), name, kind: 2, start: NOW_NS, end: NOW_NS + 1000n }],
  });
}

/** Writes `content` beside `file` and renames it over, as secret mounts rotate files. */
function rotate(file, content) {
  fs.writeFileSync(`${file}.tmp`, content);
  fs.renameSync(`${file}.tmp`, file);
}

describe('OTLP/gRPC receiver with TLS, mTLS and bearertokenauth', () => {
  let dir;
  let certs;
  let tokenFile;
  let outFile;
  let receiver; // requires TLS, a client certificate and a token
  let forwarder; // plaintext in, our otlp exporter with TLS + token out to `receiver`
  const clients = [];
  let refusedCalls = 0; // calls that must be counted as refused by the extension
  let acceptedCalls = 0;

  const read = (p) => fs.readFileSync(p);
  const spanNames = async () => flattenSpans(await readJsonLines(outFile)).map((x) => x.item.name);

  /** A grpc-js client to the receiver with these TLS credentials. */
  function tlsClient({ ca = certs.ca, client = certs.client } = {}) {
    const creds = client
      ? grpc.credentials.createSsl(read(ca.crt), read(client.key), read(client.crt))
      : grpc.credentials.createSsl(read(ca.crt));
    const c = new grpc.Client(`${HOST}:${receiver.ports.grpc}`, creds);
    clients.push(c);
    return c;
  }

  /** One raw Export call; resolves with {code, details}. */
  function exportCall(client, name, token) {
    const md = new grpc.Metadata();
    if (token !== undefined) md.set('authorization', `Bearer ${token}`);
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        TRACE_EXPORT,
        (b) => b,
        (b) => b,
        protoTrace(name),
        md,
        { deadline: Date.now() + 5000, waitForReady: false },
        (err) => resolve(err ? { code: err.code, details: err.details } : { code: GRPC_OK }),
      );
    });
  }

  /** One span through the JS SDK's gRPC exporter; resolves with its ExportResult. */
  async function sdkExport(name, { token, ca = certs.ca, client = certs.client }) {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    const exporter = new OTLPTraceExporter({
      url: `https://${HOST}:${receiver.ports.grpc}`,
      credentials: grpc.credentials.createSsl(read(ca.crt), read(client.key), read(client.crt)),
      metadata,
      timeoutMillis: 5000,
    });
    const ended = [];
    const provider = new BasicTracerProvider({
      spanProcessors: [
        { onStart() {}, onEnd: (s) => ended.push(s), forceFlush: async () => {}, shutdown: async () => {} },
      ],
    });
    provider.getTracer('auth-tls').startSpan(name).end();
    try {
      return await new Promise((resolve) => exporter.export(ended, resolve));
    } finally {
      await exporter.shutdown();
    }
  }

  async function authCount(labels) {
    return metricValue(await receiver.metrics(), AUTH_METRIC, labels) ?? 0;
  }

  before(async () => {
    dir = await makeTempDir('outrigger-auth-tls-');
    certs = makeCerts(dir);
    tokenFile = path.join(dir, 'token');
    rotate(tokenFile, 'first-token\n');
    outFile = path.join(dir, 'out.jsonl');
    receiver = await Outrigger.start({
      name: 'receiver',
      dir,
      portNames: ['grpc', 'health', 'metrics'],
      makeConfig: (p) => {
        const cfg = collectorConfig(p, {
          receivers: {
            otlp: {
              protocols: {
                grpc: {
                  endpoint: `${HOST}:${p.grpc}`,
                  tls: {
                    cert_file: certs.server.crt,
                    key_file: certs.server.key,
                    client_ca_file: certs.ca.crt,
                  },
                  auth: { authenticator: 'bearertokenauth/server' },
                },
              },
            },
          },
          exporters: { file: { path: outFile } },
          pipelines: { traces: { receivers: ['otlp'], exporters: ['file'] } },
        });
        cfg.extensions['bearertokenauth/server'] = { filename: tokenFile };
        cfg.service.extensions.push('bearertokenauth/server');
        return cfg;
      },
    });
    forwarder = await Outrigger.start({
      name: 'forwarder',
      dir,
      portNames: ['grpc', 'health', 'metrics'],
      makeConfig: (p) => {
        const cfg = collectorConfig(p, {
          receivers: { otlp: { protocols: { grpc: { endpoint: `${HOST}:${p.grpc}` } } } },
          exporters: {
            otlp: {
              endpoint: `${HOST}:${receiver.ports.grpc}`,
              tls: { ca_file: certs.ca.crt, cert_file: certs.client.crt, key_file: certs.client.key },
              auth: { authenticator: 'bearertokenauth/client' },
              retry_on_failure: { initial_interval: '50ms', max_interval: '200ms' },
            },
          },
          pipelines: { traces: { receivers: ['otlp'], exporters: ['otlp'] } },
        });
        cfg.extensions['bearertokenauth/client'] = { filename: tokenFile };
        cfg.service.extensions.push('bearertokenauth/client');
        return cfg;
      },
    });
  });

  after(async () => {
    for (const c of clients) c.close();
    await forwarder?.kill();
    await receiver?.kill();
    await removeTempDir(dir);
  });

  it('the JS SDK gRPC exporter with the CA, a client certificate and the right token is accepted', async () => {
    const r = await sdkExport('sdk-accepted', { token: 'first-token' });
    assert.equal(r.code, EXPORT_SUCCESS, `export failed: ${r.error}`);
    acceptedCalls++;
    await waitFor(async () => (await spanNames()).includes('sdk-accepted'), { what: 'sdk-accepted in the file' });
  });

  it('the JS SDK gRPC exporter with a wrong token fails, and nothing is written', async () => {
    const r = await sdkExport('sdk-wrong-token', { token: 'not-the-token' });
    assert.equal(r.code, EXPORT_FAILED);
    assert.match(String(r.error), /valid Bearer token|UNAUTHENTICATED|16/, String(r.error));
    refusedCalls++;
  });

  it('a wrong token is UNAUTHENTICATED, with a reason that does not echo the secret', async () => {
    const r = await exportCall(tlsClient(), 'raw-wrong-token', 'first-tokeN');
    assert.equal(r.code, GRPC_UNAUTHENTICATED, JSON.stringify(r));
    assert.match(r.details, /does not hold a valid Bearer token/);
    assert.doesNotMatch(r.details, /first-token|first-tokeN/);
    refusedCalls++;
    const missing = await exportCall(tlsClient(), 'raw-no-token', undefined);
    assert.equal(missing.code, GRPC_UNAUTHENTICATED, JSON.stringify(missing));
    assert.match(missing.details, /missing the Authorization header/);
    refusedCalls++;
  });

  it('the right token over mTLS is accepted', async () => {
    const r = await exportCall(tlsClient(), 'raw-accepted', 'first-token');
    assert.equal(r.code, GRPC_OK, JSON.stringify(r));
    acceptedCalls++;
  });

  it('a client trusting another CA refuses the server (no call reaches it)', async () => {
    const r = await exportCall(tlsClient({ ca: certs.otherCa }), 'wrong-ca', 'first-token');
    assert.equal(r.code, GRPC_UNAVAILABLE, JSON.stringify(r));
  });

  it('under mTLS, a missing, expired or foreign client certificate is refused', async () => {
    for (const [what, client] of [
      ['no client certificate', null],
      ['expired client certificate', certs.expiredClient],
      ['client certificate of another CA', certs.otherClient],
    ]) {
      const r = await exportCall(tlsClient({ client }), `bad-client-${what}`, 'first-token');
      assert.equal(r.code, GRPC_UNAVAILABLE, `${what}: ${JSON.stringify(r)}`);
    }
  });

  it('our otlp exporter (CA, client certificate, token from a file) delivers to the receiver', async () => {
    const plain = new grpc.Client(`${HOST}:${forwarder.ports.grpc}`, grpc.credentials.createInsecure());
    clients.push(plain);
    const r = await exportCall(plain, 'via-our-exporter');
    assert.equal(r.code, GRPC_OK, JSON.stringify(r));
    await waitFor(async () => (await spanNames()).includes('via-our-exporter'), {
      what: 'via-our-exporter in the file',
    });
    acceptedCalls++;
  });

  it('the token file rotated: the new token is accepted and the old refused, without a restart', async () => {
    rotate(tokenFile, 'second-token\n');
    const client = tlsClient();
    // The file is checked on each request; allow for the once-a-second re-read.
    await waitFor(
      async () => {
        const r = await exportCall(client, 'rotated-new', 'second-token');
        if (r.code === GRPC_UNAUTHENTICATED) refusedCalls++;
        return r.code === GRPC_OK;
      },
      { what: 'the new token accepted', timeoutMs: 5000 },
    );
    acceptedCalls++;
    const old = await exportCall(client, 'rotated-old', 'first-token');
    assert.equal(old.code, GRPC_UNAUTHENTICATED, JSON.stringify(old));
    refusedCalls++;
    // Our exporter reads the same file: it now sends the new token.
    const plain = new grpc.Client(`${HOST}:${forwarder.ports.grpc}`, grpc.credentials.createInsecure());
    clients.push(plain);
    assert.equal((await exportCall(plain, 'via-our-exporter-rotated')).code, GRPC_OK);
    await waitFor(async () => (await spanNames()).includes('via-our-exporter-rotated'), {
      what: 'via-our-exporter-rotated in the file',
    });
    acceptedCalls++;
    assert.equal(receiver.running, true);
    assert.equal(forwarder.running, true);
  });

  it('the extension counted every accepted and refused call', async () => {
    // Calls refused in the TLS handshake never reach the authenticator.
    assert.equal(await authCount(REFUSED), refusedCalls, 'refused calls');
    assert.equal(await authCount(ACCEPTED), acceptedCalls, 'accepted calls');
    const names = await spanNames();
    for (const bad of ['sdk-wrong-token', 'raw-wrong-token', 'raw-no-token', 'rotated-old', 'wrong-ca']) {
      assert.ok(!names.includes(bad), `${bad} must not be written`);
    }
    assert.ok(!names.some((n) => n.startsWith('bad-client-')), 'no span from a refused client certificate');
  });
});

describe('OTLP/gRPC receiver TLS: an expired server certificate', () => {
  let dir;
  let certs;
  let receiver;
  let client;

  before(async () => {
    dir = await makeTempDir('outrigger-auth-tls-expired-');
    certs = makeCerts(dir);
    receiver = await Outrigger.start({
      name: 'expired',
      dir,
      portNames: ['grpc', 'health', 'metrics'],
      makeConfig: (p) =>
        collectorConfig(p, {
          receivers: {
            otlp: {
              protocols: {
                grpc: {
                  endpoint: `${HOST}:${p.grpc}`,
                  tls: { cert_file: certs.expiredServer.crt, key_file: certs.expiredServer.key },
                },
              },
            },
          },
          exporters: { debug: {} },
          pipelines: { traces: { receivers: ['otlp'], exporters: ['debug'] } },
        }),
    });
  });

  after(async () => {
    client?.close();
    await receiver?.kill();
    await removeTempDir(dir);
  });

  it('is refused by a client that trusts its CA', async () => {
    client = new grpc.Client(`${HOST}:${receiver.ports.grpc}`, grpc.credentials.createSsl(fs.readFileSync(certs.ca.crt)));
    const r = await new Promise((resolve) => {
      client.makeUnaryRequest(
        TRACE_EXPORT,
        (b) => b,
        (b) => b,
        protoTrace('expired'),
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (err) => resolve(err ? { code: err.code, details: err.details } : { code: GRPC_OK }),
      );
    });
    assert.equal(r.code, GRPC_UNAVAILABLE, JSON.stringify(r));
    const accepted = metricValue(await receiver.metrics(), 'outrigger_receiver_accepted_spans_total', {
      transport: 'grpc',
    });
    assert.ok(!accepted, `nothing accepted: ${accepted}`);
  });
});

/** One raw Export call on a fresh connection; resolves with {code, details}. */
function exportOnce(port, caFile, name) {
  const client = new grpc.Client(`${HOST}:${port}`, grpc.credentials.createSsl(fs.readFileSync(caFile)));
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      TRACE_EXPORT,
      (b) => b,
      (b) => b,
      protoTrace(name),
      new grpc.Metadata(),
      { deadline: Date.now() + 5000 },
      (err) => {
        client.close();
        resolve(err ? { code: err.code, details: err.details } : { code: GRPC_OK });
      },
    );
  });
}

describe('OTLP/gRPC receiver TLS: certificates rotated on disk', () => {
  let dir;
  let certs;
  let receiver;
  let certFile;
  let keyFile;

  before(async () => {
    dir = await makeTempDir('outrigger-auth-tls-rotate-');
    certs = makeCerts(dir);
    certFile = path.join(dir, 'live.crt');
    keyFile = path.join(dir, 'live.key');
    fs.copyFileSync(certs.server.crt, certFile);
    fs.copyFileSync(certs.server.key, keyFile);
    receiver = await Outrigger.start({
      name: 'rotating',
      dir,
      portNames: ['grpc', 'health', 'metrics'],
      makeConfig: (p) =>
        collectorConfig(p, {
          receivers: {
            otlp: {
              protocols: {
                grpc: {
                  endpoint: `${HOST}:${p.grpc}`,
                  tls: { cert_file: certFile, key_file: keyFile, reload_interval: '1s' },
                },
              },
            },
          },
          exporters: { debug: {} },
          pipelines: { traces: { receivers: ['otlp'], exporters: ['debug'] } },
        }),
    });
  });

  after(async () => {
    await receiver?.kill();
    await removeTempDir(dir);
  });

  it('new connections get the new certificate without a restart', async () => {
    assert.equal((await exportOnce(receiver.ports.grpc, certs.ca.crt, 'before')).code, GRPC_OK);
    assert.equal((await exportOnce(receiver.ports.grpc, certs.otherCa.crt, 'before-other')).code, GRPC_UNAVAILABLE);
    // A certificate of the other CA, key first (each file renamed into place whole).
    rotate(keyFile, fs.readFileSync(certs.otherServer.key));
    rotate(certFile, fs.readFileSync(certs.otherServer.crt));
    await waitFor(async () => (await exportOnce(receiver.ports.grpc, certs.otherCa.crt, 'after')).code === GRPC_OK, {
      what: 'the rotated certificate served',
      timeoutMs: 10000,
    });
    assert.equal((await exportOnce(receiver.ports.grpc, certs.ca.crt, 'after-old-ca')).code, GRPC_UNAVAILABLE);
    assert.equal(receiver.running, true);
  });
});

describe('otlp exporter: tls.server_name_override and insecure_skip_verify', () => {
  let dir;
  let certs;
  let receiver;
  const forwarders = {};
  let outFile;

  const startForwarder = (name, tls) =>
    Outrigger.start({
      name,
      dir,
      portNames: ['grpc', 'health', 'metrics'],
      makeConfig: (p) =>
        collectorConfig(p, {
          receivers: { otlp: { protocols: { grpc: { endpoint: `${HOST}:${p.grpc}` } } } },
          exporters: {
            otlp: {
              endpoint: `${HOST}:${receiver.ports.grpc}`,
              tls: { ca_file: certs.ca.crt, ...tls },
              retry_on_failure: { initial_interval: '50ms', max_interval: '100ms' },
            },
          },
          pipelines: { traces: { receivers: ['otlp'], exporters: ['otlp'] } },
        }),
    });

  before(async () => {
    dir = await makeTempDir('outrigger-auth-tls-sni-');
    certs = makeCerts(dir);
    outFile = path.join(dir, 'out.jsonl');
    receiver = await Outrigger.start({
      name: 'named',
      dir,
      portNames: ['grpc', 'health', 'metrics'],
      makeConfig: (p) =>
        collectorConfig(p, {
          receivers: {
            otlp: {
              protocols: {
                grpc: {
                  endpoint: `${HOST}:${p.grpc}`,
                  tls: { cert_file: certs.namedServer.crt, key_file: certs.namedServer.key },
                },
              },
            },
          },
          exporters: { file: { path: outFile } },
          pipelines: { traces: { receivers: ['otlp'], exporters: ['file'] } },
        }),
    });
    forwarders.named = await startForwarder('with-override', { server_name_override: 'collector.outrigger.test' });
    forwarders.plain = await startForwarder('without-override', {});
    // Trusting only the other CA: delivers only because nothing is verified.
    forwarders.skip = await startForwarder('skip-verify', { ca_file: certs.otherCa.crt, insecure_skip_verify: true });
  });

  after(async () => {
    for (const f of Object.values(forwarders)) await f.kill();
    await receiver?.kill();
    await removeTempDir(dir);
  });

  async function send(f, name) {
    const c = new grpc.Client(`${HOST}:${f.ports.grpc}`, grpc.credentials.createInsecure());
    try {
      return await new Promise((resolve) => {
        c.makeUnaryRequest(TRACE_EXPORT, (b) => b, (b) => b, protoTrace(name), new grpc.Metadata(), {}, (err) =>
          resolve(err ? err.code : GRPC_OK),
        );
      });
    } finally {
      c.close();
    }
  }

  it('the certificate is checked against the override, not the IP address', async () => {
    assert.equal(await send(forwarders.named, 'with-override'), GRPC_OK);
    assert.equal(await send(forwarders.plain, 'without-override'), GRPC_OK); // queued
    await waitFor(
      async () => flattenSpans(await readJsonLines(outFile)).some((x) => x.item.name === 'with-override'),
      { what: 'with-override delivered' },
    );
    // Without it the name does not match: every attempt fails (and is retried).
    await waitFor(
      async () =>
        (metricValue(await forwarders.plain.metrics(), 'outrigger_exporter_send_failed_spans_total', {
          exporter: 'otlp',
        }) ?? 0) >= 2,
      { what: 'failed attempts counted' },
    );
    const names = flattenSpans(await readJsonLines(outFile)).map((x) => x.item.name);
    assert.ok(!names.includes('without-override'), 'nothing delivered without the override');
  });

  it('insecure_skip_verify still uses TLS, without checking the certificate', async () => {
    assert.equal(await send(forwarders.skip, 'skip-verify'), GRPC_OK);
    await waitFor(
      async () => flattenSpans(await readJsonLines(outFile)).some((x) => x.item.name === 'skip-verify'),
      { what: 'skip-verify delivered to the TLS-only receiver' },
    );
  });
});

describe('HTTP exporters over libcurl: client TLS options and auth', () => {
  let dir;
  let certs;
  let server; // HTTPS, asks for (does not require) a client certificate, records each request
  let port;
  const seen = []; // {name, host, servername, protocol, authorized, authorization}
  const collectors = {};

  const startExporter = (name, tls) =>
    Outrigger.start({
      name,
      dir,
      portNames: ['grpc', 'health', 'metrics'],
      makeConfig: (p) => {
        const cfg = collectorConfig(p, {
          receivers: { otlp: { protocols: { grpc: { endpoint: `${HOST}:${p.grpc}` } } } },
          exporters: {
            otlphttp: {
              endpoint: `https://${HOST}:${port}/${name}`,
              tls,
              auth: { authenticator: 'bearertokenauth' },
              retry_on_failure: { initial_interval: '50ms', max_interval: '100ms' },
            },
          },
          pipelines: { traces: { receivers: ['otlp'], exporters: ['otlphttp'] } },
        });
        cfg.extensions.bearertokenauth = { token: `token-of-${name}` };
        cfg.service.extensions.push('bearertokenauth');
        return cfg;
      },
    });

  async function send(o) {
    const c = new grpc.Client(`${HOST}:${o.ports.grpc}`, grpc.credentials.createInsecure());
    try {
      return await new Promise((resolve) => {
        c.makeUnaryRequest(TRACE_EXPORT, (b) => b, (b) => b, protoTrace('x'), new grpc.Metadata(), {}, (err) =>
          resolve(err ? err.code : GRPC_OK),
        );
      });
    } finally {
      c.close();
    }
  }
  const requestOf = (name) => waitFor(() => seen.find((r) => r.name === name), { what: `a request from ${name}` });

  before(async () => {
    dir = await makeTempDir('outrigger-auth-tls-http-');
    certs = makeCerts(dir);
    const https = await import('node:https');
    server = https.createServer(
      {
        key: fs.readFileSync(certs.namedServer.key),
        cert: fs.readFileSync(certs.namedServer.crt),
        ca: fs.readFileSync(certs.ca.crt),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        req.resume();
        req.on('end', () => {
          seen.push({
            name: req.url.split('/')[1],
            host: req.headers.host,
            servername: req.socket.servername,
            protocol: req.socket.getProtocol(),
            authorized: req.socket.authorized,
            authorization: req.headers.authorization,
          });
          res.writeHead(200, { 'content-type': 'application/x-protobuf' });
          res.end();
        });
      },
    );
    await new Promise((resolve) => server.listen(0, HOST, resolve));
    port = server.address().port;
    const mtls = { ca_file: certs.ca.crt, cert_file: certs.client.crt, key_file: certs.client.key };
    const override = { server_name_override: 'collector.outrigger.test' };
    collectors.tls13 = await startExporter('tls13', { ...mtls, ...override, min_version: '1.3' });
    collectors.tls12 = await startExporter('tls12', { ...mtls, ...override, max_version: '1.2' });
    collectors.nooverride = await startExporter('nooverride', { ca_file: certs.ca.crt });
    collectors.skipverify = await startExporter('skipverify', { insecure_skip_verify: true });
  });

  after(async () => {
    for (const o of Object.values(collectors)) await o.kill();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    server?.closeAllConnections?.();
    await removeTempDir(dir);
  });

  it('server_name_override is the SNI and the checked name; Host stays; versions and client certificate apply', async () => {
    assert.equal(await send(collectors.tls13), GRPC_OK);
    assert.equal(await send(collectors.tls12), GRPC_OK);
    const r13 = await requestOf('tls13');
    assert.equal(r13.servername, 'collector.outrigger.test');
    assert.equal(r13.host, `${HOST}:${port}`);
    assert.equal(r13.protocol, 'TLSv1.3');
    assert.equal(r13.authorized, true, 'the client certificate was presented and verified');
    assert.equal(r13.authorization, 'Bearer token-of-tls13');
    const r12 = await requestOf('tls12');
    assert.equal(r12.protocol, 'TLSv1.2');
    assert.equal(r12.authorization, 'Bearer token-of-tls12');
  });

  it('without the override the certificate does not match 127.0.0.1; insecure_skip_verify connects anyway', async () => {
    assert.equal(await send(collectors.nooverride), GRPC_OK); // queued
    assert.equal(await send(collectors.skipverify), GRPC_OK);
    const skipped = await requestOf('skipverify');
    assert.equal(skipped.authorization, 'Bearer token-of-skipverify');
    await waitFor(
      async () =>
        (metricValue(await collectors.nooverride.metrics(), 'outrigger_exporter_send_failed_spans_total', {
          exporter: 'otlphttp',
        }) ?? 0) >= 2,
      { what: 'failed attempts counted' },
    );
    assert.ok(!seen.some((r) => r.name === 'nooverride'), 'no request got through without the override');
  });
});
