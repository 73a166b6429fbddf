"""Issue 15: filelog reading a 300 MB file without a newline while a line is appended to
another watched file. Usage: python3 bench/memory/filelog_nonewline.py [MB]"""
import os
import shutil
import sys
import tempfile
import time

from rss import Collector

mb = int(sys.argv[1]) if len(sys.argv) > 1 else 300
d = tempfile.mkdtemp(prefix="outrigger-mem-filelog-")
with open(os.path.join(d, "big.log"), "wb") as f:
    chunk = b"x" * (1 << 20)
    for _ in range(mb):
        f.write(chunk)
open(os.path.join(d, "small.log"), "wb").close()
out = os.path.join(d, "out.jsonl")
t0 = 0


def append_marker():
    global t0
    t0 = time.time()  # 0.2 s after the start: the big file is being read
    with open(os.path.join(d, "small.log"), "ab") as f:
        f.write(b"MARKER-LINE\n")


c = Collector(f"""
receivers:
  filelog:
    include: [{d}/*.log]
    start_at: beginning
exporters:
  file:
    path: {out}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [filelog]
      exporters: [file]
""", on_start=lambda: append_marker())
peak = 0
seen = None
while time.time() - t0 < 120:
    m = c.mem()
    peak = max(peak, m["VmRSS"])
    if seen is None and os.path.exists(out):
        with open(out, "rb") as f:
            f.seek(0)
            # the marker is short: grep the file in pieces
            data = f.read()
            if b"MARKER-LINE" in data:
                seen = time.time() - t0
                print(f"marker line exported after {seen:.1f} s, at offset {data.find(b'MARKER-LINE') >> 20} MiB of the output", flush=True)
            del data
    size = os.path.getsize(out) if os.path.exists(out) else 0
    if size > mb * (1 << 20):
        break
    time.sleep(0.5)
c.report(f"after reading {mb} MB (RSS peak sampled {peak} MiB)")
time.sleep(3)
c.report("3 s later")
c.stop()
print("marker in output:", b"MARKER-LINE" in open(out, "rb").read())
shutil.rmtree(d)
