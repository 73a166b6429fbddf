// Reading the file exporter's OTLP/JSON lines back, and converting SDK values for comparison.
import assert from 'node:assert/strict';

const INT_RE = /^-?\d+$/;

/**
 * An OTLP/JSON AnyValue as a plain JS value. 64-bit ints must be JSON strings (the OTLP/JSON
 * mapping); they come back as Numbers when safe, else BigInts.
 */
export function fromAnyValue(v, where = 'value') {
  assert.ok(v && typeof v === 'object', `${where}: not an AnyValue: ${JSON.stringify(v)}`);
  const keys = Object.keys(v);
  assert.equal(keys.length, 1, `${where}: an AnyValue has exactly one field: ${JSON.stringify(v)}`);
  const [k] = keys;
  const x = v[k];
  switch (k) {
    case 'stringValue':
      assert.equal(typeof x, 'string', `${where}.stringValue`);
      return x;
    case 'boolValue':
      assert.equal(typeof x, 'boolean', `${where}.boolValue`);
      return x;
    case 'intValue': {
      assert.equal(typeof x, 'string', `${where}.intValue must be a JSON string (64-bit int): ${JSON.stringify(x)}`);
      assert.match(x, INT_RE, `${where}.intValue`);
      const b = BigInt(x);
      return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b;
    }
    case 'doubleValue':
      assert.equal(typeof x, 'number', `${where}.doubleValue`);
      return x;
    case 'arrayValue':
      return (x.values ?? []).map((e, i) => fromAnyValue(e, `${where}[${i}]`));
    case 'kvlistValue':
      return attrsToObject(x.values ?? [], where);
    case 'bytesValue':
      return Buffer.from(x, 'base64');
    default:
      assert.fail(`${where}: unknown AnyValue field ${k}`);
  }
}

/** A KeyValue list as an object; duplicate keys fail. */
export function attrsToObject(list, where = 'attributes') {
  const out = {};
  for (const kv of list ?? []) {
    assert.ok(!(kv.key in out), `${where}: duplicate key ${kv.key}`);
    out[kv.key] = fromAnyValue(kv.value, `${where}.${kv.key}`);
  }
  return out;
}

/** The raw AnyValue of one attribute (to check its OTLP type), or undefined. */
export function rawAttr(list, key) {
  return (list ?? []).find((kv) => kv.key === key)?.value;
}

/** SDK HrTime [seconds, nanos] as the decimal string OTLP/JSON uses for fixed64 times. */
export function hrToNanos(hr) {
  return (BigInt(hr[0]) * 1000000000n + BigInt(hr[1])).toString();
}

/** A uint64 OTLP/JSON field: must be a decimal string; returned as a BigInt. */
export function u64(v, where) {
  assert.equal(typeof v, 'string', `${where} must be a JSON string (64-bit): ${JSON.stringify(v)}`);
  assert.match(v, /^\d+$/, where);
  return BigInt(v);
}

/**
 * Flattens export requests (one per line) into items, each with its resource and scope:
 *   {resource: {...attrs}, resourceRaw, scope: {name, version}, item}
 */
export function flattenSpans(lines) {
  const out = [];
  for (const line of lines) {
    for (const rs of line.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        for (const span of ss.spans ?? []) {
          out.push({ resource: attrsToObject(rs.resource?.attributes, 'resource'), resourceRaw: rs.resource, scope: ss.scope ?? {}, item: span });
        }
      }
    }
  }
  return out;
}

export function flattenMetrics(lines) {
  const out = [];
  for (const line of lines) {
    for (const rm of line.resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        for (const metric of sm.metrics ?? []) {
          out.push({ resource: attrsToObject(rm.resource?.attributes, 'resource'), resourceRaw: rm.resource, scope: sm.scope ?? {}, item: metric });
        }
      }
    }
  }
  return out;
}

export function flattenLogs(lines) {
  const out = [];
  for (const line of lines) {
    for (const rl of line.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        for (const rec of sl.logRecords ?? []) {
          out.push({ resource: attrsToObject(rl.resource?.attributes, 'resource'), resourceRaw: rl.resource, scope: sl.scope ?? {}, item: rec });
        }
      }
    }
  }
  return out;
}

/** The data points of one metric, whatever its type. */
export function dataPoints(metric) {
  for (const k of ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary']) {
    if (metric[k]) return metric[k].dataPoints ?? [];
  }
  return [];
}

/** Number of data points in an SDK ResourceMetrics. */
export function sdkPointCount(resourceMetrics) {
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).reduce((n, m) => n + m.dataPoints.length, 0);
}
