// Just enough protobuf to hand-encode an OTLP ExportTraceServiceRequest and to decode a
// google.rpc.Status (the body of OTLP/HTTP protobuf error responses).

function varint(n) {
  let v = BigInt(n);
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return Buffer.from(out);
}

const tag = (field, wireType) => varint((field << 3) | wireType);
const lenField = (field, bytes) => Buffer.concat([tag(field, 2), varint(bytes.length), bytes]);
const strField = (field, s) => lenField(field, Buffer.from(s, 'utf8'));
const varintField = (field, n) => Buffer.concat([tag(field, 0), varint(n)]);
function fixed64Field(field, n) {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return Buffer.concat([tag(field, 1), b]);
}

function keyValue(key, value) {
  let any;
  if (typeof value === 'string') any = strField(1, value);
  else if (typeof value === 'boolean') any = varintField(2, value ? 1 : 0);
  else if (Number.isInteger(value)) any = varintField(3, BigInt.asUintN(64, BigInt(value)));
  else throw new Error(`unsupported attribute value ${value}`);
  return Buffer.concat([strField(1, key), lenField(2, any)]);
}

/**
 * An ExportTraceServiceRequest with one resource, one scope and the given spans:
 *   resourceAttrs: {k: string|int|bool}; spans: [{traceId, spanId, parentSpanId?, name, kind,
 *   start, end (ns, BigInt or string), attributes?}]
 */
export function encodeTraceRequest({ resourceAttrs = {}, scope = { name: 'hand-encoded', version: '1' }, spans }) {
  const resource = Buffer.concat(Object.entries(resourceAttrs).map(([k, v]) => lenField(1, keyValue(k, v))));
  const scopeMsg = Buffer.concat([strField(1, scope.name), strField(2, scope.version)]);
  const spanMsgs = spans.map((s) => {
    const parts = [
      lenField(1, Buffer.from(s.traceId, 'hex')),
      lenField(2, Buffer.from(s.spanId, 'hex')),
    ];
    if (s.parentSpanId) parts.push(lenField(4, Buffer.from(s.parentSpanId, 'hex')));
    parts.push(strField(5, s.name), varintField(6, s.kind ?? 1), fixed64Field(7, s.start), fixed64Field(8, s.end));
    for (const [k, v] of Object.entries(s.attributes ?? {})) parts.push(lenField(9, keyValue(k, v)));
    return lenField(2, Buffer.concat(parts));
  });
  const scopeSpans = Buffer.concat([lenField(1, scopeMsg), ...spanMsgs]);
  const resourceSpans = Buffer.concat([lenField(1, resource), lenField(2, scopeSpans)]);
  return lenField(1, resourceSpans);
}

function readVarint(buf, pos) {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, pos];
    shift += 7n;
  }
}

/** Decodes a google.rpc.Status: {code, message}. Throws on anything that is not one. */
export function decodeStatus(buf) {
  const out = { code: 0, message: '' };
  let pos = 0;
  while (pos < buf.length) {
    let key;
    [key, pos] = readVarint(buf, pos);
    const field = Number(key >> 3n);
    const wt = Number(key & 7n);
    if (wt === 0) {
      let v;
      [v, pos] = readVarint(buf, pos);
      if (field === 1) out.code = Number(v);
    } else if (wt === 2) {
      let len;
      [len, pos] = readVarint(buf, pos);
      const end = pos + Number(len);
      if (end > buf.length) throw new Error('truncated length-delimited field');
      if (field === 2) out.message = buf.subarray(pos, end).toString('utf8');
      pos = end;
    } else {
      throw new Error(`unexpected wire type ${wt} in a Status`);
    }
  }
  return out;
}
