// The integration suite's view of the shared test harness (../../common/harness.mjs: free
// ports, temp configs, spawning the binary, readiness, polling, HTTP requests and
// self-metrics parsing), plus what only this suite needs.
//
// Synchronisation is always "poll a condition until a deadline", never a fixed sleep.
import { readJsonLines as readJsonLinesShared, scrubEnv } from '../../common/harness.mjs';

export {
  HOST,
  Outrigger,
  collectorConfig,
  freePorts,
  httpRequest,
  makeTempDir,
  metricValue,
  outriggerBin,
  parsePrometheus,
  removeTempDir,
  sleep,
  toYaml,
  waitFor,
} from '../../common/harness.mjs';

/**
 * The SDK exporters read OTEL_* variables (endpoints, headers, protocols, timeouts). Drop them
 * so a developer's environment cannot redirect or alter what the tests send.
 */
export function scrubOtelEnv() {
  scrubEnv(['OTEL_']);
}

/** Reads a file of JSON lines; a missing file is empty. A partial last line is left out. */
export function readJsonLines(file) {
  return readJsonLinesShared(file, { partialOk: true });
}
