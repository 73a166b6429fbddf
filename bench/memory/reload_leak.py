"""Memory over many SIGHUP reloads (issue 14, "every reload leaks ~22 KB"): start the real
binary on a config with every kind of component on the data path (OTLP gRPC+HTTP, statsd,
batch, file + prometheus exporters, health_check, own metrics), then send N SIGHUPs, each
after the previous reload finished, alternating between two configs (MODE=change: the file
exporter's path changes, so part of the graph is rebuilt each time) or the same config
(MODE=same: nothing changes). Prints VmRSS, open descriptors and threads every STEP reloads.
A bench, not a test: it asserts nothing about the numbers.

  python3 bench/memory/reload_leak.py [N=900] [STEP=100]
  MODE=same python3 bench/memory/reload_leak.py 500
  MODE=full ...   (adds an extension change every reload: a full restart each time)
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from rss import Collector, free_port  # noqa: E402

import socket  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 900
STEP = int(sys.argv[2]) if len(sys.argv) > 2 else 100
MODE = os.environ.get("MODE", "change")

ports = {k: free_port(socket.SOCK_STREAM) for k in ("grpc", "http", "prom", "health", "metrics")}
statsd = free_port()


def config(i, d):
    variant = i % 2 if MODE in ("change", "full") else 0
    health = f"127.0.0.1:{ports['health']}"
    ext_path = "/" if MODE != "full" or variant == 0 else "/h"
    return f"""
extensions:
  health_check: {{endpoint: "{health}", path: "{ext_path}"}}
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{ports['grpc']}"}}
      http: {{endpoint: "127.0.0.1:{ports['http']}"}}
  statsd: {{endpoint: "127.0.0.1:{statsd}"}}
processors:
  batch:
exporters:
  file: {{path: "{d}/out{variant}.jsonl"}}
  prometheus: {{endpoint: "127.0.0.1:{ports['prom']}"}}
service:
  extensions: [health_check]
  telemetry:
    metrics: {{address: "127.0.0.1:{ports['metrics']}"}}
  pipelines:
    traces: {{receivers: [otlp], processors: [batch], exporters: [file]}}
    metrics: {{receivers: [otlp, statsd], processors: [batch], exporters: [prometheus, file]}}
    logs: {{receivers: [otlp], exporters: [file]}}
"""


def reloads_done(logfile):
    # Reloads applied or refused, from the log (works for builds before the reload metrics).
    with open(logfile, errors="replace") as f:
        text = f.read()
    return text.count("configuration reloaded") + text.count("reload refused") + text.count("reload failed")


def counts(pid):
    return len(os.listdir(f"/proc/{pid}/fd")), len(os.listdir(f"/proc/{pid}/task"))


c = Collector(config(0, "/tmp"))
d = c.dir
deadline = time.time() + 60  # SIGHUP before the signal mask is set would end it
while "running (" not in open(os.path.join(d, "log.txt"), errors="replace").read() and time.time() < deadline:
    time.sleep(0.05)
with open(c.cfg, "w") as f:
    f.write(config(0, d))
url = os.path.join(d, "log.txt")
c.p.send_signal(signal.SIGHUP)
deadline = time.time() + 20
while reloads_done(url) < 1 and time.time() < deadline:
    time.sleep(0.05)
fds, threads = counts(c.p.pid)
c.report(f"start ({MODE}) fds={fds} threads={threads}")
t0 = time.time()
with open(f"/proc/{c.p.pid}/status") as f:
    base = next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) * 1024
done = 1
for i in range(1, N + 1):
    with open(c.cfg + ".tmp", "w") as f:
        f.write(config(i, d))
    os.rename(c.cfg + ".tmp", c.cfg)
    c.p.send_signal(signal.SIGHUP)
    deadline = time.time() + 30
    while True:  # the next SIGHUP only after this reload was counted
        n = reloads_done(url)
        if n > done or time.time() > deadline:
            break
        time.sleep(0.002)
    done = n
    if i % STEP == 0:
        fds, threads = counts(c.p.pid)
        with open(f"/proc/{c.p.pid}/status") as f:
            rss_kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        print(
            f"after {i:4d} reloads: VmRSS {rss_kb / 1024:7.1f} MiB  growth/reload "
            f"{(rss_kb * 1024 - base) / i / 1024:6.2f} KiB  fds={fds} threads={threads}  "
            f"({time.time() - t0:.0f} s)",
            flush=True,
        )
log = c.stop()
print("reloads counted:", done)
