// The prometheus exporter's translation_strategy, namespace / const label sanitizing and
// TLS (mTLS) on its endpoint, scraped by a real Prometheus (Debian package `prometheus`,
// 2.42, or $PROMETHEUS_BIN). One outrigger with two prometheus exporters:
//   - prometheus/tls: https with a client certificate required (client_ca_file),
//     translation_strategy NoUTF8EscapingWithSuffixes, namespace "e2e-ns", a const label
//     named "another label" (upstream README's example). Prometheus 2.42 does not ask for
//     UTF-8 names (no `escaping=allow-utf-8` in its Accept), so the exporter must escape
//     them with underscores: e2e-ns_e2e.requests_total -> e2e_ns_e2e_requests_total;
//   - prometheus/plain: http, UnderscoreEscapingWithoutSuffixes (no _total, no unit).
// Prometheus scrapes three jobs: "tls" (scheme https, CA + client certificate), "plain",
// and "tls_noclient" (CA only: the handshake must fail, up == 0).
// Certificates are made by openssl at test time (tests/integration/lib/certs.mjs).
// Every wait polls a condition until a deadline; processes and temp dirs are removed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  HOST,
  Outrigger,
  collectorConfig,
  makeTempDir,
  postOtlpJson,
  removeTempDir,
  waitFor,
} from '../common/harness.mjs';
import { PrometheusServer } from '../common/prometheus.mjs';
import { makeCerts } from '../integration/lib/certs.mjs';

const attr = (key, value) => ({ key, value: { stringValue: value } });
const nanos = (ms) => (BigInt(ms) * 1000000n).toString();

function request(value, temp) {
  const now = Date.now();
  return {
    resourceMetrics: [
      {
        resource: { attributes: [attr('service.name', 'tls-svc')] },
        scopeMetrics: [
          {
            scope: { name: 'outrigger-translation-e2e' },
            metrics: [
              {
                name: 'e2e.requests',
                unit: '{request}',
                description: 'Requests served',
                sum: {
                  aggregationTemporality: 2,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      asInt: String(value),
                      startTimeUnixNano: nanos(now - 60000),
                      timeUnixNano: nanos(now),
                      attributes: [attr('http.method', 'GET')],
                    },
                  ],
                },
              },
              {
                name: 'e2e.temp',
                unit: 'Cel',
                gauge: { dataPoints: [{ asDouble: temp, timeUnixNano: nanos(now) }] },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('translation_strategy and TLS scraping, with a real Prometheus', () => {
  let dir;
  let outrigger;
  let prom;

  const diagnostics = () =>
    `\n--- outrigger ---\n${outrigger?.output.slice(-4000)}\n--- prometheus ---\n${prom?.output.slice(-4000)}`;
  const waitUntil = (probe, what, timeoutMs = 30000) =>
    waitFor(probe, { timeoutMs, intervalMs: 100, what }).catch((e) => {
      throw new Error(`${e.message}${diagnostics()}`);
    });
  const valueOf = async (q) => {
    const res = await prom.query(q);
    return res.length === 1 ? Number(res[0].value[1]) : undefined;
  };

  before(async () => {
    dir = await makeTempDir('outrigger-prom-tls-');
    const certs = makeCerts(dir);
    prom = await PrometheusServer.start({ dir, scrapeInterval: '1s', lifecycle: true });
    outrigger = await Outrigger.start({
      name: 'outrigger',
      dir,
      portNames: ['health', 'metrics', 'otlp', 'tls', 'plain'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          exporters: {
            'prometheus/tls': {
              endpoint: `${HOST}:${ports.tls}`,
              tls: { cert_file: certs.server.crt, key_file: certs.server.key, client_ca_file: certs.ca.crt },
              translation_strategy: 'NoUTF8EscapingWithSuffixes',
              namespace: 'e2e-ns',
              const_labels: { 'another label': 'spaced value' },
            },
            'prometheus/plain': {
              endpoint: `${HOST}:${ports.plain}`,
              translation_strategy: 'UnderscoreEscapingWithoutSuffixes',
            },
          },
          pipelines: { metrics: { receivers: ['otlp'], exporters: ['prometheus/tls', 'prometheus/plain'] } },
        }),
    });
    const tlsTarget = `${HOST}:${outrigger.ports.tls}`;
    await prom.reload({
      jobs: {
        tls: {
          target: tlsTarget,
          scheme: 'https',
          tls: { ca_file: certs.ca.crt, cert_file: certs.client.crt, key_file: certs.client.key },
        },
        tls_noclient: { target: tlsTarget, scheme: 'https', tls: { ca_file: certs.ca.crt } },
        plain: `${HOST}:${outrigger.ports.plain}`,
      },
      scrapeInterval: '1s',
    });
    await postOtlpJson(outrigger.ports.otlp, '/v1/metrics', request(42, 21.5));
    await waitUntil(async () => (await valueOf('e2e_ns_e2e_requests_total{job="tls"}')) === 42, 'the TLS scrape');
    await waitUntil(async () => (await valueOf('e2e_requests{job="plain"}')) === 42, 'the plain scrape');
  });

  after(async () => {
    if (outrigger) {
      await outrigger.stop().catch(() => {});
      await outrigger.kill();
    }
    if (prom) await prom.stop();
    if (dir) await removeTempDir(dir);
  });

  it('scrapes over mTLS, and refuses a scraper without a client certificate', async () => {
    assert.equal(await valueOf('up{job="tls"}'), 1);
    await waitUntil(async () => (await valueOf('up{job="tls_noclient"}')) === 0, 'the scrape without client cert to fail');
    const targets = await prom.api('/api/v1/targets');
    const noclient = targets.activeTargets.find((t) => t.labels.job === 'tls_noclient');
    assert.equal(noclient.health, 'down');
    assert.match(noclient.lastError, /tls|certificate|handshake|EOF|reset/i, noclient.lastError);
  });

  it('NoUTF8EscapingWithSuffixes: suffixes added, names escaped for a scraper that did not ask for UTF-8', async () => {
    const res = await prom.query('{job="tls",__name__=~"e2e.*"}');
    const names = res.map((s) => s.metric.__name__).sort();
    assert.deepEqual(names, ['e2e_ns_e2e_requests_total', 'e2e_ns_e2e_temp_celsius']);
    const counter = res.find((s) => s.metric.__name__ === 'e2e_ns_e2e_requests_total').metric;
    // "http.method" and the const label "another label", escaped; the namespace "e2e-ns" too.
    assert.equal(counter.http_method, 'GET');
    assert.equal(counter.another_label, 'spaced value');
    assert.equal(counter.exported_job, 'tls-svc');
    assert.equal(counter.otel_scope_name, 'outrigger-translation-e2e');
    const meta = await prom.api('/api/v1/metadata?metric=e2e_ns_e2e_requests_total');
    assert.deepEqual(
      meta.e2e_ns_e2e_requests_total?.map((m) => [m.type, m.help]),
      [['counter', 'Requests served']],
    );
  });

  it('UnderscoreEscapingWithoutSuffixes: no unit or _total suffix', async () => {
    assert.equal(await valueOf('e2e_temp{job="plain"}'), 21.5);
    assert.equal((await prom.query('{job="plain",__name__=~"e2e_requests_total|e2e_temp_celsius"}')).length, 0);
    // Still a counter: rate() works over a new value.
    await postOtlpJson(outrigger.ports.otlp, '/v1/metrics', request(50, 22));
    await waitUntil(async () => (await valueOf('e2e_requests{job="plain"}')) === 50, 'the second value');
    await waitUntil(async () => (await valueOf('e2e_ns_e2e_requests_total{job="tls"}')) === 50, 'the second value (TLS)');
    assert.ok((await valueOf('increase(e2e_requests{job="plain"}[1m])')) > 0);
  });
});
