#!/usr/bin/env python3
"""The memory_limiter against the real binary, under overload.

OTLP/HTTP receiver -> memory_limiter (limit_mib) -> otlp exporter whose backend is down
(its queue is unbounded for this test, so only the limiter bounds memory). The load
generator (bench/otlp_loadgen) sends as fast as it is answered, at least OVERLOAD times
the limit in bytes. Then the backend (otlp_loadgen sink) comes up and the exporter
delivers what it holds. Checks:
  - the collector's peak RSS (VmHWM) stays under limit_mib;
  - refusals are HTTP 429 with Retry-After (the load generator counts them), never a 500
    or anything else;
  - every span in a request answered 200 reaches the backend, none twice;
  - the collector counted its refusals (outrigger_server_refused_total{reason=
    "memory_limit"}, outrigger_memory_limiter_*).

usage: overload.py OUTRIGGER OTLP_LOADGEN [--limit-mib 96] [--overload 10]
       [--protocol http|grpc] [--concurrency 8] [--spans-per-request 400]
       [--max-seconds 60] [--report FILE]
(With --protocol grpc the refusals are RESOURCE_EXHAUSTED with RetryInfo.)
Prints a RESULT line with the figures (bench/run_memlimit_bench.sh uses them).
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def metric(port, name, labels=None):
    """Sum of a metric of the collector's /metrics over the label sets matching `labels`."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in body.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(r"^(\w+)(\{[^}]*\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        lbl = m.group(2) or ""
        if labels and not all(f'{k}="{v}"' in lbl for k, v in labels.items()):
            continue
        total += float(m.group(3))
    return total


def kv(line, key):
    m = re.search(r"\b" + key + r"=(\S+)", line)
    return m.group(1) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outrigger")
    ap.add_argument("loadgen")
    ap.add_argument("--limit-mib", type=int, default=96)
    ap.add_argument("--spike-mib", type=int, default=24)
    ap.add_argument("--overload", type=float, default=10.0, help="bytes offered, in multiples of limit_mib")
    ap.add_argument("--protocol", choices=["http", "grpc"], default="http")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--spans-per-request", type=int, default=400)
    ap.add_argument("--max-seconds", type=float, default=60.0, help="the load stops after this even if short")
    ap.add_argument("--report", default="")
    a = ap.parse_args()

    work = tempfile.mkdtemp(prefix="memlimit_")
    http_port, sink_port, metrics_port, grpc_port = free_ports(4)
    cfg = os.path.join(work, "config.yaml")
    with open(cfg, "w") as f:
        f.write(f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http_port}
        max_request_body_size: 8MiB
      grpc:
        endpoint: 127.0.0.1:{grpc_port}
processors:
  memory_limiter:
    check_interval: 50ms
    limit_mib: {a.limit_mib}
    spike_limit_mib: {a.spike_mib}
exporters:
  otlp:
    endpoint: 127.0.0.1:{sink_port}
    tls: {{insecure: true}}
    compression: none
    timeout: 5s
    sending_queue:
      queue_size: 100000000
      num_consumers: 2
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 500ms
      max_elapsed_time: 0
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{metrics_port}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp]
""")
    col_log = open(os.path.join(work, "collector.log"), "w")
    col = subprocess.Popen([a.outrigger, "--config", cfg], stdout=col_log, stderr=subprocess.STDOUT)
    sink = None
    ok = False
    try:
        wait_for(lambda: listening(http_port) and listening(grpc_port) and listening(metrics_port), 30,
                 "the collector to listen")
        idle_kb = status_kb(col.pid, "VmRSS")

        # The load: as fast as answered, until OVERLOAD x limit bytes were offered (each
        # span is about 250 bytes on the wire) or max_seconds passed.
        span_bytes = 250
        want_bytes = a.overload * a.limit_mib * (1 << 20)
        per_req = a.spans_per_request * span_bytes
        max_requests = int(want_bytes / per_req) + 1
        t0 = time.time()
        load = subprocess.run(
            [a.loadgen, "send", "--protocol", a.protocol, "--endpoint",
             f"127.0.0.1:{http_port if a.protocol == 'http' else grpc_port}", "--concurrency",
             str(a.concurrency), "--spans-per-request", str(a.spans_per_request), "--distinct", "16",
             "--duration", str(a.max_seconds), "--max-requests", str(max_requests), "--timeout", "30",
             "--label", "overload"],
            capture_output=True, text=True, timeout=a.max_seconds + 120)
        load_s = time.time() - t0
        result = next((l for l in load.stdout.splitlines() if l.startswith("RESULT")), None)
        assert result, f"no RESULT from the load generator: {load.stdout}\n{load.stderr}"
        print(load.stderr.strip(), file=sys.stderr)
        requests = int(kv(result, "requests"))
        accepted = int(kv(result, "accepted_spans"))
        ok_requests = int(kv(result, "ok"))
        exhausted = int(kv(result, "err_exhausted"))
        unavailable = int(kv(result, "err_unavailable"))
        deadline = int(kv(result, "err_deadline"))
        other = int(kv(result, "err_other"))
        hwm_load_kb = status_kb(col.pid, "VmHWM")
        refused_429 = metric(metrics_port, "outrigger_server_refused_total", {"reason": "memory_limit"})
        refused_bytes = metric(metrics_port, "outrigger_memory_limiter_refused_bytes_total")
        offered_mib = requests * per_req / (1 << 20)

        # The backend comes up: everything accepted must arrive, once.
        stats = os.path.join(work, "sink.stats")
        sink = subprocess.Popen([a.loadgen, "sink", "--endpoint", f"127.0.0.1:{sink_port}", "--stats-file", stats],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

        def sink_spans():
            try:
                with open(stats) as f:
                    v = kv(f.read(), "spans")
                    return int(v) if v else 0
            except OSError:
                return 0

        t1 = time.time()
        try:
            wait_for(lambda: sink_spans() >= accepted, 120, f"the sink to receive {accepted} spans")
        except AssertionError:
            pass
        drain_s = time.time() - t1
        time.sleep(0.5)  # anything beyond (a duplicate) would show up now
        received = sink_spans()
        hwm_kb = status_kb(col.pid, "VmHWM")

        figures = (f"RESULT protocol={a.protocol} limit_mib={a.limit_mib} soft_mib={a.limit_mib - a.spike_mib} idle_rss_mib={idle_kb / 1024:.1f} "
                   f"peak_rss_mib={hwm_kb / 1024:.1f} peak_rss_during_load_mib={hwm_load_kb / 1024:.1f} "
                   f"offered_mib={offered_mib:.0f} overload={offered_mib / a.limit_mib:.1f}x load_s={load_s:.1f} "
                   f"requests={requests} ok={ok_requests} http_429={exhausted} http_503={unavailable} "
                   f"deadline={deadline} other={other} accepted_spans={accepted} received_spans={received} "
                   f"accepted_mib_per_s={accepted * span_bytes / (1 << 20) / load_s:.1f} "
                   f"drain_s={drain_s:.1f} server_refused_memory_limit={refused_429:.0f} "
                   f"limiter_refused_mib={refused_bytes / (1 << 20):.0f}")
        print(figures)
        if a.report:
            with open(a.report, "w") as f:
                f.write(figures + "\n")

        failures = []
        if hwm_kb >= a.limit_mib * 1024:
            failures.append(f"peak RSS {hwm_kb / 1024:.1f} MiB is not under limit_mib {a.limit_mib}")
        if other or deadline or unavailable:
            failures.append(f"answers other than 200/429: other={other} deadline={deadline} 503={unavailable} "
                            f"({load.stderr.strip()})")
        if exhausted == 0 or refused_bytes == 0 or (a.protocol == "http" and refused_429 == 0):
            failures.append("no request was refused with 429 / RESOURCE_EXHAUSTED: the load did not reach the limit")
        if ok_requests == 0:
            failures.append("no request was accepted")
        if offered_mib < a.overload * a.limit_mib * 0.9:
            failures.append(f"only {offered_mib:.0f} MiB offered in {a.max_seconds}s: not a {a.overload}x overload")
        if received != accepted:
            failures.append(f"accepted {accepted} spans but the backend received {received}")
        if failures:
            with open(os.path.join(work, "collector.log")) as f:
                sys.stderr.write("collector log (tail):\n" + "".join(f.readlines()[-30:]))
            for m in failures:
                print("FAIL: " + m, file=sys.stderr)
            return 1
        ok = True
        return 0
    finally:
        for p in (col, sink):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        col_log.close()
        if ok:
            subprocess.run(["rm", "-rf", work])
        else:
            print(f"kept {work}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
