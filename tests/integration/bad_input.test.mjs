// Hostile and malformed input to the OTLP receiver (HTTP and gRPC): each is refused with the
// right status and a helpful message, nothing of it is written, and the collector keeps
// running, accepting and writing valid data, and counting what it refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';

import grpc from '@grpc/grpc-js';

import {
  HOST,
  Outrigger,
  collectorConfig,
  httpRequest,
  makeTempDir,
  metricValue,
  readJsonLines,
  removeTempDir,
  waitFor,
} from './lib/harness.mjs';
import { flattenSpans } from './lib/otlp_json.mjs';
import { decodeStatus, encodeTraceRequest } from './lib/proto.mjs';

const BODY_LIMIT = 64 * 1024; // max_request_body_size "64KiB"
const TRACE_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNIMPLEMENTED = 12;
const RPC_INVALID_ARGUMENT = 3; // google.rpc.Code in Status bodies
const RPC_RESOURCE_EXHAUSTED = 8;

const hex = (n) => randomBytes(n).toString('hex');
const NOW_NS = BigInt(Date.now()) * 1000000n;

/** An OTLP/JSON ExportTraceServiceRequest with one span. */
function jsonTrace(name, { traceId = hex(16), spanId = hex(8), attributes = [] } = {}) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bad-input-test' } }] },
        scopeSpans: [
          {
            scope: { name: 'bad-input' },
            spans: [
              {
                traceId,
                spanId,
                name,
                kind: 1,
                startTimeUnixNano: String(NOW_NS),
                endTimeUnixNano: String(NOW_NS + 1000n),
                attributes,
              },
            ],
          },
        ],
      },
    ],
  };
}

function protoTrace(name, ids = { traceId: hex(16), spanId: hex(8) }) {
  return encodeTraceRequest({
    resourceAttrs: { 'service.name': 'bad-input-test', 'e2e.int': 5, 'e2e.bool': true },
    spans: [{ ...ids, name, kind: 2, start: NOW_NS, end: NOW_NS + 5000n, attributes: { k: 'v' } }],
  });
}

describe('bad input: the OTLP receiver refuses it cleanly and keeps working', () => {
  let dir;
  let o;
  let outFile;
  let grpcClient;
  const first = { name: 'first-valid', traceId: hex(16), spanId: hex(8) };
  const badNames = new Set(); // spans inside refused requests: must never be written
  let malformedHttp = 0; // requests the receiver must count as malformed, per transport
  let malformedGrpc = 0;

  const url = (p = '/v1/traces') => `http://${HOST}:${o.ports.http}${p}`;
  const post = (body, headers, p) => httpRequest(url(p), { method: 'POST', headers, body });
  const spansInFile = async () => flattenSpans(await readJsonLines(outFile)).map((x) => x.item);

  /** Calls a gRPC method with raw bytes in and out (identity serializers). */
  function grpcCall(method, body) {
    return new Promise((resolve) => {
      grpcClient.makeUnaryRequest(
        method,
        (b) => b,
        (b) => b,
        body,
        { deadline: Date.now() + 10000 },
        (err, value) => resolve(err ? { err } : { value }),
      );
    });
  }

  /** Asserts the status and that the body explains the problem, in the expected encoding. */
  function assertRefused(r, { status, encoding, rpcCode, message }) {
    const ctx = `HTTP ${r.status} ${r.headers['content-type']}: ${JSON.stringify(r.text.slice(0, 300))}`;
    assert.equal(r.status, status, ctx);
    const ct = String(r.headers['content-type'] ?? '');
    let msg;
    if (encoding === 'proto') {
      assert.match(ct, /^application\/x-protobuf/, `an error to a protobuf request is a protobuf Status: ${ctx}`);
      const st = decodeStatus(r.body);
      assert.equal(st.code, rpcCode, `Status.code: ${ctx}`);
      msg = st.message;
    } else if (encoding === 'json') {
      assert.match(ct, /^application\/json/, `an error to a JSON request is a JSON Status: ${ctx}`);
      const st = JSON.parse(r.text);
      assert.equal(st.code, rpcCode, `Status.code: ${ctx}`);
      msg = st.message;
    } else {
      assert.match(ct, /^text\/plain/, ctx);
      msg = r.text;
    }
    assert.equal(typeof msg, 'string', ctx);
    assert.match(msg, message, `the error message should say what is wrong: ${ctx}`);
  }

  before(async () => {
    dir = await makeTempDir();
    outFile = path.join(dir, 'out.jsonl');
    o = await Outrigger.start({
      name: 'collector',
      dir,
      portNames: ['grpc', 'http', 'health', 'metrics'],
      makeConfig: (p) =>
        collectorConfig(p, {
          receivers: {
            otlp: {
              protocols: {
                grpc: { endpoint: `${HOST}:${p.grpc}` },
                http: { endpoint: `${HOST}:${p.http}`, max_request_body_size: '64KiB' },
              },
            },
          },
          exporters: { file: { path: outFile } },
          pipelines: { traces: { receivers: ['otlp'], exporters: ['file'] } },
        }),
    });
    grpcClient = new grpc.Client(`${HOST}:${o.ports.grpc}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    grpcClient?.close();
    await o?.kill();
    await removeTempDir(dir);
  });

  it('a valid OTLP/JSON trace is accepted and written', async () => {
    const r = await post(JSON.stringify(jsonTrace(first.name, first)), { 'content-type': 'application/json' });
    assert.equal(r.status, 200, r.text);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const resp = JSON.parse(r.text);
    assert.ok(!resp.partialSuccess?.rejectedSpans, `nothing rejected: ${r.text}`);
    const got = await waitFor(async () => (await spansInFile()).find((s) => s.spanId === first.spanId), {
      timeoutMs: 10000,
      what: 'the first span in the file',
    });
    assert.equal(got.name, first.name);
    assert.equal(got.traceId, first.traceId);
  });

  describe('OTLP/HTTP', () => {
    it('garbage bytes as application/x-protobuf → 400 with a protobuf Status', async () => {
      // 0x0f: field 1 with wire type 7, which does not exist; then junk.
      const garbage = Buffer.concat([Buffer.from([0x0f, 0xff, 0xff, 0xff, 0xff]), randomBytes(64)]);
      malformedHttp++;
      assertRefused(await post(garbage, { 'content-type': 'application/x-protobuf' }), {
        status: 400,
        encoding: 'proto',
        rpcCode: RPC_INVALID_ARGUMENT,
        message: /protobuf|decode|parse/i,
      });
    });

    it('a truncated protobuf request → 400', async () => {
      const full = protoTrace('bad-truncated');
      badNames.add('bad-truncated');
      const cut = full.subarray(0, full.length - 7); // inside the span: lengths now overrun
      malformedHttp++;
      assertRefused(await post(cut, { 'content-type': 'application/x-protobuf' }), {
        status: 400,
        encoding: 'proto',
        rpcCode: RPC_INVALID_ARGUMENT,
        message: /protobuf|decode|truncat/i,
      });
    });

    it('invalid JSON → 400 with a JSON Status', async () => {
      malformedHttp++;
      const body = JSON.stringify(jsonTrace('bad-invalid-json')).slice(0, -3); // unbalanced
      badNames.add('bad-invalid-json');
      assertRefused(await post(body, { 'content-type': 'application/json' }), {
        status: 400,
        encoding: 'json',
        rpcCode: RPC_INVALID_ARGUMENT,
        message: /JSON/,
      });
    });

    it('JSON with a traceId that is not hex → 400 naming the field', async () => {
      malformedHttp++;
      badNames.add('bad-hex');
      const body = JSON.stringify(jsonTrace('bad-hex', { traceId: `zz${hex(15)}` }));
      assertRefused(await post(body, { 'content-type': 'application/json' }), {
        status: 400,
        encoding: 'json',
        rpcCode: RPC_INVALID_ARGUMENT,
        message: /traceId.*hex|hex.*traceId/i,
      });
    });

    it('wrong content type text/plain → 415 naming the supported types', async () => {
      malformedHttp++;
      badNames.add('bad-text-plain');
      const r = await post(JSON.stringify(jsonTrace('bad-text-plain')), { 'content-type': 'text/plain' });
      assertRefused(r, { status: 415, encoding: 'text', message: /application\/x-protobuf.*application\/json|application\/json.*application\/x-protobuf/ });
    });

    // br is outside compression_algorithms' default list: 400, as upstream's confighttp.
    it('an unsupported Content-Encoding (br) → 400 naming compression_algorithms', async () => {
      malformedHttp++;
      badNames.add('bad-brotli');
      const body = zlib.brotliCompressSync(JSON.stringify(jsonTrace('bad-brotli')));
      const r = await post(body, { 'content-type': 'application/json', 'content-encoding': 'br' });
      assertRefused(r, { status: 400, encoding: 'json', rpcCode: RPC_INVALID_ARGUMENT, message: /"br".*compression_algorithms/ });
    });

    it('GET → 405 with Allow: POST', async () => {
      const r = await httpRequest(url(), { method: 'GET' });
      assertRefused(r, { status: 405, encoding: 'text', message: /POST/ });
      assert.equal(r.headers.allow, 'POST');
    });

    it('an unknown path → 404 naming the OTLP paths', async () => {
      const r = await post(JSON.stringify(jsonTrace('bad-404')), { 'content-type': 'application/json' }, '/v1/nope');
      badNames.add('bad-404');
      assertRefused(r, { status: 404, encoding: 'text', message: /\/v1\/traces/ });
    });

    it('a body that is not gzip, sent as Content-Encoding: gzip → 400', async () => {
      malformedHttp++;
      const r = await post(Buffer.from('this is not gzip at all'), {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      assertRefused(r, { status: 400, encoding: 'json', rpcCode: RPC_INVALID_ARGUMENT, message: /gzip/i });
    });

    it('a truncated (corrupt) gzip body → 400', async () => {
      malformedHttp++;
      badNames.add('bad-corrupt-gzip');
      const gz = zlib.gzipSync(JSON.stringify(jsonTrace('bad-corrupt-gzip')));
      const r = await post(gz.subarray(0, gz.length - 12), {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      assertRefused(r, { status: 400, encoding: 'json', rpcCode: RPC_INVALID_ARGUMENT, message: /gzip/i });
    });

    it('a gzip bomb (50 MiB of valid JSON whitespace, ~50 KiB on the wire) → 413', async () => {
      // Fully inflated this is a valid, empty request: only the inflated size can refuse it.
      const inflated = Buffer.alloc(50 << 20, 0x20);
      inflated.write('{"resourceSpans":[', 0);
      inflated.write(']}', inflated.length - 2);
      const bomb = zlib.gzipSync(inflated, { level: 9 });
      assert.ok(bomb.length < BODY_LIMIT, `the compressed bomb (${bomb.length} B) must pass the wire limit`);
      malformedHttp++;
      const r = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      assertRefused(r, { status: 413, encoding: 'json', rpcCode: RPC_RESOURCE_EXHAUSTED, message: /limit|large/i });
    });

    it('a body over max_request_body_size → 413 with a Status in the request\'s encoding', async () => {
      // A valid request, only too big. The OTLP spec: "The response body for all HTTP 4xx and
      // HTTP 5xx responses MUST be a Protobuf-encoded Status message" (JSON-encoded for JSON).
      badNames.add('bad-too-large');
      const body = JSON.stringify(
        jsonTrace('bad-too-large', { attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(BODY_LIMIT + 1024) } }] }),
      );
      malformedHttp++;
      const r = await post(body, { 'content-type': 'application/json' });
      assertRefused(r, { status: 413, encoding: 'json', rpcCode: RPC_RESOURCE_EXHAUSTED, message: /limit|large/i });
    });

    it('a chunked body (no Content-Length) over max_request_body_size → 413', async () => {
      badNames.add('bad-too-large-chunked');
      const body = Buffer.from(
        JSON.stringify(
          jsonTrace('bad-too-large-chunked', {
            attributes: [{ key: 'pad', value: { stringValue: 'x'.repeat(BODY_LIMIT + 1024) } }],
          }),
        ),
      );
      malformedHttp++;
      const r = await httpRequest(url(), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        chunkSize: 8192,
      });
      assert.equal(r.status, 413, r.text);
      assert.match(r.text, /limit|large/i, 'the error message should say what is wrong');
    });

    it('partially invalid data: the bad span is rejected (partial success), the good one kept', async () => {
      const good = { traceId: hex(16), spanId: hex(8) };
      const req = jsonTrace('partial-good', good);
      const badSpan = { ...req.resourceSpans[0].scopeSpans[0].spans[0], name: 'bad-short-trace-id', traceId: 'abcd', spanId: hex(8) };
      badNames.add('bad-short-trace-id');
      req.resourceSpans[0].scopeSpans[0].spans.push(badSpan);
      const r = await post(JSON.stringify(req), { 'content-type': 'application/json' });
      assert.equal(r.status, 200, r.text);
      const ps = JSON.parse(r.text).partialSuccess;
      assert.ok(ps, `a partialSuccess is reported: ${r.text}`);
      assert.equal(String(ps.rejectedSpans), '1', r.text);
      assert.match(ps.errorMessage, /trace_?id/i, r.text);
      await waitFor(async () => (await spansInFile()).some((s) => s.spanId === good.spanId), {
        timeoutMs: 10000,
        what: 'the good half of the partial request in the file',
      });
    });
  });

  describe('OTLP/gRPC', () => {
    it('raw garbage bytes to TraceService/Export → INVALID_ARGUMENT with a message', async () => {
      malformedGrpc++;
      const { err } = await grpcCall(TRACE_EXPORT, Buffer.from([0x0f, 0xff, 0xff, 0xff, 0x01, 0x02, 0x03]));
      assert.ok(err, 'the call must fail');
      assert.equal(err.code, GRPC_INVALID_ARGUMENT, `${err.code}: ${err.details}`);
      assert.match(err.details, /protobuf|decode|parse/i);
    });

    it('a truncated protobuf request → INVALID_ARGUMENT', async () => {
      malformedGrpc++;
      badNames.add('bad-grpc-truncated');
      const full = protoTrace('bad-grpc-truncated');
      const { err } = await grpcCall(TRACE_EXPORT, full.subarray(0, full.length - 7));
      assert.ok(err, 'the call must fail');
      assert.equal(err.code, GRPC_INVALID_ARGUMENT, `${err.code}: ${err.details}`);
      assert.match(err.details, /protobuf|decode|truncat/i);
    });

    it('an unknown method → UNIMPLEMENTED', async () => {
      const { err } = await grpcCall('/opentelemetry.proto.collector.trace.v1.TraceService/Nope', Buffer.alloc(0));
      assert.ok(err, 'the call must fail');
      assert.equal(err.code, GRPC_UNIMPLEMENTED, `${err.code}: ${err.details}`);
      assert.match(err.details, /Nope/);
    });
  });

  describe('afterwards', () => {
    it('the process is still running and ready', async () => {
      assert.ok(o.running, `the collector exited: ${JSON.stringify(o.exit)}\n${o.output}`);
      const r = await httpRequest(`http://${HOST}:${o.ports.health}/`);
      assert.equal(r.status, 200, r.text);
    });

    it('a new valid protobuf request over HTTP is accepted (200) and written', async () => {
      const ids = { traceId: hex(16), spanId: hex(8) };
      const r = await post(protoTrace('after-http-proto', ids), { 'content-type': 'application/x-protobuf' });
      assert.equal(r.status, 200, r.text);
      assert.match(String(r.headers['content-type']), /^application\/x-protobuf/);
      const got = await waitFor(async () => (await spansInFile()).find((s) => s.spanId === ids.spanId), {
        timeoutMs: 10000,
        what: 'the span sent after the bad input',
      });
      assert.equal(got.name, 'after-http-proto');
      assert.equal(got.traceId, ids.traceId);
      assert.equal(got.kind, 2);
    });

    it('a new valid request over gRPC is accepted and written', async () => {
      const ids = { traceId: hex(16), spanId: hex(8) };
      const { err, value } = await grpcCall(TRACE_EXPORT, protoTrace('after-grpc', ids));
      assert.ok(!err, `the call failed: ${err?.code} ${err?.details}`);
      assert.ok(Buffer.isBuffer(value));
      const got = await waitFor(async () => (await spansInFile()).find((s) => s.spanId === ids.spanId), {
        timeoutMs: 10000,
        what: 'the gRPC span sent after the bad input',
      });
      assert.equal(got.traceId, ids.traceId);
    });

    it('the file still holds the first span, and nothing from the refused requests', async () => {
      const spans = await spansInFile(); // also: every line is still valid JSON
      assert.equal(spans.filter((s) => s.spanId === first.spanId).length, 1, 'the first span, once');
      const leaked = spans.filter((s) => badNames.has(s.name) || s.name.startsWith('bad-'));
      assert.deepEqual(leaked.map((s) => s.name), [], 'spans from refused requests were written');
      assert.deepEqual(
        spans.map((s) => s.name).sort(),
        ['after-grpc', 'after-http-proto', 'first-valid', 'partial-good'],
        'exactly the accepted spans',
      );
    });

    it('self-metrics count the refused requests and items', async () => {
      const q = (name, transport) => (m) => metricValue(m, name, { receiver: 'otlp', transport });
      const m = await o.metrics();
      // Items: only the partial request had a decodable item to refuse.
      assert.equal(q('outrigger_receiver_refused_spans_total', 'http')(m), 1, 'refused spans over HTTP');
      assert.equal(q('outrigger_receiver_accepted_spans_total', 'http')(m), 3, 'accepted spans over HTTP');
      assert.equal(q('outrigger_receiver_accepted_spans_total', 'grpc')(m), 1, 'accepted spans over gRPC');
      // Requests refused before any item could be read: malformed, too large, unsupported type
      // or encoding (not 404/405, which are routing, nor an unknown gRPC method).
      const malformed = 'outrigger_receiver_malformed_requests_total';
      assert.notEqual(q(malformed, 'http')(m), undefined, `${malformed} is missing from /metrics`);
      assert.equal(q(malformed, 'http')(m), malformedHttp, `${malformed}{transport="http"}`);
      assert.equal(q(malformed, 'grpc')(m), malformedGrpc, `${malformed}{transport="grpc"}`);
    });
  });
});
