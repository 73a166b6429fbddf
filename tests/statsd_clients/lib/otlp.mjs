// Reading the file exporter's OTLP/JSON back as StatsD series, and checking them.
import assert from 'node:assert/strict';

/** An OTLP/JSON AnyValue as a plain JS value (only the kinds the statsd receiver emits). */
function anyValue(v, where) {
  const keys = Object.keys(v ?? {});
  assert.equal(keys.length, 1, `${where}: an AnyValue has exactly one field: ${JSON.stringify(v)}`);
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  if ('boolValue' in v) return v.boolValue;
  assert.fail(`${where}: unexpected AnyValue ${JSON.stringify(v)}`);
}

/** A KeyValue list as an object; duplicate keys fail. */
export function attrs(list, where = 'attributes') {
  const out = {};
  for (const kv of list ?? []) {
    assert.ok(!(kv.key in out), `${where}: duplicate key ${kv.key}`);
    out[kv.key] = anyValue(kv.value, `${where}.${kv.key}`);
  }
  return out;
}

/** A uint64 / fixed64 OTLP/JSON field (a decimal string, absent when 0) as a Number. */
export function u64(v, where) {
  if (v === undefined) return 0;
  assert.equal(typeof v, 'string', `${where} must be a JSON string (64-bit): ${JSON.stringify(v)}`);
  assert.match(v, /^\d+$/, where);
  return Number(v);
}

const KINDS = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'];

/** The key of a series: its name and its attributes, sorted. */
export function seriesKey(name, attributes = {}) {
  const sorted = Object.keys(attributes)
    .sort()
    .map((k) => [k, attributes[k]]);
  return `${name} ${JSON.stringify(sorted)}`;
}

/**
 * All metric data points of the file's lines, grouped by series (name + attributes):
 * Map key → {name, kind, unit, attrs, metrics: [metric without dataPoints], points: [..]}.
 * Every metric must come from the statsd receiver's scope and a series must keep its kind.
 */
export function collectSeries(lines) {
  const out = new Map();
  for (const line of lines) {
    for (const rm of line.resourceMetrics ?? []) {
      for (const sm of rm.scopeMetrics ?? []) {
        assert.equal(sm.scope?.name, 'outrigger/statsd', 'instrumentation scope of statsd metrics');
        for (const m of sm.metrics ?? []) {
          const kinds = KINDS.filter((k) => m[k]);
          assert.equal(kinds.length, 1, `metric ${m.name} must have exactly one data kind: ${JSON.stringify(m)}`);
          const kind = kinds[0];
          const { dataPoints = [], ...meta } = m[kind];
          assert.ok(dataPoints.length > 0, `metric ${m.name} has no data points`);
          for (const p of dataPoints) {
            const a = attrs(p.attributes, `${m.name}.attributes`);
            const key = seriesKey(m.name, a);
            let s = out.get(key);
            if (!s) {
              s = { name: m.name, kind, unit: m.unit ?? '', attrs: a, metrics: [], points: [] };
              out.set(key, s);
            }
            assert.equal(kind, s.kind, `${key}: the kind changed between points`);
            s.metrics.push(meta);
            s.points.push(p);
          }
        }
      }
    }
  }
  return out;
}

/** The log records of the file's lines, each as {body, severityNumber, severityText, attrs, time, raw}. */
export function collectLogs(lines) {
  const out = [];
  for (const line of lines) {
    for (const rl of line.resourceLogs ?? []) {
      for (const sl of rl.scopeLogs ?? []) {
        assert.equal(sl.scope?.name, 'outrigger/statsd', 'instrumentation scope of statsd log records');
        for (const r of sl.logRecords ?? []) {
          out.push({
            body: r.body === undefined ? undefined : anyValue(r.body, 'body'),
            severityNumber: r.severityNumber ?? 0,
            severityText: r.severityText ?? '',
            attrs: attrs(r.attributes, 'log attributes'),
            time: r.timeUnixNano,
            raw: r,
          });
        }
      }
    }
  }
  return out;
}

/** The series' keys, sorted: to compare against the exact expected set. */
export function seriesKeys(series) {
  return [...series.keys()].sort();
}

/**
 * The series `name` with exactly these attributes; asserts it exists and has exactly one
 * data point (every test uses an aggregation interval far longer than the test, so all of
 * a series lands in the final flush on SIGTERM). Returns {series, point}.
 */
export function onePoint(series, name, attributes = {}, kind) {
  const key = seriesKey(name, attributes);
  const s = series.get(key);
  assert.ok(s, `no series ${key}; have:\n  ${seriesKeys(series).join('\n  ')}`);
  if (kind) assert.equal(s.kind, kind, `${key}: kind`);
  assert.equal(s.points.length, 1, `${key}: exactly one data point (one aggregation interval)`);
  return { series: s, point: s.points[0] };
}

/** A number data point's value (asDouble or asInt). */
export function numberValue(p, where = 'point') {
  if ('asDouble' in p) {
    assert.equal(typeof p.asDouble, 'number', `${where}.asDouble`);
    return p.asDouble;
  }
  if ('asInt' in p) return Number(p.asInt);
  // A oneof that is set is written even when it is 0.
  assert.fail(`${where}: a number data point needs asDouble or asInt: ${JSON.stringify(p)}`);
}

/** Summary quantiles as {quantile: value}. */
export function quantiles(p) {
  return Object.fromEntries((p.quantileValues ?? []).map((q) => [q.quantile ?? 0, q.value ?? 0]));
}

/**
 * Merges all points of a series over the intervals, so a result does not depend on where
 * interval boundaries fell: delta sums add up, cumulative sums and gauges give the last
 * value (by time); summaries and histograms add their counts and sums.
 */
export function mergedValue(s) {
  const byTime = [...s.points].sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1));
  switch (s.kind) {
    case 'sum': {
      const temporality = s.metrics[0].aggregationTemporality;
      for (const m of s.metrics) assert.equal(m.aggregationTemporality, temporality, `${s.name}: temporality changed`);
      if (temporality === 1) return byTime.reduce((a, p) => a + numberValue(p), 0);
      assert.equal(temporality, 2, `${s.name}: aggregationTemporality must be delta (1) or cumulative (2)`);
      return numberValue(byTime.at(-1));
    }
    case 'gauge':
      return numberValue(byTime.at(-1));
    default:
      return {
        count: byTime.reduce((a, p) => a + u64(p.count, `${s.name}.count`), 0),
        sum: byTime.reduce((a, p) => a + (p.sum ?? 0), 0),
      };
  }
}
