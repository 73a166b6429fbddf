"""Issue 15: OTLP/HTTP requests of 440,000 empty attributes (one log record, ~3.5 MB of
protobuf) into the file exporter. Usage: python3 bench/memory/file_attrs.py [requests] [exporter yaml]"""
import os
import socket
import sys
import urllib.request

from rss import Collector, free_port


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


ATTRS = int(os.environ.get("ATTRS", "440000"))
attr = field(6, field(1, b"") + field(2, field(1, b"")))  # {key: "", value: {stringValue: ""}}
record = attr * ATTRS
body = field(1, field(2, field(2, record)))  # resource_logs { scope_logs { log_records } }

requests = int(sys.argv[1]) if len(sys.argv) > 1 else 5
port = free_port(socket.SOCK_STREAM)
out = f"/tmp/outrigger-mem-file-{os.getpid()}.jsonl"
exporter = sys.argv[2] if len(sys.argv) > 2 else f"file:\n    path: {out}"
c = Collector(f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{port}
exporters:
  {exporter}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [{exporter.split(':')[0]}]
""")
c.report(f"idle (request: {len(body)} bytes)")
for i in range(requests):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/logs", data=body,
                                 headers={"Content-Type": "application/x-protobuf"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    c.report(f"after request {i + 1} (HTTP {status})")
log = c.stop()
if os.path.exists(out):
    print("file:", os.path.getsize(out), "bytes")
    os.unlink(out)
print("\n".join(l[:300] for l in log.splitlines() if "warn" in l or "error" in l)[-2000:])
