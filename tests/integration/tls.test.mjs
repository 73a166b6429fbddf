// TLS and mTLS on every HTTP server (OTLP/HTTP receiver, prometheus exporter, health_check,
// own metrics), with certificates made by openssl at test time and real clients: curl, and
// the OpenTelemetry JS SDK's OTLP/HTTP exporter over https. Wrong CA, expired certificate,
// missing or foreign client certificate and a TLS version below min_version are refused
// (and counted); rotated certificate files are served to new connections without a
// restart, and a broken new certificate keeps the old one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { makeCerts } from './lib/certs.mjs';
import {
  HOST,
  Outrigger,
  makeTempDir,
  metricValue,
  parsePrometheus,
  readJsonLines,
  removeTempDir,
  scrubOtelEnv,
  waitFor,
} from './lib/harness.mjs';
import { flattenSpans } from './lib/otlp_json.mjs';

const execFileP = promisify(execFile);

/** curl: resolves {code (curl's exit code), status (HTTP), body}. */
async function curl(url, args = []) {
  try {
    const { stdout } = await execFileP('curl', ['-sS', '--max-time', '10', '-o', '-', '-w', '\n%{http_code}', ...args, url]);
    const i = stdout.lastIndexOf('\n');
    return { code: 0, status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
  } catch (e) {
    return { code: e.code, status: 0, body: '', stderr: e.stderr };
  }
}

const span = (name) => JSON.stringify({
  resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tls-test' } }] },
    scopeSpans: [{
      scope: { name: 'tls' },
      spans: [{
        traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', name, kind: 1,
        startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000000001000',
      }],
    }],
  }],
});

const postSpan = (port, name, args = []) => curl(`https://127.0.0.1:${port}/v1/traces`, [
  '-H', 'Content-Type: application/json', '--data-binary', span(name), ...args,
]);

describe('TLS and mTLS on the HTTP servers', () => {
  let dir;
  let col;
  let certs;
  let out;
  let rot;

  before(async () => {
    scrubOtelEnv();
    dir = await makeTempDir('outrigger-tls-');
    certs = makeCerts(dir);
    const { ca } = certs;
    // The rotated receiver's files, rewritten by the rotation test.
    rot = { cert: path.join(dir, 'rot.pem'), key: path.join(dir, 'rot.key') };
    await fs.copyFile(certs.server.crt, rot.cert);
    await fs.copyFile(certs.server.key, rot.key);
    out = path.join(dir, 'out.jsonl');
    const srv = { cert_file: certs.server.crt, key_file: certs.server.key };
    col = await Outrigger.start({
      name: 'tls',
      dir,
      portNames: ['health', 'healthTls', 'metrics', 'tls', 'mtls', 'tls13', 'expired', 'rot', 'prom', 'auth'],
      makeConfig: (p) => ({
        extensions: {
          health_check: { endpoint: `${HOST}:${p.health}` },
          'health_check/tls': { endpoint: `${HOST}:${p.healthTls}`, tls: { ...srv, client_ca_file: ca.crt } },
          bearertokenauth: { token: 'http-s3cret' },
        },
        receivers: {
          'otlp/tls': { protocols: { http: { endpoint: `${HOST}:${p.tls}`, read_header_timeout: '500ms', tls: srv } } },
          'otlp/mtls': { protocols: { http: { endpoint: `${HOST}:${p.mtls}`, tls: { ...srv, client_ca_file: ca.crt } } } },
          'otlp/tls13': { protocols: { http: { endpoint: `${HOST}:${p.tls13}`, tls: { ...srv, min_version: '1.3' } } } },
          'otlp/expired': {
            protocols: { http: { endpoint: `${HOST}:${p.expired}`, tls: { cert_file: certs.expiredServer.crt, key_file: certs.expiredServer.key } } },
          },
          'otlp/auth': { protocols: { http: { endpoint: `${HOST}:${p.auth}`, tls: srv, auth: { authenticator: 'bearertokenauth' } } } },
          'otlp/rot': {
            protocols: { http: { endpoint: `${HOST}:${p.rot}`, tls: { cert_file: rot.cert, key_file: rot.key, reload_interval: '100ms' } } },
          },
        },
        exporters: {
          file: { path: out },
          prometheus: { endpoint: `${HOST}:${p.prom}`, tls: srv },
        },
        service: {
          extensions: ['health_check', 'health_check/tls', 'bearertokenauth'],
          telemetry: { logs: { level: 'info' }, metrics: { address: `${HOST}:${p.metrics}`, tls: srv } },
          pipelines: {
            traces: { receivers: ['otlp/tls', 'otlp/mtls', 'otlp/tls13', 'otlp/expired', 'otlp/rot', 'otlp/auth'], exporters: ['file'] },
            metrics: { receivers: ['otlp/tls'], exporters: ['prometheus'] },
          },
        },
      }),
    });
  });

  after(async () => {
    if (col) await col.kill();
    if (dir) await removeTempDir(dir);
  });

  async function selfMetrics() {
    const r = await curl(`https://127.0.0.1:${col.ports.metrics}/metrics`, ['--cacert', certs.ca.crt]);
    assert.equal(r.status, 200, `own metrics over TLS: ${JSON.stringify(r)}`);
    return parsePrometheus(r.body);
  }
  const refused = (m, server, reason) => metricValue(m, 'outrigger_server_refused_total', { server, reason }) ?? 0;

  it('accepts OTLP/HTTP over TLS from curl and from the OpenTelemetry JS SDK, and writes the spans', async () => {
    const r = await postSpan(col.ports.tls, 'curl-tls', ['--cacert', certs.ca.crt]);
    assert.equal(r.status, 200, JSON.stringify(r));

    const caPem = await fs.readFile(certs.ca.crt);
    const exporter = new OTLPTraceExporter({ url: `https://127.0.0.1:${col.ports.tls}/v1/traces`, httpAgentOptions: { ca: caPem } });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'tls-sdk' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    provider.getTracer('tls').startSpan('sdk-over-tls').end();
    await provider.forceFlush();
    await provider.shutdown();

    // And the SDK with a client certificate to the mTLS receiver.
    const mExporter = new OTLPTraceExporter({
      url: `https://127.0.0.1:${col.ports.mtls}/v1/traces`,
      httpAgentOptions: { ca: caPem, cert: await fs.readFile(certs.client.crt), key: await fs.readFile(certs.client.key) },
    });
    const mProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(mExporter)] });
    mProvider.getTracer('tls').startSpan('sdk-over-mtls').end();
    await mProvider.forceFlush();
    await mProvider.shutdown();

    await waitFor(async () => {
      const names = flattenSpans(await readJsonLines(out)).map((s) => s.item.name);
      return ['curl-tls', 'sdk-over-tls', 'sdk-over-mtls'].every((n) => names.includes(n));
    }, { what: 'the spans sent over TLS in the file' });
  });

  it('plain HTTP to a TLS port gets no answer, and is counted as a failed handshake', async () => {
    const before = refused(await selfMetrics(), 'receiver/otlp/tls', 'tls_handshake');
    const r = await curl(`http://127.0.0.1:${col.ports.tls}/v1/traces`, ['--data-binary', '{}']);
    assert.notEqual(r.code, 0);
    assert.equal(r.status, 0);
    await waitFor(async () => refused(await selfMetrics(), 'receiver/otlp/tls', 'tls_handshake') > before,
      { what: 'tls_handshake refusal counted' });
  });

  it('a connection that never starts its TLS handshake is cut at read_header_timeout', async () => {
    const before = refused(await selfMetrics(), 'receiver/otlp/tls', 'read_header_timeout');
    const t0 = Date.now();
    await new Promise((resolve, reject) => {
      const s = net.connect({ host: HOST, port: col.ports.tls });
      const limit = setTimeout(() => reject(new Error('not cut within 10 s')), 10000);
      s.on('error', () => {});
      s.once('close', () => {
        clearTimeout(limit);
        resolve();
      });
    });
    const ms = Date.now() - t0;
    console.log(`silent TLS connection cut after ${ms} ms (read_header_timeout 500 ms)`);
    assert.ok(ms >= 400 && ms < 3000, `${ms} ms`);
    await waitFor(async () => refused(await selfMetrics(), 'receiver/otlp/tls', 'read_header_timeout') > before,
      { what: 'the handshake timeout counted' });
  });

  it('bearertokenauth on OTLP/HTTP: 401 with WWW-Authenticate without the token, 200 with it', async () => {
    const args = ['--cacert', certs.ca.crt, '-D', '-'];
    const none = await postSpan(col.ports.auth, 'no-token', args);
    assert.equal(none.status, 401, JSON.stringify(none));
    assert.match(none.body, /WWW-Authenticate: Bearer/i);
    assert.ok(!none.body.includes('http-s3cret'));
    const wrong = await postSpan(col.ports.auth, 'wrong-token', [...args, '-H', 'Authorization: Bearer nope']);
    assert.equal(wrong.status, 401);
    const good = await postSpan(col.ports.auth, 'good-token', [...args, '-H', 'Authorization: Bearer http-s3cret']);
    assert.equal(good.status, 200, JSON.stringify(good));
    await waitFor(async () => refused(await selfMetrics(), 'receiver/otlp/auth', 'unauthenticated') === 2,
      { what: 'two unauthenticated requests counted' });
    await waitFor(async () => flattenSpans(await readJsonLines(out)).some((s) => s.item.name === 'good-token'),
      { what: 'the authenticated span in the file' });
    const names = flattenSpans(await readJsonLines(out)).map((s) => s.item.name);
    assert.ok(!names.includes('no-token') && !names.includes('wrong-token'));
  });

  it('a client trusting another CA refuses the server', async () => {
    const r = await postSpan(col.ports.tls, 'wrong-ca', ['--cacert', certs.otherCa.crt]);
    assert.equal(r.code, 60, `curl must fail certificate verification: ${JSON.stringify(r)}`);
  });

  it('an expired server certificate is refused by the client', async () => {
    const r = await postSpan(col.ports.expired, 'expired', ['--cacert', certs.ca.crt]);
    assert.equal(r.code, 60, JSON.stringify(r));
    assert.match(r.stderr, /expired/);
  });

  it('mTLS: no client certificate, or one from another CA, is refused; one from client_ca_file is served', async () => {
    const before = refused(await selfMetrics(), 'receiver/otlp/mtls', 'tls_handshake');
    const none = await postSpan(col.ports.mtls, 'no-client-cert', ['--cacert', certs.ca.crt]);
    assert.notEqual(none.code, 0, JSON.stringify(none));
    assert.equal(none.status, 0);
    const foreign = await postSpan(col.ports.mtls, 'foreign-client-cert',
      ['--cacert', certs.ca.crt, '--cert', certs.otherClient.crt, '--key', certs.otherClient.key]);
    assert.notEqual(foreign.code, 0, JSON.stringify(foreign));
    assert.equal(foreign.status, 0);
    const good = await postSpan(col.ports.mtls, 'mtls-ok',
      ['--cacert', certs.ca.crt, '--cert', certs.client.crt, '--key', certs.client.key]);
    assert.equal(good.status, 200, JSON.stringify(good));
    await waitFor(async () => refused(await selfMetrics(), 'receiver/otlp/mtls', 'tls_handshake') >= before + 2,
      { what: 'two mTLS refusals counted' });
    const names = flattenSpans(await readJsonLines(out)).map((s) => s.item.name);
    assert.ok(!names.includes('no-client-cert') && !names.includes('foreign-client-cert'));
  });

  it('a TLS version below min_version is refused', async () => {
    const old = await postSpan(col.ports.tls13, 'tls12', ['--cacert', certs.ca.crt, '--tls-max', '1.2']);
    assert.notEqual(old.code, 0, JSON.stringify(old));
    assert.equal(old.status, 0);
    const ok = await postSpan(col.ports.tls13, 'tls13', ['--cacert', certs.ca.crt, '--tlsv1.3']);
    assert.equal(ok.status, 200, JSON.stringify(ok));
  });

  it('prometheus exporter, health_check (mTLS) and own metrics serve over TLS', async () => {
    const prom = await curl(`https://127.0.0.1:${col.ports.prom}/metrics`, ['--cacert', certs.ca.crt]);
    assert.equal(prom.status, 200, JSON.stringify(prom));
    const health = await curl(`https://127.0.0.1:${col.ports.healthTls}/`,
      ['--cacert', certs.ca.crt, '--cert', certs.client.crt, '--key', certs.client.key]);
    assert.equal(health.status, 200, JSON.stringify(health));
    const noCert = await curl(`https://127.0.0.1:${col.ports.healthTls}/`, ['--cacert', certs.ca.crt]);
    assert.equal(noCert.status, 0, JSON.stringify(noCert));
    const plain = await curl(`http://127.0.0.1:${col.ports.metrics}/metrics`);
    assert.equal(plain.status, 0, 'own metrics must not answer plain HTTP when tls is set');
    await selfMetrics();
  });

  it('rotated certificate files are served to new connections; a broken one keeps the previous', async () => {
    const ok1 = await postSpan(col.ports.rot, 'rot-before', ['--cacert', certs.ca.crt]);
    assert.equal(ok1.status, 200, JSON.stringify(ok1));

    // A broken certificate: logged, the old one still served.
    await fs.writeFile(rot.cert + '.tmp', 'not a certificate\n');
    await fs.rename(rot.cert + '.tmp', rot.cert);
    // Files are looked at when a connection comes (at most every reload_interval).
    await waitFor(async () => {
      await postSpan(col.ports.rot, 'rot-probe', ['--cacert', certs.ca.crt]);
      return /TLS certificate files changed but cannot be loaded/.test(col.output);
    }, { what: 'the broken certificate to be logged' });
    const ok2 = await postSpan(col.ports.rot, 'rot-broken', ['--cacert', certs.ca.crt]);
    assert.equal(ok2.status, 200, JSON.stringify(ok2));

    // A new key pair signed by the other CA (each file replaced atomically).
    await fs.copyFile(certs.otherServer.key, rot.key + '.tmp');
    await fs.rename(rot.key + '.tmp', rot.key);
    await fs.copyFile(certs.otherServer.crt, rot.cert + '.tmp');
    await fs.rename(rot.cert + '.tmp', rot.cert);
    const t0 = Date.now();
    await waitFor(async () => (await postSpan(col.ports.rot, 'rot-after', ['--cacert', certs.otherCa.crt])).status === 200,
      { what: 'the rotated certificate to be served' });
    console.log(`rotated certificate served after ${Date.now() - t0} ms`);
    const old = await postSpan(col.ports.rot, 'rot-old-ca', ['--cacert', certs.ca.crt]);
    assert.equal(old.code, 60, 'the old certificate is no longer served');
    assert.ok(col.running);
  });
});
