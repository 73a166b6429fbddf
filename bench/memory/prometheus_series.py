"""Issue 15: scraping a target that exposes a million series.
Usage: python3 bench/memory/prometheus_series.py [series] [scrapes] [extra scrape config yaml]"""
import http.server
import socket
import sys
import threading
import time

from rss import Collector, free_port

series = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
scrapes = int(sys.argv[2]) if len(sys.argv) > 2 else 3
extra = sys.argv[3] if len(sys.argv) > 3 else ""
lines = ["# TYPE load_series gauge"]
lines += [f'load_series{{id="{i}",pod="app-7d9f8b-x2k4q"}} {i}' for i in range(series)]
BODY = ("\n".join(lines) + "\n").encode()
served = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)
        served.append(time.time())

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()
interval = 10
c = Collector(f"""
receivers:
  prometheus:
    config:
      scrape_configs:
        - job_name: load
          scrape_interval: {interval}s
          static_configs:
            - targets: ["127.0.0.1:{srv.server_address[1]}"]
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
      receivers: [prometheus]
      exporters: [debug]
""")
c.report(f"idle (body: {len(BODY)} bytes, {series} series)")
for k in range(scrapes):
    low = None
    end = time.time() + interval
    while time.time() < end:  # the lowest RSS of the interval: between scrapes
        rss = c.mem()["VmRSS"]
        low = rss if low is None else min(low, rss)
        time.sleep(0.25)
    c.report(f"after ~{k + 1} scrape interval(s), {len(served)} served; lowest {low} MiB")
log = c.stop()
print("\n".join(l[:300] for l in log.splitlines() if "scrape" in l or "points" in l)[-1500:])
