"""Issue 15: the batch processor holds items up to send_batch_size (8192) for `timeout`:
8192 records of 1 MiB would be 8 GiB. Sends N OTLP/HTTP requests of one 1 MiB log
record each through batch (timeout 30s) to the file exporter, and reads RSS before the
timeout. Usage: python3 bench/memory/batch_bytes.py [requests]"""
import os
import socket
import sys
import time
import urllib.request

from rss import Collector, free_port


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
body = field(1, field(2, field(2, field(5, field(1, b"y" * (1 << 20))))))  # one record, string body 1 MiB
port = free_port(socket.SOCK_STREAM)
out = f"/tmp/outrigger-mem-batch-{os.getpid()}.jsonl"
c = Collector(f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{port}
processors:
  batch:
    timeout: 30s
exporters:
  file:
    path: {out}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [file]
""")
c.report("idle")
codes = {}
for i in range(n):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs", data=body,
                                 headers={"Content-Type": "application/x-protobuf"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            codes[r.status] = codes.get(r.status, 0) + 1
    except urllib.error.HTTPError as e:
        codes[e.code] = codes.get(e.code, 0) + 1
c.report(f"after {n} requests of 1 MiB {codes}")
time.sleep(2)
c.report("2 s later (before the 30 s timeout)")
c.stop()
print("exported:", os.path.getsize(out) >> 20 if os.path.exists(out) else 0, "MiB")
if os.path.exists(out):
    os.unlink(out)
