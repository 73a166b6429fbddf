"""Issue 15: a million distinct StatsD names, one line each, then flushes.
Usage: python3 bench/memory/statsd_names.py [names] [extra receiver options as yaml]"""
import socket
import sys
import time

from rss import Collector, free_port

names = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
extra = sys.argv[2] if len(sys.argv) > 2 else ""
port = free_port()
interval = 5
c = Collector(f"""
receivers:
  statsd:
    endpoint: 127.0.0.1:{port}
    aggregation_interval: {interval}s
    socket_buffer_size: 64MiB
    {extra}
exporters:
  debug:
    verbosity: basic
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [statsd]
      exporters: [debug]
""")
c.report("idle")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
batch = []
for i in range(names):
    batch.append(f"load.metric.name.{i}:1|c|#env:prod")
    if len(batch) == 100:
        s.sendto("\n".join(batch).encode(), ("127.0.0.1", port))
        batch = []
        if i % 20000 == 0:
            time.sleep(0.01)  # let the receiver keep up (UDP)
if batch:
    s.sendto("\n".join(batch).encode(), ("127.0.0.1", port))
c.report(f"after {names} names sent")
for k in range(int(__import__("os").environ.get("FLUSHES", "7"))):
    time.sleep(interval)
    c.report(f"after flush {k + 1}")
log = c.stop()
print("\n".join(l[:200] for l in log.splitlines() if "refused" in l or "points" in l or "warn" in l)[-3000:])
