#!/usr/bin/python3
"""The persistent sending queue (file_storage + sending_queue.storage) against the real
binary: OTLP/HTTP in, the otlphttp exporter (JSON) out to a backend run by this script.

Every log record carries a unique body ("item-<n>"). The sender counts what the
collector ACCEPTED (HTTP 200); the backend counts what it RECEIVED. Lost = accepted and
never received; the goal is 0. Duplicates (re-sent after a kill -9) are reported.

Scenarios (all by default; name some to run only those):
  kill9      kill -9 the collector repeatedly while it exports (the backend answers
             slowly, so requests are always in flight), restart it each time.
  outage     the backend is down for DOWN_SECONDS while data keeps coming; the collector
             is also stopped (SIGTERM) and restarted during the outage: what was unsent
             at its shutdown stays on disk and is sent by the next start.
  diskfull   the queue's directory is a small tmpfs (needs root or an unprivileged user
             namespace; skipped with a message otherwise) and the backend is down: the
             disk fills, new data is refused (HTTP 429/503), the process keeps running;
             when the backend is back everything accepted arrives and new data is taken.

Usage: persistence.py path/to/outrigger [scenario...]
Env: DOWN_SECONDS (outage, default 120), KILLS (kill9, default 5).
Prints one line per scenario: sent, accepted, received (distinct), duplicates, lost.
"""
import faulthandler
import gzip
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

DOWN_SECONDS = float(os.environ.get("DOWN_SECONDS", "120"))
KILLS = int(os.environ.get("KILLS", "5"))
RECORDS_PER_REQUEST = 20

CONFIG = """
extensions:
  file_storage:
    directory: {queue_dir}
    create_directory: true
    segment_size: 64KiB
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{in_port}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:{out_port}
    encoding: json
    timeout: 2s
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 500ms
      max_elapsed_time: 0
    sending_queue:
      storage: file_storage
      num_consumers: 4
      queue_size: 100000000
service:
  extensions: [file_storage]
  shutdown_timeout: 2s
  telemetry:
    logs: {{level: warn}}
    metrics: {{address: "127.0.0.1:{metrics_port}"}}
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [otlphttp]
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Backend:
    """An OTLP/HTTP JSON logs endpoint that records bodies; can be taken down and up."""

    def __init__(self, port, delay=0.0):
        self.port = port
        self.delay = delay
        self.lock = threading.Lock()
        self.received = {}  # body -> times
        self.server = None
        self.thread = None
        self.conns = set()  # open connections: keep-alive ones outlive the listener

    def up(self):
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with backend.lock:
                    backend.conns.add(self.connection)

            def finish(self):
                with backend.lock:
                    backend.conns.discard(self.connection)
                try:
                    super().finish()
                except OSError:
                    pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if backend.delay:
                    time.sleep(backend.delay)
                bodies = []
                for rl in json.loads(body).get("resourceLogs", []):
                    for sl in rl.get("scopeLogs", []):
                        for lr in sl.get("logRecords", []):
                            bodies.append(lr.get("body", {}).get("stringValue", "").split(" ")[0])
                with backend.lock:
                    for b in bodies:
                        backend.received[b] = backend.received.get(b, 0) + 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def down(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.lock:  # and the keep-alive connections: down means down
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns.clear()

    def distinct(self):
        with self.lock:
            return set(self.received)

    def duplicates(self):
        with self.lock:
            return sum(n - 1 for n in self.received.values())


class Sender:
    """Posts OTLP/HTTP JSON logs requests; a refused request is offered again (as an
    SDK's retry would), so every item is eventually accepted or counted as refused."""

    def __init__(self, port, per_request=RECORDS_PER_REQUEST, pad=0):
        self.port = port
        self.per_request = per_request
        self.pad = " " + "x" * pad if pad else ""
        self.next = 0
        self.accepted = set()
        self.refusals = 0
        self.errors = 0
        self.stop = threading.Event()
        self.thread = None
        self.pending = None

    def post(self, items):
        recs = [{"body": {"stringValue": b + self.pad}} for b in items]
        body = json.dumps({"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": recs}]}]}).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/v1/logs" % self.port, data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status == 200
        except urllib.error.HTTPError as e:
            if e.code in (429, 503):
                self.refusals += 1
            else:
                self.errors += 1
            return False
        except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
            self.errors += 1  # the collector is down (killed): the client retries
            return False

    def send_one(self):
        if self.pending is None:
            self.pending = ["item-%09d" % (self.next + i) for i in range(self.per_request)]
            self.next += self.per_request
        if self.post(self.pending):
            self.accepted.update(self.pending)
            self.pending = None
            return True
        return False

    def run(self, rate):
        def loop():
            while not self.stop.is_set():
                t0 = time.monotonic()
                if not self.send_one():
                    time.sleep(0.05)
                    continue
                left = 1.0 / rate - (time.monotonic() - t0)
                if left > 0:
                    time.sleep(left)
        self.thread = threading.Thread(target=loop, daemon=True)
        self.thread.start()

    def halt(self):
        self.stop.set()
        if self.thread:
            self.thread.join()

    def sent(self):
        return self.next


class Collector:
    def __init__(self, binary, workdir, wrapper=None):
        self.binary = binary
        self.workdir = workdir
        self.wrapper = wrapper or []
        self.proc = None
        self.log = open(os.path.join(workdir, "collector.log"), "ab")
        self.config = os.path.join(workdir, "config.yaml")

    def start(self, in_port):
        self.proc = subprocess.Popen(self.wrapper + [self.binary, "--config", self.config],
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("collector exited with %d; see %s/collector.log" % (self.proc.returncode,
                                                                                    self.workdir))
            try:
                socket.create_connection(("127.0.0.1", in_port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("collector did not start listening")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        return self.proc.returncode

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        with open(os.path.join(self.workdir, "collector.log"), "rb") as f:
            return f.read().decode(errors="replace")


def metric(port, name):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            for line in r.read().decode().splitlines():
                if line.startswith(name):
                    return float(line.rsplit(" ", 1)[1])
    except OSError:
        pass
    return 0.0


def setup(binary, queue_dir=None, wrapper=None):
    work = tempfile.mkdtemp(prefix="persistence_")
    ports = dict(in_port=free_port(), out_port=free_port(), metrics_port=free_port())
    queue_dir = queue_dir or os.path.join(work, "queue")
    with open(os.path.join(work, "config.yaml"), "w") as f:
        f.write(CONFIG.format(queue_dir=queue_dir, **ports))
    return work, ports, Collector(binary, work, wrapper)


def wait_delivered(backend, accepted, stall):
    """Waits until the backend has every accepted item, as long as it keeps receiving:
    gives up after `stall` seconds without progress (a backlog drains at the backend's
    pace, slow on a loaded machine)."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < stall:
        got = backend.distinct()
        if accepted <= got:
            return True
        if len(got) != last:
            last, since = len(got), time.monotonic()
        time.sleep(0.2)
    return False


def report(name, sender, backend, elapsed, extra=""):
    got = backend.distinct()
    lost = len(sender.accepted - got)
    print("%-9s sent=%d accepted=%d received=%d duplicates=%d lost=%d refusals=%d %.1fs %s" % (
        name, sender.sent(), len(sender.accepted), len(got & sender.accepted), backend.duplicates(), lost,
        sender.refusals, elapsed, extra), flush=True)
    return lost


def scenario_kill9(binary):
    work, ports, col = setup(binary)
    backend = Backend(ports["out_port"], delay=0.02)
    backend.up()
    col.start(ports["in_port"])
    sender = Sender(ports["in_port"])
    t0 = time.monotonic()
    sender.run(rate=150)
    for _ in range(KILLS):
        time.sleep(1.5)
        col.kill9()  # while requests are in flight (the backend takes 20 ms each)
        time.sleep(0.2)
        col.start(ports["in_port"])
    time.sleep(1)
    sender.halt()
    ok = wait_delivered(backend, sender.accepted, 30)
    lost = report("kill9", sender, backend, time.monotonic() - t0, "kills=%d" % KILLS)
    col.term()
    backend.down()
    if ok and lost == 0:
        shutil.rmtree(work, ignore_errors=True)
    return lost == 0 and len(sender.accepted) > 0


def scenario_outage(binary):
    work, ports, col = setup(binary)
    backend = Backend(ports["out_port"])
    backend.up()
    col.start(ports["in_port"])
    sender = Sender(ports["in_port"])
    t0 = time.monotonic()
    sender.run(rate=50)
    time.sleep(2)
    backend.down()
    time.sleep(DOWN_SECONDS / 2)
    # A restart in the middle of the outage: the queue is on disk, not in memory.
    sender.halt()
    rc = col.term()
    stored = len(sender.accepted - backend.distinct())
    col.start(ports["in_port"])
    sender.stop.clear()
    sender.run(rate=50)
    time.sleep(DOWN_SECONDS / 2)
    backend.up()
    time.sleep(2)
    sender.halt()
    ok = wait_delivered(backend, sender.accepted, 30)
    lost = report("outage", sender, backend, time.monotonic() - t0,
                  "down=%.0fs stored_at_restart=%d exit=%d" % (DOWN_SECONDS, stored, rc))
    col.term()
    backend.down()
    if ok and lost == 0:
        shutil.rmtree(work, ignore_errors=True)
    return lost == 0 and stored > 0 and rc == 0


def tmpfs_wrapper(mountpoint, size):
    """A command prefix running the collector with a tmpfs of `size` at `mountpoint` in
    its own mount namespace, or None when this system allows neither."""
    os.makedirs(mountpoint, exist_ok=True)
    probe = ["unshare", "-Urm", "sh", "-c", "mount -t tmpfs -o size=%s tmpfs %s" % (size, mountpoint)]
    if shutil.which("unshare") and subprocess.run(probe, capture_output=True).returncode == 0:
        return ["unshare", "-Urm", "sh", "-c",
                'mount -t tmpfs -o size=%s tmpfs "%s" && exec "$@"' % (size, mountpoint), "sh"]
    if os.geteuid() == 0:
        probe = ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=%s tmpfs %s" % (size, mountpoint)]
        if subprocess.run(probe, capture_output=True).returncode == 0:
            return ["unshare", "-m", "sh", "-c",
                    'mount -t tmpfs -o size=%s tmpfs "%s" && exec "$@"' % (size, mountpoint), "sh"]
    return None


def scenario_diskfull(binary):
    work = tempfile.mkdtemp(prefix="persistence_mnt_")
    mnt = os.path.join(work, "small")
    wrapper = tmpfs_wrapper(mnt, "1m")
    if wrapper is None:
        print("diskfull  SKIPPED: cannot mount a small tmpfs here (needs root or unprivileged user namespaces)")
        shutil.rmtree(work, ignore_errors=True)
        return True
    _, ports, col = setup(binary, queue_dir=os.path.join(mnt, "queue"), wrapper=wrapper)
    backend = Backend(ports["out_port"])  # down: everything piles up in the queue
    col.start(ports["in_port"])
    # Large requests (about 20 KB): the disk fills with few of them, and they drain fast.
    sender = Sender(ports["in_port"], per_request=100, pad=200)
    t0 = time.monotonic()
    # Fill the 1 MiB disk: requests are accepted until it is full, then refused.
    deadline = time.monotonic() + 60
    while sender.refusals < 20 and time.monotonic() < deadline:
        if not sender.send_one():
            time.sleep(0.01)
    filled = len(sender.accepted)
    alive_when_full = col.alive()
    write_errors = metric(ports["metrics_port"], "outrigger_exporter_storage_write_errors_total")
    full_logged = "disk is full" in col.log_text()
    backend.up()
    ok = wait_delivered(backend, sender.accepted, 30)
    # Room again: new data is accepted and delivered.
    sender.pending = None
    more = 0
    deadline = time.monotonic() + 30
    while more < 10 and time.monotonic() < deadline:
        if sender.send_one():
            more += 1
        else:
            time.sleep(0.1)
    ok = wait_delivered(backend, sender.accepted, 30) and ok
    lost = report("diskfull", sender, backend, time.monotonic() - t0,
                  "accepted_until_full=%d write_errors=%d alive=%s logged=%s" % (
                      filled, write_errors, alive_when_full, full_logged))
    col.term()
    backend.down()
    good = (lost == 0 and filled > 0 and alive_when_full and write_errors > 0 and full_logged and more == 10)
    if good:
        shutil.rmtree(work, ignore_errors=True)
    return good


SCENARIOS = {"kill9": scenario_kill9, "outage": scenario_outage, "diskfull": scenario_diskfull}


def main():
    faulthandler.register(signal.SIGUSR1)
    binary = os.path.abspath(sys.argv[1])
    names = sys.argv[2:] or list(SCENARIOS)
    failed = [n for n in names if not SCENARIOS[n](binary)]
    if failed:
        print("FAILED:", " ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
