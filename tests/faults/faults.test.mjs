// Fault scenarios against the real binary, without a persistent queue (issue 14, "Lose
// nothing"). Each one prints items sent (accepted by outrigger: answered 200, or read by
// filelog), received (distinct items at the backend double), lost, and counted as dropped
// (what outrigger's own logs and counters say it dropped), and asserts lost == counted:
// every loss is counted, item by item. Where the collector could deliver within the
// deadline, it asserts no loss at all.
//
// Backends: es_double.mjs (tests/elasticsearch: _bulk with per-item 429, 503, a 200 whose
// body is not JSON, slow answers) and otlp_double.mjs (an OTLP/HTTP backend that can be
// down, then up again, or slow).
//
// FAULTS_DOWN_SECONDS (default 20) is how long the backend is down in "backend down then
// back"; bench/faults/backend_down_2min.sh runs it with 120 (the issue's 2 minutes).
// OUTRIGGER_BIN selects the binary (a build from before a fix prints its figures, then
// fails the assertions).
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
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
  parsePrometheus,
  removeTempDir,
  sleep,
  waitFor,
} from '../common/harness.mjs';
import { EsDouble } from '../elasticsearch/es_double.mjs';
import { OtlpDouble } from './otlp_double.mjs';

const DOWN_SECONDS = Number(process.env.FAULTS_DOWN_SECONDS ?? 20);

// ---- the client: OTLP/JSON logs with a distinct body per record ------------------------

class LogClient {
  constructor(port, prefix) {
    this.url = `http://${HOST}:${port}/v1/logs`;
    this.prefix = prefix;
    this.seq = 0;
    this.accepted = []; // bodies answered 200
    this.offered = 0;
    this.answers = new Map(); // status (or 'error') -> count
    this.latencies = []; // ms per request
  }

  /** One request of `n` new records; with `retry`, a 429/503 is sent again after Retry-After. */
  async post(n, { retry = false, timeoutMs = 15000 } = {}) {
    const bodies = [];
    for (let i = 0; i < n; i++) bodies.push(`${this.prefix}-${this.seq++}`);
    this.offered += n;
    const now = BigInt(Date.now()) * 1000000n;
    const request = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'faults' } }] },
          scopeLogs: [{ scope: { name: 'faults' }, logRecords: bodies.map((b) => ({ timeUnixNano: String(now), body: { stringValue: b } })) }],
        },
      ],
    };
    const payload = Buffer.from(JSON.stringify(request));
    for (let attempt = 0; ; attempt++) {
      const t0 = performance.now();
      let status;
      let retryAfter = 1;
      try {
        const r = await httpRequest(this.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: payload,
          timeoutMs,
        });
        status = r.status;
        retryAfter = Number(r.headers['retry-after'] ?? 1);
      } catch {
        status = 'error';
      }
      this.latencies.push(performance.now() - t0);
      this.answers.set(status, (this.answers.get(status) ?? 0) + 1);
      if (status === 200) {
        this.accepted.push(...bodies);
        return true;
      }
      if (!retry || (status !== 429 && status !== 503) || attempt >= 100) return false;
      await sleep(Math.min(500, 1000 * retryAfter));
    }
  }

  /** `workers` loops posting requests of `n` records (`pauseMs` apart) until `stop()` returns true. */
  async load({ workers, n, stop, retry = false, timeoutMs = 15000, pauseMs = 0 }) {
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (!stop()) {
          await this.post(n, { retry, timeoutMs });
          if (pauseMs > 0) await sleep(pauseMs);
        }
      }),
    );
  }
}

function percentile(values, p) {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Items outrigger says it dropped: its drop log lines (they outlive the process). */
function droppedInLogs(output, noun = 'log_records') {
  let n = 0;
  const patterns = [
    new RegExp(`dropping (\\d+) ${noun}`, 'g'), // exporter helper: given up, or left at the deadline
    new RegExp(`dropped (\\d+) ${noun} at shutdown`, 'g'), // batch processor
    new RegExp(`dropped a batch of (\\d+) ${noun}`, 'g'),
  ];
  for (const re of patterns) for (const m of output.matchAll(re)) n += Number(m[1]);
  return n;
}

function report(name, figures) {
  const line = Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(1) : v}`)
    .join(' ');
  console.log(`# ${name}: ${line}`);
}

async function timeMetrics(o) {
  const t0 = performance.now();
  const r = await httpRequest(`http://${HOST}:${o.ports.metrics}/metrics`, { timeoutMs: 60000 }).catch(() => null);
  return { ms: performance.now() - t0, ok: r?.status === 200, text: r?.text ?? '' };
}

/** SIGTERM and the time to exit; a process still running after `timeoutMs` is killed (exit.code null). */
async function stopTimed(o, timeoutMs = 60000) {
  const t0 = performance.now();
  const exit = await o.stop('SIGTERM', timeoutMs).catch(async () => {
    await o.kill();
    return { code: null, signal: 'SIGKILL' };
  });
  return { exit, ms: performance.now() - t0 };
}

function withShutdownTimeout(cfg, timeout) {
  cfg.service.shutdown_timeout = timeout;
  return cfg;
}

// ---- the scenarios ---------------------------------------------------------------------

describe('fault scenarios without a persistent queue', { concurrency: false }, () => {
  let dir;
  const cleanup = [];

  before(async () => {
    dir = await makeTempDir('outrigger-faults-');
  });

  after(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
    if (dir) await removeTempDir(dir);
  });

  async function start(name, makeConfig) {
    const o = await Outrigger.start({ name, dir, portNames: ['health', 'metrics', 'otlp'], makeConfig });
    cleanup.push(() => o.kill());
    return o;
  }

  it('filelog → batch → elasticsearch, 10% of items 429 and one 503, SIGTERM: the last retries fit before the deadline', async () => {
    // The new-user setup, with the exporter's defaults (flush.interval 30 s: the
    // data waits in the queue until SIGTERM flushes it).
    const es = await EsDouble.start();
    cleanup.push(() => es.close());
    es.configure({ throttleEvery: 10, failNext: [{ status: 503, retryAfter: 1 }] });
    const LINES = 2000;
    const logFile = path.join(dir, 'app.log');
    let text = '';
    for (let i = 0; i < LINES; i++) text += `line-${i}\n`;
    await fs.writeFile(logFile, text);
    const o = await start('es-shutdown', (ports) =>
      collectorConfig(ports, {
        receivers: { filelog: { include: [logFile], start_at: 'beginning', poll_interval: '50ms' } },
        processors: { batch: {} },
        exporters: { elasticsearch: { endpoint: es.url } },
        pipelines: { logs: { receivers: ['filelog'], processors: ['batch'], exporters: ['elasticsearch'] } },
      }),
    );
    await waitFor(
      async () =>
        metricValue(await o.metrics(), 'outrigger_receiver_accepted_log_records_total', { receiver: 'filelog' }) === LINES,
      { timeoutMs: 30000, what: 'filelog to read every line' },
    );
    // Through the batch processor (200 ms) into the exporter, whose queue waits for more
    // (flush.interval 30 s).
    await waitFor(async () => metricValue(await o.metrics(), 'outrigger_processor_batch_send_size_sum') === LINES, {
      timeoutMs: 10000,
      what: 'the batch processor to hand every line to the exporter',
    });
    const { exit, ms } = await stopTimed(o);
    const bodies = new Set(es.stored().map((d) => d._source.body?.text));
    let received = 0;
    for (let i = 0; i < LINES; i++) if (bodies.has(`line-${i}`)) received++;
    const lost = LINES - received;
    const counted = droppedInLogs(o.output);
    report('es_shutdown_2000', { sent: LINES, received, lost, counted_dropped: counted, shutdown_ms: ms, requests: es.requests.length });
    assert.equal(exit.code, 0, o.output);
    assert.equal(lost, counted, `every loss counted, item by item\n${o.output}`);
    assert.equal(lost, 0, `the last retry fits before the 25 s deadline\n${o.output}`);
  });

  it('a 429 storm during shutdown: what is not delivered by the deadline is counted, item by item', async () => {
    const es = await EsDouble.start();
    cleanup.push(() => es.close());
    const o = await start('es-storm', (ports) =>
      withShutdownTimeout(
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          exporters: {
            elasticsearch: {
              endpoint: es.url,
              flush: { interval: '100ms' },
              retry_on_failure: { initial_interval: '100ms', max_interval: '1s' },
            },
          },
          pipelines: { logs: { receivers: ['otlp'], exporters: ['elasticsearch'] } },
        }),
        '4s',
      ),
    );
    const client = new LogClient(o.ports.otlp, 'storm');
    for (let i = 0; i < 10; i++) await client.post(50);
    await waitFor(() => es.stored().length >= 500, { timeoutMs: 20000, what: 'the first 500 records indexed' });
    // Now Elasticsearch answers every _bulk with 429 (Retry-After: 1), and then SIGTERM.
    es.configure({ failAll: { status: 429, retryAfter: 1 } });
    for (let i = 0; i < 10; i++) await client.post(50);
    await waitFor(() => es.requests.some((r) => r.status === 429), { what: 'the storm to begin' });
    const { exit, ms } = await stopTimed(o);
    const got = new Set(es.stored().map((d) => d._source.body?.text));
    const received = client.accepted.filter((b) => got.has(b)).length;
    const lost = client.accepted.length - received;
    const counted = droppedInLogs(o.output);
    report('es_429_storm_shutdown', { sent: client.accepted.length, received, lost, counted_dropped: counted, shutdown_ms: ms });
    assert.equal(exit.code, 0, o.output);
    assert.equal(lost, 500, 'what was accepted during the storm was not delivered');
    assert.equal(lost, counted, `every loss counted, item by item\n${o.output}`);
  });

  it(`the backend down for ${DOWN_SECONDS} s, then back: nothing is lost`, async () => {
    const backend = await OtlpDouble.start();
    cleanup.push(() => backend.close());
    const o = await start('down-up', (ports) =>
      collectorConfig(ports, {
        receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
        exporters: {
          otlphttp: {
            endpoint: backend.url,
            encoding: 'json',
            retry_on_failure: { initial_interval: '500ms', max_interval: '5s' },
          },
        },
        pipelines: { logs: { receivers: ['otlp'], exporters: ['otlphttp'] } },
      }),
    );
    const client = new LogClient(o.ports.otlp, 'down');
    let stopAt = Infinity;
    const sending = client.load({ workers: 2, n: 20, retry: true, pauseMs: 50, stop: () => Date.now() >= stopAt });
    await sleep(1000);
    await backend.down();
    const downAt = Date.now();
    await sleep(DOWN_SECONDS * 1000);
    await backend.up();
    const downFor = Date.now() - downAt;
    stopAt = Date.now() + 1000;
    await sending;
    await waitFor(() => backend.countOf(client.accepted) === client.accepted.length, {
      timeoutMs: 60000,
      what: 'every accepted record at the backend',
    }).catch(() => {});
    const m = await o.metrics();
    const counted = metricValue(m, 'outrigger_exporter_dropped_log_records_total', { exporter: 'otlphttp' }) ?? 0;
    const received = backend.countOf(client.accepted);
    const lost = client.accepted.length - received;
    const { exit } = await stopTimed(o);
    report('backend_down_then_up', {
      down_s: downFor / 1000,
      sent: client.accepted.length,
      received,
      lost,
      counted_dropped: counted,
      refused_answers: (client.answers.get(429) ?? 0) + (client.answers.get(503) ?? 0),
    });
    assert.equal(exit.code, 0);
    assert.equal(lost, counted);
    assert.equal(lost, 0, 'the queue (32768 items) held everything while the backend was down');
  });

  it('a slow backend: backpressure reaches the receiver, /metrics keeps answering, nothing is lost', async () => {
    const backend = await OtlpDouble.start();
    cleanup.push(() => backend.close());
    backend.delayMs = 300;
    const o = await start('slow', (ports) =>
      collectorConfig(ports, {
        receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
        exporters: {
          otlphttp: {
            endpoint: backend.url,
            encoding: 'json',
            timeout: '2s',
            sending_queue: { num_consumers: 1, queue_size: 500 },
          },
        },
        pipelines: { logs: { receivers: ['otlp'], exporters: ['otlphttp'] } },
      }),
    );
    const client = new LogClient(o.ports.otlp, 'slow');
    const endAt = Date.now() + 8000;
    const metricsMs = [];
    const probing = (async () => {
      while (Date.now() < endAt) {
        const r = await timeMetrics(o);
        assert.ok(r.ok, '/metrics answers while the backend is slow');
        metricsMs.push(r.ms);
        await sleep(250);
      }
    })();
    await client.load({ workers: 8, n: 50, retry: false, stop: () => Date.now() >= endAt });
    await probing;
    await waitFor(() => backend.countOf(client.accepted) === client.accepted.length, {
      timeoutMs: 60000,
      what: 'every accepted record at the backend',
    }).catch(() => {});
    const m = await o.metrics();
    const counted = metricValue(m, 'outrigger_exporter_dropped_log_records_total', { exporter: 'otlphttp' }) ?? 0;
    const received = backend.countOf(client.accepted);
    const lost = client.accepted.length - received;
    const refused = (client.answers.get(429) ?? 0) + (client.answers.get(503) ?? 0);
    await stopTimed(o);
    report('slow_backend', {
      offered: client.offered,
      sent: client.accepted.length,
      received,
      lost,
      counted_dropped: counted,
      refused_answers: refused,
      otlp_p50_ms: percentile(client.latencies, 50),
      otlp_max_ms: percentile(client.latencies, 100),
      metrics_max_ms: percentile(metricsMs, 100),
    });
    assert.ok(refused > 0, 'the receiver answered with backpressure (429/503)');
    assert.equal(client.answers.get('error') ?? 0, 0, 'every request was answered');
    assert.equal(lost, counted);
    assert.equal(lost, 0);
  });

  it('SIGTERM under full load: what was accepted is delivered (or counted)', async () => {
    const backend = await OtlpDouble.start();
    cleanup.push(() => backend.close());
    const o = await start('load', (ports) =>
      withShutdownTimeout(
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          processors: { batch: {} },
          exporters: { otlphttp: { endpoint: backend.url, encoding: 'json' } },
          pipelines: { logs: { receivers: ['otlp'], processors: ['batch'], exporters: ['otlphttp'] } },
        }),
        '10s',
      ),
    );
    const client = new LogClient(o.ports.otlp, 'load');
    let stopped = false;
    const sending = client.load({ workers: 8, n: 100, stop: () => stopped || !o.running, timeoutMs: 20000 });
    await waitFor(() => client.accepted.length >= 5000, { timeoutMs: 30000, what: '5000 records accepted' });
    const { exit, ms } = await stopTimed(o);
    stopped = true;
    await sending;
    const received = backend.countOf(client.accepted);
    const lost = client.accepted.length - received;
    const counted = droppedInLogs(o.output);
    report('sigterm_under_load', { sent: client.accepted.length, received, lost, counted_dropped: counted, shutdown_ms: ms });
    assert.equal(exit.code, 0, o.output);
    assert.equal(lost, counted, o.output);
    assert.equal(lost, 0, o.output);
  });

  it('StatsD over TCP: SIGTERM while clients still write 100,000 lines, then close: every line arrives', async () => {
    const out = path.join(dir, 'statsd.jsonl');
    const o = await Outrigger.start({
      name: 'statsd-tcp',
      dir,
      ports: { health: 'tcp', metrics: 'tcp', statsd: 'tcp' },
      makeConfig: (ports) =>
        collectorConfig(ports, {
          receivers: { statsd: { endpoint: `${HOST}:${ports.statsd}`, transport: 'tcp', aggregation_interval: '60s' } },
          exporters: { file: { path: out } },
          pipelines: { metrics: { receivers: ['statsd'], exporters: ['file'] } },
        }),
    });
    cleanup.push(() => o.kill());
    // 100,000 series, one line each, from 4 clients; each writes its share in 50 pieces
    // 5 ms apart, then closes (end(): the FIN follows the data). SIGTERM comes after
    // the first piece, as in a Pod where the application and the sidecar are told to
    // stop together and the application flushes its last metrics.
    const SERIES = 100000;
    const EACH = 1;
    const LINES = SERIES * EACH;
    const CLIENTS = 4;
    const PIECES = 50;
    const perClient = SERIES / CLIENTS;
    const perPiece = perClient / PIECES;
    const writers = [];
    const clientErrors = [];
    let firstPieces = 0;
    let firstPiecesDone;
    const firstPiecesWritten = new Promise((r) => (firstPiecesDone = r));
    for (let c = 0; c < CLIENTS; c++) {
      writers.push(
        new Promise((resolve) => {
          const sock = net.connect(o.ports.statsd, HOST, async () => {
            for (let p = 0; p < PIECES && !sock.destroyed; p++) {
              let text = '';
              const from = c * perClient + p * perPiece;
              for (let k = from; k < from + perPiece; k++) text += `loss.n${k}:1|c\n`.repeat(EACH);
              // Cut each piece inside a line: the rest of that line comes with the next one.
              sock.write(p === 0 ? text.slice(0, -3) : p === PIECES - 1 ? `${tail}${text}` : `${tail}${text.slice(0, -3)}`);
              tail = text.slice(-3);
              if (p === 0 && ++firstPieces === CLIENTS) firstPiecesDone();
              await sleep(5);
            }
            sock.end();
          });
          let tail = '';
          sock.on('close', resolve);
          sock.on('error', (e) => clientErrors.push(e.code ?? e.message));
        }),
      );
    }
    await firstPiecesWritten;
    const { exit, ms } = await stopTimed(o);
    await Promise.all(writers);
    const sums = new Map(); // series -> counted lines
    for (const line of (await fs.readFile(out, 'utf8').catch(() => '')).split('\n')) {
      if (!line) continue;
      for (const rm of JSON.parse(line).resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) {
            for (const p of m.sum?.dataPoints ?? []) {
              sums.set(m.name, (sums.get(m.name) ?? 0) + Number(p.asInt ?? p.asDouble ?? 0));
            }
          }
        }
      }
    }
    let series = 0;
    let received = 0;
    for (let i = 0; i < SERIES; i++) {
      const v = sums.get(`loss.n${i}`) ?? 0;
      if (v > 0) series++;
      received += v;
    }
    const refusedLines = [...o.output.matchAll(/refused StatsD line "([^"]*)"/g)].map((m) => m[1]);
    report('statsd_tcp_shutdown', {
      sent: LINES,
      received,
      lost: LINES - received,
      series_missing: SERIES - series,
      refused_lines: refusedLines.length,
      example: refusedLines[0] ?? '',
      client_errors: clientErrors.join(',') || 'none',
      shutdown_ms: ms,
    });
    assert.deepEqual(clientErrors, [], 'no connection was closed while its client wrote');
    assert.equal(exit.code, 0, o.output);
    assert.deepEqual(refusedLines, [], 'no line was cut or corrupted');
    assert.equal(received, LINES, 'every line reached the exporter');
  });

  it('elasticsearch answering 200 with a body that is not JSON: backpressure and counted failures, no stall', async () => {
    const es = await EsDouble.start();
    cleanup.push(() => es.close());
    es.configure({ failAll: { status: 200, body: '<html><body>502 Bad Gateway (proxy)</body></html>' } });
    const o = await start('es-nonjson', (ports) =>
      withShutdownTimeout(
        collectorConfig(ports, {
          receivers: { otlp: { protocols: { http: { endpoint: `${HOST}:${ports.otlp}` } } } },
          // A queue of 5,000 records against 50,000 sent: it fills whatever the timing. (With the
          // default 32,768 it filled only when the failed sends drained it slower than the
          // client filled it: 60 of 1,000 requests got 503 in one run, none in another.)
          exporters: {
            elasticsearch: { endpoint: es.url, flush: { interval: '200ms' }, sending_queue: { queue_size: 5000 } },
          },
          pipelines: { logs: { receivers: ['otlp'], exporters: ['elasticsearch'] } },
        }),
        '5s',
      ),
    );
    const client = new LogClient(o.ports.otlp, 'nonjson');
    const REQUESTS = Number(process.env.FAULTS_NONJSON_REQUESTS ?? 1000);
    const until = Date.now() + 90000; // a stalled build stops here
    let sent = 0;
    const metricsMs = [];
    let maxRss = 0;
    let done = false;
    const probing = (async () => {
      while (!done) {
        const r = await timeMetrics(o);
        metricsMs.push(r.ms);
        const rss = r.ok ? metricValue(parsePrometheus(r.text), 'outrigger_process_resident_memory_bytes') : undefined;
        if (rss) maxRss = Math.max(maxRss, rss);
        await sleep(500);
      }
    })();
    await client.load({ workers: 8, n: 50, stop: () => sent++ >= REQUESTS || Date.now() > until });
    done = true;
    await probing;
    const m = await o.metrics().catch(() => []); // a stalled collector does not answer
    const malformed = metricValue(m, 'outrigger_exporter_elasticsearch_malformed_responses_total') ?? 0;
    const failed = metricValue(m, 'outrigger_exporter_send_failed_log_records_total', { exporter: 'elasticsearch' }) ?? 0;
    const { exit, ms } = await stopTimed(o);
    const lost = client.accepted.length - es.stored().length;
    const counted = droppedInLogs(o.output);
    report('es_non_json', {
      requests: client.latencies.length,
      answers: JSON.stringify(Object.fromEntries(client.answers)),
      otlp_p50_ms: percentile(client.latencies, 50),
      otlp_p99_ms: percentile(client.latencies, 99),
      otlp_max_ms: percentile(client.latencies, 100),
      metrics_max_ms: percentile(metricsMs, 100),
      max_rss_mb: maxRss / 1048576,
      shutdown_ms: ms,
      sent: client.accepted.length,
      received: es.stored().length,
      lost,
      counted_dropped: counted,
      malformed_answers: malformed,
      send_failed: failed,
    });
    assert.equal(exit.code, 0);
    assert.equal(client.answers.get('error') ?? 0, 0, 'every OTLP request was answered');
    assert.ok((client.answers.get(503) ?? 0) > 0, 'the full queue became 503s');
    assert.ok(malformed > 0, 'the malformed answers are counted');
    assert.ok(failed > 0, 'the failed sends are counted');
    assert.ok(metricsMs.every((t) => t < 60000), '/metrics answered throughout');
    assert.equal(lost, counted, 'every loss counted, item by item');
  });
});
