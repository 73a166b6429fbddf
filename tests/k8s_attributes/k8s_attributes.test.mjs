// k8s_attributes against the real binary.
// - Sidecar mode: Downward API environment variables and a downwardAPI volume laid out
//   as the kubelet does (timestamped directory, `..data` symlink swapped by rename on
//   update) in a temp dir.
// - API mode: a fake Kubernetes API server (below: lists with metadata.resourceVersion,
//   chunked newline-delimited watches with bookmarks, 410 Gone as an ERROR event, 401
//   Status bodies for a wrong token, dropped watch connections) and OTLP/HTTP clients
//   bound to 127.0.0.2 / 127.0.0.3, associated with their Pods by their real source
//   address.
// Node's built-in modules only.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
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

let dir;
before(async () => {
  dir = await makeTempDir('outrigger-k8sattr-');
});
after(async () => {
  await removeTempDir(dir);
});

const K8S_ENV = [
  'K8S_POD_NAME',
  'K8S_NAMESPACE_NAME',
  'K8S_NODE_NAME',
  'K8S_POD_UID',
  'K8S_POD_IP',
  'K8S_SERVICE_ACCOUNT_NAME',
  'KUBERNETES_SERVICE_HOST',
  'KUBERNETES_SERVICE_PORT',
  'OUTRIGGER_K8S_SERVICEACCOUNT_DIR',
  'OUTRIGGER_K8S_TEST_PLAIN_HTTP',
];
function clearEnv() {
  for (const k of K8S_ENV) delete process.env[k];
}

/** One OTLP/JSON traces request with one span; POSTed from `localAddress`. */
function postSpan(port, name, localAddress = HOST) {
  const body = JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'app' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8aa5a2d2c872e8321cf37308d69df2',
                spanId: '051581bf3cb55c13',
                name,
                kind: 2,
                startTimeUnixNano: '1700000000000000000',
                endTimeUnixNano: '1700000000100000000',
              },
            ],
          },
        ],
      },
    ],
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: HOST,
        port,
        path: '/v1/traces',
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`POST: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** span name -> resource attributes (an object), from the file exporter's JSON lines. */
async function spansByName(file) {
  const out = {};
  for (const line of await readJsonLines(file, { partialOk: true })) {
    for (const rs of line.resourceSpans ?? []) {
      const attrs = Object.fromEntries((rs.resource?.attributes ?? []).map((a) => [a.key, a.value.stringValue]));
      for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) out[s.name] = attrs;
    }
  }
  return out;
}

function pipelineConfig(ports, processor, file) {
  return collectorConfig(ports, {
    receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
    processors: { k8s_attributes: processor },
    exporters: { file: { path: file } },
    pipelines: { traces: { receivers: ['otlp'], processors: ['k8s_attributes'], exporters: ['file'] } },
  });
}

/** What the kubelet's AtomicWriter does to a downwardAPI volume. */
async function kubeletWrite(volume, version, files) {
  const stamp = `..2026_12_07_03_00_00.${version}`;
  await fs.mkdir(path.join(volume, stamp), { recursive: true });
  for (const [name, text] of Object.entries(files)) await fs.writeFile(path.join(volume, stamp, name), text);
  let old = null;
  try {
    old = await fs.readlink(path.join(volume, '..data'));
  } catch {}
  await fs.symlink(stamp, path.join(volume, '..data_tmp'));
  await fs.rename(path.join(volume, '..data_tmp'), path.join(volume, '..data'));
  for (const name of Object.keys(files)) {
    try {
      await fs.symlink(path.join('..data', name), path.join(volume, name));
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
  }
  if (old) await fs.rm(path.join(volume, old), { recursive: true, force: true });
}

test('sidecar mode: Downward API env and files, kubelet-style update', async () => {
  const volume = path.join(dir, 'podinfo');
  await fs.mkdir(volume, { recursive: true });
  await kubeletWrite(volume, 1, {
    labels: 'app="checkout"\npod-template-hash="7d9f8b6c5d"\nteam="payments"\n',
    annotations: 'kubectl.kubernetes.io/default-container="app"\n',
  });
  clearEnv();
  Object.assign(process.env, {
    K8S_POD_NAME: 'checkout-7d9f8b6c5d-x2x4z',
    K8S_NAMESPACE_NAME: 'shop',
    K8S_NODE_NAME: 'node-3',
    K8S_POD_UID: '6f1c7a52-0d7e-4c1e-9d0a-2b1e0c9f4a11',
    K8S_POD_IP: '10.244.1.17',
  });
  const file = path.join(dir, 'sidecar.jsonl');
  const o = await Outrigger.start({
    name: 'sidecar',
    dir,
    portNames: ['health', 'metrics', 'otlp'],
    makeConfig: (ports) =>
      pipelineConfig(
        ports,
        {
          extract: { labels: [{ tag_name: 'team', key: 'team' }] },
          sidecar: {
            labels_file: path.join(volume, 'labels'),
            annotations_file: path.join(volume, 'annotations'),
            refresh_interval: '0s',
          },
        },
        file,
      ),
  });
  clearEnv();
  try {
    await postSpan(o.ports.otlp, 'before');
    const got = await waitFor(async () => (await spansByName(file)).before, { what: 'span "before"' });
    assert.deepEqual(got, {
      'service.name': 'app',
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'checkout-7d9f8b6c5d-x2x4z',
      'k8s.pod.uid': '6f1c7a52-0d7e-4c1e-9d0a-2b1e0c9f4a11',
      'k8s.node.name': 'node-3',
      'k8s.deployment.name': 'checkout',
      'k8s.container.name': 'app',
      team: 'payments',
    });
    await kubeletWrite(volume, 2, {
      labels: 'app="checkout"\npod-template-hash="7d9f8b6c5d"\nteam="risk"\n',
      annotations: 'kubectl.kubernetes.io/default-container="app"\n',
    });
    await postSpan(o.ports.otlp, 'after');
    const later = await waitFor(async () => (await spansByName(file)).after, { what: 'span "after"' });
    assert.equal(later.team, 'risk');
    const m = await o.metrics();
    assert.equal(metricValue(m, 'outrigger_k8s_attributes_sidecar_reloads_total'), 2);
  } finally {
    await o.stop();
  }
});

function pod(name, ip, labels = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      labels,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-7d9f8b6c5d`, uid: `uid-rs-${name}`, controller: true }],
    },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: `example/${name}:1.0` }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], startTime: '2026-12-07T03:00:00Z' },
  };
}

function replicaSet(name, deployment) {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: `uid-${deployment}`, controller: true }],
    },
  };
}

test('API mode: association by the OTLP client source address, watch, 410, dropped connections, 401', async () => {
  const api = new FakeApi('sa-token');
  await api.listen();
  api.put('/api/v1/pods', pod('cart', '127.0.0.2', { tier: 'web' }));
  api.put('/api/v1/pods', pod('payments', '127.0.0.3', { tier: 'backend' }));
  api.put('/apis/apps/v1/replicasets', replicaSet('cart-7d9f8b6c5d', 'cart'));
  api.put('/apis/apps/v1/replicasets', replicaSet('payments-7d9f8b6c5d', 'payments'));
  const sa = path.join(dir, 'serviceaccount');
  await fs.mkdir(sa, { recursive: true });
  await fs.writeFile(path.join(sa, 'token'), 'wrong-token\n');
  clearEnv();
  Object.assign(process.env, {
    KUBERNETES_SERVICE_HOST: HOST,
    KUBERNETES_SERVICE_PORT: String(api.port),
    OUTRIGGER_K8S_SERVICEACCOUNT_DIR: sa,
    OUTRIGGER_K8S_TEST_PLAIN_HTTP: '1',
  });
  const file = path.join(dir, 'api.jsonl');
  const o = await Outrigger.start({
    name: 'gateway',
    dir,
    portNames: ['health', 'metrics', 'otlp'],
    makeConfig: (ports) =>
      pipelineConfig(ports, { mode: 'api', extract: { labels: [{ key: 'tier' }] } }, file),
  });
  clearEnv();
  try {
    // A wrong token: 401, counted, nothing found; then the token "rotates".
    await waitFor(async () => metricValue(await o.metrics(), 'outrigger_k8s_attributes_api_errors_total', { resource: 'pods' }) >= 1,
      { what: 'a 401 counted' });
    await fs.writeFile(path.join(sa, 'token'), 'sa-token\n');
    await waitFor(() => api.watches.size >= 2, { what: 'pods and replicasets watched', timeoutMs: 60000 });

    await postSpan(o.ports.otlp, 'from-cart', '127.0.0.2');
    await postSpan(o.ports.otlp, 'from-payments', '127.0.0.3');
    const spans = await waitFor(async () => {
      const s = await spansByName(file);
      return s['from-cart'] && s['from-payments'] ? s : null;
    }, { what: 'both spans' });
    assert.equal(spans['from-cart']['k8s.pod.name'], 'cart');
    assert.equal(spans['from-cart']['k8s.deployment.name'], 'cart');
    assert.equal(spans['from-cart']['k8s.namespace.name'], 'shop');
    assert.equal(spans['from-cart']['k8s.pod.labels.tier'], 'web');
    assert.equal(spans['from-payments']['k8s.pod.name'], 'payments');
    assert.equal(spans['from-payments']['k8s.deployment.name'], 'payments');

    // A label changed: the watch delivers it.
    api.put('/api/v1/pods', pod('cart', '127.0.0.2', { tier: 'edge' }));
    await waitFor(async () => {
      await postSpan(o.ports.otlp, 'after-modify', '127.0.0.2');
      return (await spansByName(file))['after-modify']?.['k8s.pod.labels.tier'] === 'edge';
    }, { what: 'the modified label' });

    // A bookmark, then the watch ends: it resumes from the bookmark's version.
    api.put('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other', uid: 'uid-ns' } });
    api.bookmark('/api/v1/pods');
    const bookmarkRv = api.rv;
    await waitFor(() => api.watches.size >= 2, { what: 'watches open' });
    api.endWatches();
    await waitFor(() => api.requests.some((r) => r.startsWith('/api/v1/pods?') && r.includes('watch=1') && r.includes(`resourceVersion=${bookmarkRv}`)),
      { what: `a watch resumed at the bookmark's version ${bookmarkRv}` });

    // History compacted while disconnected: 410 Gone, then a new list.
    const listsBefore = api.requests.filter((r) => r.startsWith('/api/v1/pods?') && !r.includes('watch=1')).length;
    api.compact();
    api.dropWatches();
    await waitFor(() => api.requests.filter((r) => r.startsWith('/api/v1/pods?') && !r.includes('watch=1')).length > listsBefore,
      { what: 'a relist after 410' });
    api.remove('/api/v1/pods', 'uid-payments');
    api.put('/api/v1/pods', pod('payments-v2', '127.0.0.3', { tier: 'backend' }));
    await waitFor(async () => {
      await postSpan(o.ports.otlp, 'reused-ip', '127.0.0.3');
      return (await spansByName(file))['reused-ip']?.['k8s.pod.name'] === 'payments-v2';
    }, { what: 'the reused IP to name the new Pod' });

    const m = await o.metrics();
    assert.ok(metricValue(m, 'outrigger_k8s_attributes_lookups_total', { result: 'hit' }) >= 4);
  } finally {
    await o.stop();
    await api.close();
  }
});

// The memory a gateway holds per Pod: one outrigger watching an empty cluster, one
// watching 10,000 Pods (the shape above, three labels each); the difference of their
// resident memory once synced, per Pod. Printed (a figure for the README), not asserted:
// it includes what the allocator keeps of the list pages parsed.
test('API mode: resident memory per Pod (10,000 Pods)', async () => {
  const sa = path.join(dir, 'sa-mem');
  await fs.mkdir(sa, { recursive: true });
  await fs.writeFile(path.join(sa, 'token'), 'sa-token\n');
  const rss = {};
  for (const n of [0, 10000]) {
    const api = new FakeApi('sa-token');
    await api.listen();
    for (let i = 0; i < n; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      api.put('/api/v1/pods', pod(`checkout-7d9f8b6c5d-${i}`, ip, { app: 'checkout', 'pod-template-hash': '7d9f8b6c5d', tier: 'web' }));
    }
    clearEnv();
    Object.assign(process.env, {
      KUBERNETES_SERVICE_HOST: HOST,
      KUBERNETES_SERVICE_PORT: String(api.port),
      OUTRIGGER_K8S_SERVICEACCOUNT_DIR: sa,
      OUTRIGGER_K8S_TEST_PLAIN_HTTP: '1',
    });
    const o = await Outrigger.start({
      name: `memory-${n}`,
      dir,
      portNames: ['health', 'metrics', 'otlp'],
      readyTimeoutMs: 60000,
      makeConfig: (ports) =>
        pipelineConfig(ports, { mode: 'api', wait_for_metadata: true, wait_for_metadata_timeout: '60s' },
                       path.join(dir, `mem-${n}.jsonl`)),
    });
    clearEnv();
    try {
      const m = await waitFor(async () => {
        const s = await o.metrics();
        return (metricValue(s, 'outrigger_k8s_attributes_pods') ?? 0) === n ? s : null;
      }, { what: `${n} Pods held`, timeoutMs: 60000 });
      rss[n] = metricValue(m, 'outrigger_process_resident_memory_bytes');
      assert.ok(rss[n] > 0);
    } finally {
      await o.stop();
      await api.close();
    }
  }
  const perPod = (rss[10000] - rss[0]) / 10000;
  console.log(`[ memory ] RSS with 0 Pods: ${rss[0]} B, with 10,000 Pods: ${rss[10000]} B: ${Math.round(perPod)} B per Pod`);
});
