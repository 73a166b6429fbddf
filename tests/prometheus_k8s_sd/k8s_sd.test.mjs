// kubernetes_sd_configs (role: pod) against the real binary. The fake API server
// (../common/k8s_api.mjs) lists and watches the Pods of namespace "shop"; each Pod's IP is
// 127.0.0.1 and its container port that of a local HTTP server of this test, so the
// discovered targets are really scraped. The job has Prometheus's usual annotation-based
// relabel_configs (keep prometheus.io/scrape = "true", port and path from annotations, Pod
// labels mapped). Checked: the annotated Pod is scraped with its labels, the other is not;
// a Pod ADDED by the watch is scraped; MODIFIED (annotation off) and DELETED end their
// targets (staleness markers, no more requests); a malformed watch line and a broken list
// are counted and the discovery goes on. A second job (role: endpoints) joins a Service's
// Endpoints with the Service: scraped with its labels, dropped when the Service goes.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  HOST,
  Outrigger,
  collectorConfig,
  makeTempDir,
  metricValue,
  readJsonLines,
  removeTempDir,
  waitFor,
} from '../common/harness.mjs';
import { FakeApi } from '../common/k8s_api.mjs';

const NO_RECORDED_VALUE = 1;
const PODS = '/api/v1/namespaces/shop/pods';
const ENDPOINTS = '/api/v1/namespaces/shop/endpoints';
const SERVICES = '/api/v1/namespaces/shop/services';

/** A target: GET /metrics (or `metricsPath`) answers `app_requests_total{} <hits>`. */
async function target(metricsPath = '/metrics') {
  const t = { hits: 0 };
  t.server = http.createServer((req, res) => {
    if (req.url !== metricsPath) {
      res.writeHead(404);
      return res.end();
    }
    t.hits++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(`# TYPE app_requests_total counter\napp_requests_total ${t.hits}\n`);
  });
  await new Promise((r) => t.server.listen(0, HOST, r));
  t.port = t.server.address().port;
  return t;
}

function pod(name, port, { scrape = true, path: metricsPath, labels = {} } = {}) {
  const annotations = { 'prometheus.io/port': String(port) };
  if (scrape) annotations['prometheus.io/scrape'] = 'true';
  if (metricsPath) annotations['prometheus.io/path'] = metricsPath;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels, annotations },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'app:1', ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: HOST, hostIP: HOST, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** Every data point of the file exporter's output, flattened. */
async function points(file) {
  const out = [];
  for (const req of await readJsonLines(file, { partialOk: true })) {
    for (const rm of req.resourceMetrics ?? []) {
      const res = Object.fromEntries((rm.resource?.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const body = m.gauge ?? m.sum ?? {};
          for (const p of body.dataPoints ?? []) {
            const attrs = Object.fromEntries((p.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
            out.push({
              name: m.name,
              job: res['service.name'],
              instance: res['service.instance.id'],
              attrs,
              value: p.asDouble ?? p.asInt,
              stale: ((p.flags ?? 0) & NO_RECORDED_VALUE) !== 0,
            });
          }
        }
      }
    }
  }
  return out;
}

let dir;
let api;
let web;
let quiet;
let later;
let backend;
let outrigger;
let outFile;

before(async () => {
  dir = await makeTempDir('outrigger-k8ssd-');
  outFile = path.join(dir, 'metrics.jsonl');
  api = new FakeApi('sa-token');
  await api.listen();
  web = await target('/custom/metrics');
  quiet = await target();
  later = await target();
  backend = await target();
  // role: endpoints: a Service "api" (annotated) whose Endpoints address is a local target.
  api.put(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop', uid: 'uid-svc-api', labels: { tier: 'backend' }, annotations: { 'prometheus.io/scrape': 'true' } }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.9', ports: [{ name: 'http', port: backend.port }] } });
  api.put(ENDPOINTS, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'api', namespace: 'shop', uid: 'uid-eps-api' }, subsets: [{ addresses: [{ ip: HOST, nodeName: 'node-1' }], ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }] }] });
  api.put(PODS, pod('web', web.port, { path: '/custom/metrics', labels: { app: 'web', 'app.kubernetes.io/part-of': 'shop' } }));
  api.put(PODS, pod('quiet', quiet.port, { scrape: false }));
  // Another namespace, not watched.
  api.put('/api/v1/namespaces/other/pods', { ...pod('elsewhere', quiet.port), metadata: { ...pod('elsewhere', quiet.port).metadata, namespace: 'other' } });
  outrigger = await Outrigger.start({
    name: 'outrigger',
    dir,
    portNames: ['health', 'metrics'],
    makeConfig: (ports) =>
      collectorConfig(ports, {
        receivers: {
          prometheus: {
            config: {
              global: { scrape_interval: '1s', scrape_timeout: '900ms' },
              scrape_configs: [
                {
                  job_name: 'kubernetes-pods',
                  kubernetes_sd_configs: [
                    {
                      role: 'pod',
                      api_server: `http://${HOST}:${api.port}`,
                      authorization: { credentials: 'sa-token' },
                      namespaces: { names: ['shop'] },
                    },
                  ],
                  relabel_configs: [
                    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
                    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], action: 'replace', target_label: '__metrics_path__', regex: '(.+)' },
                    {
                      source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'],
                      action: 'replace',
                      regex: '([^:]+)(?::\\d+)?;(\\d+)',
                      replacement: '$$1:$$2',
                      target_label: '__address__',
                    },
                    { action: 'labelmap', regex: '__meta_kubernetes_pod_label_(.+)' },
                    { source_labels: ['__meta_kubernetes_namespace'], action: 'replace', target_label: 'namespace' },
                    { source_labels: ['__meta_kubernetes_pod_name'], action: 'replace', target_label: 'pod' },
                  ],
                },
                {
                  job_name: 'kubernetes-service-endpoints',
                  kubernetes_sd_configs: [
                    { role: 'endpoints', api_server: `http://${HOST}:${api.port}`, bearer_token: 'sa-token', namespaces: { names: ['shop'] } },
                  ],
                  relabel_configs: [
                    { source_labels: ['__meta_kubernetes_service_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
                    { action: 'labelmap', regex: '__meta_kubernetes_service_label_(.+)' },
                    { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
                  ],
                },
              ],
            },
          },
        },
        exporters: { file: { path: outFile } },
        pipelines: { metrics: { receivers: ['prometheus'], exporters: ['file'] } },
      }),
  });
});

after(async () => {
  await outrigger?.kill();
  for (const t of [web, quiet, later, backend]) if (t) await new Promise((r) => t.server.close(r));
  await api?.close();
  if (dir) await removeTempDir(dir);
});

const up = (pts, instance, value) => pts.some((p) => p.name === 'up' && p.instance === instance && p.value === value);

test('the annotated Pod is discovered and scraped with its labels; the other is not', async () => {
  await waitFor(async () => up(await points(outFile), `${HOST}:${web.port}`, 1), {
    timeoutMs: 30000,
    what: 'up = 1 for the web Pod',
  }).catch((e) => {
    throw new Error(`${e.message}\n--- outrigger ---\n${outrigger.output.slice(-4000)}`);
  });
  const pts = await points(outFile);
  const p = pts.find((x) => x.name === 'app_requests_total' && x.instance === `${HOST}:${web.port}`);
  assert.ok(p, 'app_requests_total of the web Pod');
  assert.equal(p.job, 'kubernetes-pods');
  assert.equal(p.attrs.pod, 'web');
  assert.equal(p.attrs.namespace, 'shop');
  assert.equal(p.attrs.app, 'web');
  assert.equal(p.attrs.app_kubernetes_io_part_of, 'shop');
  assert.ok(web.hits >= 1);
  assert.equal(quiet.hits, 0, 'the Pod without prometheus.io/scrape is dropped by the keep rule (and "other" is not watched)');
  assert.ok(api.requests.some((r) => r.startsWith(`${PODS}?`) && r.includes('watch=1')), 'the namespace is watched');
  assert.ok(!api.requests.some((r) => r.startsWith('/api/v1/pods')), 'not every namespace');
});

test('a Pod added by the watch is scraped; MODIFIED to unannotated and DELETED end the targets', async () => {
  api.put(PODS, pod('later', later.port, { labels: { app: 'later' } }));
  await waitFor(async () => up(await points(outFile), `${HOST}:${later.port}`, 1), { timeoutMs: 20000, what: 'the added Pod scraped' });
  // MODIFIED: the annotation is removed, relabeling now drops the target.
  api.put(PODS, pod('later', later.port, { scrape: false, labels: { app: 'later' } }));
  await waitFor(
    async () => (await points(outFile)).some((p) => p.instance === `${HOST}:${later.port}` && p.name === 'app_requests_total' && p.stale),
    { timeoutMs: 20000, what: 'staleness markers of the unannotated Pod' },
  );
  // DELETED: the web Pod's target ends.
  api.remove(PODS, 'uid-web');
  await waitFor(
    async () => (await points(outFile)).some((p) => p.instance === `${HOST}:${web.port}` && p.name === 'app_requests_total' && p.stale),
    { timeoutMs: 20000, what: 'staleness markers of the deleted Pod' },
  );
  await waitFor(() => /target http:\/\/127\.0\.0\.1:\d+\/custom\/metrics is gone/.test(outrigger.output), { what: 'the log says the target is gone' });
  const webHits = web.hits;
  const laterHits = later.hits;
  // A new Pod goes through a full discovery and scrape after the removals: by then neither
  // removed target was scraped again.
  const again = pod('again', quiet.port, { labels: { app: 'again' } });
  api.put(PODS, again);
  await waitFor(async () => up(await points(outFile), `${HOST}:${quiet.port}`, 1), { timeoutMs: 20000, what: 'the new Pod scraped' });
  assert.equal(web.hits, webHits, 'the deleted Pod is not scraped any more');
  assert.equal(later.hits, laterHits, 'the unannotated Pod is not scraped any more');
});

test('hostile answers (a malformed watch line, a list that is no JSON) are counted; discovery goes on', async () => {
  const errors = async (reason) =>
    metricValue(await outrigger.metrics(), 'outrigger_receiver_prometheus_kubernetes_sd_errors_total', {
      receiver: 'prometheus',
      reason,
    }) ?? 0;
  await waitFor(() => api.watches.size >= 1, { what: 'a watch open' });
  const before = await errors('request');
  api.sendRaw(PODS, '{"type":"ADDED","object":');
  await waitFor(async () => (await errors('request')) > before, { what: 'the malformed watch line counted' });
  // The watch is made again, then dropped with the history gone: a relist, answered
  // with a body that is no JSON (counted), then a good one.
  await waitFor(() => api.watches.size >= 1, { timeoutMs: 20000, what: 'the watch made again' });
  const counted = await errors('request');
  api.brokenLists = 1;
  api.compact();
  api.dropWatches();
  await waitFor(async () => (await errors('request')) > counted, { timeoutMs: 20000, what: 'the broken list counted' });
  const hits = web.hits;
  api.put(PODS, pod('web', web.port, { path: '/custom/metrics', labels: { app: 'web' } }));
  await waitFor(async () => web.hits > hits, {
    timeoutMs: 30000,
    what: 'the web Pod discovered again after the relist',
  });
  assert.ok(outrigger.running, 'still running');
});

test("role endpoints: the Service's Endpoints are scraped with the Service's labels; deleting the Service drops them", async () => {
  const instance = `${HOST}:${backend.port}`;
  await waitFor(async () => up(await points(outFile), instance, 1), { timeoutMs: 20000, what: 'the Endpoints address scraped' });
  const p = (await points(outFile)).find((x) => x.name === 'app_requests_total' && x.instance === instance);
  assert.equal(p.job, 'kubernetes-service-endpoints');
  assert.equal(p.attrs.service, 'api');
  assert.equal(p.attrs.tier, 'backend');
  // Without the Service, the keep rule (on its annotation) drops the target.
  api.remove(SERVICES, 'uid-svc-api');
  await waitFor(
    async () => (await points(outFile)).some((x) => x.instance === instance && x.name === 'app_requests_total' && x.stale),
    { timeoutMs: 20000, what: 'staleness markers once the Service is gone' },
  );
});
