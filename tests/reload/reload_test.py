"""Reload without loss, against the real binary (issue 14).

The config lives in a Kubernetes ConfigMap layout (config.yaml -> ..data/config.yaml,
..data -> ..<version>). Two threads send OTLP/HTTP JSON spans, each on one kept-alive
connection, counting the spans answered 200. Meanwhile the config is changed step by step,
alternately by SIGHUP (file replaced by a rename) and by a ConfigMap-style swap of the
..data symlink (no signal: the collector's config watcher must see it), with invalid
configs among them. The OTLP receiver never changes, so:
  - every reload keeps it: the senders' connections are never closed, no request fails;
  - every span answered 200 is in the file exporters' output after SIGTERM (no loss while
    exporters, processors and pipelines are replaced behind it);
  - invalid configs are refused and counted, the running one keeps serving;
  - outrigger_config_reloads_total and outrigger_config_info follow each step.

usage: reload_test.py path/to/outrigger
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BIN = sys.argv[1]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_for(pred, timeout=30.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


d = tempfile.mkdtemp(prefix="outrigger-reload-")
cfgdir = os.path.join(d, "cm")
os.makedirs(cfgdir)
out = os.path.join(d, "out")
os.makedirs(out)
http_port, metrics_port = free_port(), free_port()

RECEIVERS = f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http_port}
"""
SERVICE_TELEMETRY = f"""
  telemetry:
    metrics:
      address: 127.0.0.1:{metrics_port}
"""


def config(exporters, processors="", pipeline_processors=None, pipelines_extra=""):
    exp = "\n".join(f"  {name}:\n    path: {out}/{path}" for name, path in exporters)
    procs = f"processors:\n{processors}" if processors else ""
    plist = ", ".join(pipeline_processors or [])
    names = ", ".join(name for name, _ in exporters)
    return f"""{RECEIVERS}
{procs}
exporters:
{exp}
service:{SERVICE_TELEMETRY}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [{plist}]
      exporters: [{names}]
{pipelines_extra}"""


# Each step: (description, yaml, valid)
steps = [
    ("exporter path changed", config([("file", "b.jsonl")]), True),
    ("batch processor added", config([("file", "b.jsonl")], "  batch:\n    timeout: 100ms\n", ["batch"]), True),
    ("unknown key: refused", config([("file", "b.jsonl")]).replace("path:", "pth:", 1), False),
    ("batch timeout changed", config([("file", "b.jsonl")], "  batch:\n    timeout: 50ms\n", ["batch"]), True),
    ("second exporter added",
     config([("file", "b.jsonl"), ("file/2", "c.jsonl")], "  batch:\n    timeout: 50ms\n", ["batch"]), True),
    ("not YAML: refused", "receivers: [otlp\n  : {", False),
    ("first exporter removed", config([("file/2", "c.jsonl")]), True),
    ("pipeline references a missing exporter: refused",
     config([("file/2", "c.jsonl")]).replace("exporters: [file/2]", "exporters: [file/3]"), False),
    ("a second traces pipeline from the same receiver",
     config([("file/2", "c.jsonl"), ("file/4", "d.jsonl")]).replace("exporters: [file/2, file/4]", "exporters: [file/2]")
     + "    traces/2:\n      receivers: [otlp]\n      exporters: [file/4]\n", True),
    ("back to one exporter, new path", config([("file", "e.jsonl")]), True),
]

version = [0]


def write_configmap(text):
    """Writes a new ..<version> directory and swaps ..data to it with a rename, as the
    kubelet does; config.yaml -> ..data/config.yaml never changes."""
    version[0] += 1
    vdir = f"..2026_12_07_{version[0]:04d}"
    os.makedirs(os.path.join(cfgdir, vdir))
    with open(os.path.join(cfgdir, vdir, "config.yaml"), "w") as f:
        f.write(text)
    tmp = os.path.join(cfgdir, "..data_tmp")
    os.symlink(vdir, tmp)
    old = os.readlink(os.path.join(cfgdir, "..data")) if os.path.islink(os.path.join(cfgdir, "..data")) else None
    os.rename(tmp, os.path.join(cfgdir, "..data"))
    if old:
        shutil.rmtree(os.path.join(cfgdir, old))


initial = config([("file", "a.jsonl")])
write_configmap(initial)
os.symlink("..data/config.yaml", os.path.join(cfgdir, "config.yaml"))
cfg = os.path.join(cfgdir, "config.yaml")

log = open(os.path.join(d, "log.txt"), "w")
proc = subprocess.Popen([BIN, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)


def metrics():
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).read().decode()
    except Exception:
        return ""


def metric(name, labels=""):
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", metrics(), re.M)
    return float(m.group(1)) if m else None


def config_hash():
    m = re.search(r'^outrigger_config_info\{hash="([0-9a-f]+)"\} 1$', metrics(), re.M)
    return m.group(1) if m else None


# ---- load ----
stop = threading.Event()
answered = []  # span names answered 200
errors = []  # anything but 200, or a connection that failed
lock = threading.Lock()


def sender(tag):
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
    i = 0
    while not stop.is_set():
        name = f"{tag}-{i}"
        body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": name}]}]}]})
        try:
            conn.request("POST", "/v1/traces", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            with lock:
                (answered if r.status == 200 else errors).append(name if r.status == 200 else f"{name}: {r.status}")
        except Exception as e:  # a closed connection means the receiver stopped
            with lock:
                errors.append(f"{name}: {e!r}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
        i += 1
    conn.close()


try:
    wait_for(lambda: metric("outrigger_config_reloads_total", '{outcome="success"}') is not None, what="start")
    first_hash = config_hash()
    check(first_hash is not None, f"outrigger_config_info has the running config's hash ({first_hash})")
    threads = [threading.Thread(target=sender, args=(t,)) for t in ("s1", "s2")]
    for t in threads:
        t.start()
    wait_for(lambda: len(answered) > 20, what="first spans answered")

    expected = {"success": 0, "invalid": 0}
    hashes = [first_hash]
    for n, (what, text, valid) in enumerate(steps):
        by_signal = n % 2 == 0
        before = {k: metric("outrigger_config_reloads_total", f'{{outcome="{k}"}}') for k in expected}
        sent_before = len(answered)
        if by_signal:
            # Replaced by a rename, then SIGHUP (the watcher sees the rename too, but the
            # content is what the reload read: one reload).
            vdir = os.readlink(os.path.join(cfgdir, "..data"))
            p = os.path.join(cfgdir, vdir, "config.yaml")
            with open(p + ".new", "w") as f:
                f.write(text)
            os.rename(p + ".new", p)
            proc.send_signal(signal.SIGHUP)
        else:
            write_configmap(text)
        outcome = "success" if valid else "invalid"
        wait_for(lambda: (metric("outrigger_config_reloads_total", f'{{outcome="{outcome}"}}') or 0) > before[outcome],
                 what=f"reload ({what})")
        expected[outcome] += 1
        # Under load all along: spans keep being answered after each step.
        wait_for(lambda: len(answered) > sent_before + 10, what=f"spans answered after '{what}'")
        h = config_hash()
        how = "SIGHUP" if by_signal else "ConfigMap swap"
        if valid:
            check(h is not None and h != hashes[-1], f"{how}: {what}: applied, config hash {hashes[-1]} -> {h}")
            hashes.append(h)
        else:
            check(h == hashes[-1], f"{how}: {what}: refused, config hash unchanged")
        check(proc.poll() is None, "still running")

    stop.set()
    for t in threads:
        t.join()
    counted = {k: metric("outrigger_config_reloads_total", f'{{outcome="{k}"}}') for k in ("success", "invalid", "failed")}
    check(counted["failed"] == 0, f"no reload failed ({counted})")
    # Each step is one reload: a ConfigMap swap (several inotify events) and an edit
    # followed by SIGHUP are not reloaded twice. (+1: the first start counts as none.)
    check(counted["success"] >= expected["success"] and counted["invalid"] >= expected["invalid"],
          f"every step counted: {counted} for {expected}")
    check(metric("outrigger_config_reload_duration_seconds_count") >= len(steps), "reload durations observed")
    check(errors == [], f"no request failed and no connection was closed: {errors[:5]}")
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=60)
    check(rc == 0, f"SIGTERM exits 0 (rc {rc})")
    written = ""
    for f in os.listdir(out):
        with open(os.path.join(out, f)) as fh:
            written += fh.read()
    found = set(re.findall(r'"name":"(s[12]-\d+)"', written))
    missing = [n for n in answered if n not in found]
    check(not missing, f"every one of {len(answered)} spans answered 200 was written ({len(missing)} missing: "
          f"{missing[:5]})")
    text = open(os.path.join(d, "log.txt")).read()
    check(len(re.findall(r"configuration reloaded in .*kept: [^;]*receiver otlp", text)) >= expected["success"],
          "the log says the receiver was kept at every reload")
finally:
    stop.set()
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    log.close()
    if failures:
        print(open(os.path.join(d, "log.txt")).read()[-6000:])

print(f"{len(failures)} failed")
if not failures:
    shutil.rmtree(d, ignore_errors=True)
sys.exit(1 if failures else 0)
