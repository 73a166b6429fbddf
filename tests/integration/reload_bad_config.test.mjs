// SIGHUP with configurations that used to crash the collector (yaml-cpp exceptions and a
// segfault on an unknown connector type), sent while OTLP/HTTP traffic flows through a
// batch processor into the file exporter: each reload is refused with a message naming the
// problem, the collector keeps running on the old configuration, every request is answered
// 200, and every span reaches the file exactly once.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  Outrigger,
  collectorConfig,
  makeTempDir,
  readJsonLines,
  removeTempDir,
  toYaml,
  waitFor,
} from './lib/harness.mjs';
import { flattenSpans } from './lib/otlp_json.mjs';
import { postOtlpJson } from '../common/harness.mjs';

const NOW_NS = BigInt(Date.now()) * 1000000n;
const SPANS_PER_REQUEST = 10;

function request(worker, n) {
  const spans = [];
  for (let j = 0; j < SPANS_PER_REQUEST; j++) {
    const id = (1 + worker * 1000000 + n * SPANS_PER_REQUEST + j).toString(16); // never 0: an all-zero id is invalid
    spans.push({
      traceId: id.padStart(32, '0'),
      spanId: id.padStart(16, '0'),
      name: `w${worker}-r${n}-s${j}`,
      kind: 1,
      startTimeUnixNano: String(NOW_NS),
      endTimeUnixNano: String(NOW_NS + 1000n),
    });
  }
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'reload-test' } }] },
        scopeSpans: [{ scope: { name: 'reload' }, spans }],
      },
    ],
  };
}

// Each is the running config with one change that must be refused, and a word the
// refusal must contain.
function badConfigs(good) {
  const clone = () => JSON.parse(JSON.stringify(good));
  const out = [];
  {
    const c = clone();
    c.receivers.prometheus = {
      config: {
        scrape_configs: [
          { job_name: 'j', params: { module: [{ a: 1 }] }, static_configs: [{ targets: ['127.0.0.1:1'] }] },
        ],
      },
    };
    out.push({ what: 'a list of mappings in scrape params', text: toYaml(c), expect: 'params.module[0]' });
  }
  {
    const c = clone();
    c.connectors = { nosuchconnector: {} };
    c.service.pipelines.traces.exporters.push('nosuchconnector');
    c.service.pipelines.metrics = { receivers: ['nosuchconnector'], exporters: ['file'] };
    out.push({ what: 'an unknown connector type between pipelines', text: toYaml(c), expect: 'unknown connector type' });
  }
  {
    const c = clone();
    c.processors.batch.send_batch_size = '99999999999999999999999999';
    out.push({ what: 'a huge number', text: toYaml(c), expect: 'processors.batch.send_batch_size' });
  }
  out.push({ what: 'a list as a key', text: `${toYaml(clone())}\n? [a, b]\n: 1\n`, expect: 'a key must be a string' });
  out.push({ what: 'invalid YAML', text: `${toYaml(clone())}\nreceivers: [unclosed\n`, expect: 'invalid YAML' });
  {
    const c = clone();
    c.exporters.file.path = [{ nested: ['x'] }];
    out.push({ what: 'a list of mappings for a string', text: toYaml(c), expect: 'exporters.file.path' });
  }
  return out;
}

describe('SIGHUP with a config that used to crash, under load', () => {
  let dir;
  let outFile;
  let o;

  before(async () => {
    dir = await makeTempDir('outrigger-reload-');
    outFile = path.join(dir, 'spans.jsonl');
    o = await Outrigger.start({
      name: 'reload',
      dir,
      portNames: ['health', 'metrics', 'http'],
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${ports.http}` } } } },
          processors: { batch: { timeout: '50ms', send_batch_size: 64 } },
          exporters: { file: { path: outFile } },
          pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['file'] } },
        }),
    });
  });

  after(async () => {
    if (o) await o.kill();
    await removeTempDir(dir);
  });

  it('refuses each reload, keeps running, answers every request and loses no span', async () => {
    const good = collectorConfig(o.ports, {
      receivers: { otlp: { protocols: { http: { endpoint: `127.0.0.1:${o.ports.http}` } } } },
      processors: { batch: { timeout: '50ms', send_batch_size: 64 } },
      exporters: { file: { path: outFile } },
      pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['file'] } },
    });
    let stop = false;
    let sent = 0;
    const workers = [0, 1, 2, 3].map(async (w) => {
      for (let n = 0; !stop || n < 5; n++) {
        await postOtlpJson(o.ports.http, '/v1/traces', request(w, n), { retryPushback: true });
        sent += SPANS_PER_REQUEST;
      }
    });
    const refusedBefore = () => (o.output.match(/reload refused/g) || []).length;
    for (const bad of badConfigs(good)) {
      const before = refusedBefore();
      await fs.writeFile(o.configPath, bad.text);
      o.proc.kill('SIGHUP');
      await waitFor(() => refusedBefore() > before, { timeoutMs: 20000, what: `the refusal of ${bad.what}` });
      assert.ok(o.running, `outrigger died on ${bad.what}:\n${o.output}`);
      assert.ok(o.output.includes(bad.expect), `the refusal of ${bad.what} names "${bad.expect}":\n${o.output}`);
    }
    stop = true;
    await Promise.all(workers);
    assert.ok(o.running, o.output);
    assert.ok(sent >= 4 * 5 * SPANS_PER_REQUEST);
    const exit = await o.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, o.output);
    const spans = flattenSpans(await readJsonLines(outFile));
    const names = spans.map((s) => s.item.name);
    assert.equal(new Set(names).size, names.length, 'no span twice');
    assert.equal(names.length, sent, 'every span accepted reached the file');
  });
});
