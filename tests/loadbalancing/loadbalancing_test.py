"""A sidecar routing traces to a tier of gateway outriggers (issue 10), real processes.

Four gateways listen for OTLP/gRPC on the same port at 127.0.0.1..4 (all loopback),
run tail sampling (always_sample after a 300 ms decision wait: a trace split between
gateways would be decided in pieces) and write what they keep to their own file (file
exporter, OTLP/JSON lines). The sidecar
takes OTLP/HTTP JSON and exports through `loadbalancing` (routing_key traceID) with the
`dns` resolver, asking a small DNS server this script runs (resolver.dns.nameservers;
the answers for gateways.outrigger.test are changed as the test goes):

  1. gateways 1, 2, 3: every span of each of the 300 traces reaches one gateway;
  2. gateway 4 added to DNS: the same trace ids, new spans; each trace again in one
     gateway, and a trace that changed gateway went to gateway 4 (only moved keys move);
  3. gateway 2 stopped (SIGTERM) while spans for it keep coming (they wait in the
     sidecar's queue for gateway 2, retried), then removed from DNS: what was waiting is
     routed again to the keys' new owners; only traces of gateway 2 move.
At the end every span answered 200 by the sidecar is in exactly one gateway's file: no
span lost, none twice.

With `k8s` as second argument the sidecar uses `resolver.k8s` instead: it finds the API
server through the in-cluster variables and service-account files (plain http, the test
knob), and this script answers the list and watch of the Service's EndpointSlice (the
gateways not in the ring are listed not ready, which must keep them out).

usage: loadbalancing_test.py path/to/outrigger [dns|k8s]
"""
import http.client
import http.server
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

BIN = sys.argv[1]
MODE = sys.argv[2] if len(sys.argv) > 2 else "dns"
failures = []
HOST = "gateways.outrigger.test"


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def free_port(addrs=("127.0.0.1",), kind=socket.SOCK_STREAM):
    """A port free on every address in `addrs`."""
    while True:
        s = socket.socket(socket.AF_INET, kind)
        s.bind((addrs[0], 0))
        p = s.getsockname()[1]
        s.close()
        ok = True
        for a in addrs[1:]:
            t = socket.socket(socket.AF_INET, kind)
            try:
                t.bind((a, p))
            except OSError:
                ok = False
            t.close()
        if ok:
            return p


def wait_for(pred, timeout=30.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Dns:
    """Answers A queries for HOST from self.addrs (AAAA: no records; others: NXDOMAIN)."""

    def __init__(self):
        self.addrs = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def set(self, addrs):
        with self.lock:
            self.addrs = list(addrs)

    def run(self):
        while not self.stop:
            try:
                q, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            if len(q) < 12:
                continue
            i, labels = 12, []
            while i < len(q) and q[i] != 0:
                n = q[i]
                labels.append(q[i + 1:i + 1 + n].decode(errors="replace"))
                i += 1 + n
            qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
            question = q[12:i + 5]
            name = ".".join(labels).lower()
            answers = b""
            rcode = 0
            if name != HOST:
                rcode = 3
            elif qtype == 1:
                with self.lock:
                    addrs = list(self.addrs)
                for a in addrs:
                    answers += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 0, 4) + socket.inet_aton(a)
            n = len(answers) // 16
            header = q[:2] + struct.pack(">HHHHH", 0x8180 | rcode, 1, n, 0, 0)
            self.sock.sendto(header + question + answers, peer)


class FakeK8s:
    """The API server's list and watch of the EndpointSlices of Service `gw` in `obs`:
    one slice; set(addrs) makes those addresses ready and the other gateways not ready."""

    PATH = "/apis/discovery.k8s.io/v1/namespaces/obs/endpointslices"

    def __init__(self, all_addrs):
        self.all = all_addrs
        self.cond = threading.Condition()
        self.rv = 1
        self.ready = []
        self.requests = []
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                path, _, query = self.path.partition("?")
                q = dict(kv.partition("=")[::2] for kv in query.split("&") if kv)
                with fake.cond:
                    fake.requests.append(self.path)
                sel = urllib.parse.unquote(q.get("labelSelector", ""))
                if path != FakeK8s.PATH or sel != "kubernetes.io/service-name=gw" or \
                        self.headers.get("Authorization") != "Bearer t0k3n":
                    body = b'{"kind":"Status","code":404}'
                    self.send_response(404)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if q.get("watch") not in ("1", "true"):
                    with fake.cond:
                        lst = {"kind": "EndpointSliceList", "apiVersion": "discovery.k8s.io/v1",
                               "metadata": {"resourceVersion": str(fake.rv)}, "items": [fake.slice()]}
                    body = json.dumps(lst).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                seen = int(q.get("resourceVersion", "0") or 0)
                deadline = time.time() + min(int(q.get("timeoutSeconds", "30")), 30)
                try:
                    while time.time() < deadline and not fake.stopped:
                        with fake.cond:
                            fake.cond.wait_for(lambda: fake.rv > seen or fake.stopped, timeout=0.2)
                            if fake.rv <= seen:
                                continue
                            seen = fake.rv
                            line = json.dumps({"type": "MODIFIED", "object": fake.slice()}).encode() + b"\n"
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass

        self.stopped = False
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def slice(self):
        return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": {"name": "gw-x1", "namespace": "obs", "resourceVersion": str(self.rv),
                             "labels": {"kubernetes.io/service-name": "gw"}},
                "addressType": "IPv4",
                "endpoints": [{"addresses": [a], "conditions": {"ready": a in self.ready}} for a in self.all],
                "ports": [{"name": "otlp", "port": gw_port, "protocol": "TCP"}]}

    def set(self, addrs):
        with self.cond:
            self.ready = list(addrs)
            self.rv += 1
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
        self.server.shutdown()


d = tempfile.mkdtemp(prefix="outrigger-lb-")
GW_ADDRS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
gw_port = free_port(GW_ADDRS)
http_port, sidecar_metrics = free_port(), free_port()
dns = Dns() if MODE == "dns" else FakeK8s(GW_ADDRS)
procs = {}


def start(name, text, env=None):
    path = os.path.join(d, name + ".yaml")
    with open(path, "w") as f:
        f.write(text)
    log = open(os.path.join(d, name + ".log"), "w")
    procs[name] = subprocess.Popen([BIN, "--config", path, "--watch-config=false"], stdout=log, stderr=log,
                                   env=env)


def gateway(i):
    addr = GW_ADDRS[i - 1]
    start(f"gw{i}", f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {addr}:{gw_port}
processors:
  tail_sampling:
    decision_wait: 300ms
    policies:
      - {{name: everything, type: always_sample}}
exporters:
  file:
    path: {d}/gw{i}.jsonl
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{free_port()}
  pipelines:
    traces:
      receivers: [otlp]
      processors: [tail_sampling]
      exporters: [file]
""")

    def listening():
        try:
            socket.create_connection((addr, gw_port), timeout=0.5).close()
            return True
        except OSError:
            return False
    wait_for(listening, what=f"gateway {i} listening")


def stop(name):
    p = procs.pop(name)
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    check(rc == 0, f"{name} exited 0 on SIGTERM (rc {rc})")


def metrics():
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{sidecar_metrics}/metrics", timeout=2).read().decode()
    except Exception:
        return ""


def metric(name, labels=""):
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", metrics(), re.M)
    return float(m.group(1)) if m else None


answered = set()


def send(tag, traces=300, per_trace=3, per_request=60):
    """Spans "<tag>-<trace>-<i>" of trace ids 0..traces-1, interleaved over requests."""
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
    spans = [(t, i) for i in range(per_trace) for t in range(traces)]
    for k in range(0, len(spans), per_request):
        chunk = spans[k:k + per_request]
        body = json.dumps({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": f"{t + 1:032x}", "spanId": f"{i + 1:016x}", "name": f"{tag}-{t}-{i}"}
                for t, i in chunk]}]}]})
        for attempt in range(100):
            conn.request("POST", "/v1/traces", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                answered.update(f"{tag}-{t}-{i}" for t, i in chunk)
                break
            time.sleep(0.1)  # pushback: the client keeps the data and retries
        else:
            raise AssertionError(f"request refused 100 times: {r.status}")
    conn.close()


def received():
    """span name -> list of gateways that wrote it."""
    where = {}
    for i in range(1, 5):
        p = os.path.join(d, f"gw{i}.jsonl")
        if not os.path.exists(p):
            continue
        with open(p) as f:
            for line in f:
                if not line.strip():
                    continue
                for rs in json.loads(line).get("resourceSpans", []):
                    for ss in rs.get("scopeSpans", []):
                        for s in ss.get("spans", []):
                            where.setdefault(s["name"], []).append(i)
    return where


def homes(tag, where):
    """trace -> set of gateways holding its spans of phase `tag`."""
    h = {}
    for name, gws in where.items():
        if name.startswith(tag + "-"):
            t = int(name.split("-")[1])
            h.setdefault(t, set()).update(gws)
    return h


def arrived(n):
    return lambda: sum(len(v) for v in received().values()) >= n


try:
    dns.set(GW_ADDRS[:3])
    for i in (1, 2, 3, 4):
        gateway(i)
    sidecar_env = None
    resolver = f"""      dns:
        hostname: {HOST}
        port: {gw_port}
        interval: 200ms
        timeout: 500ms
        nameservers: 127.0.0.1:{dns.port}"""
    if MODE == "k8s":
        sa = os.path.join(d, "serviceaccount")
        os.makedirs(sa)
        with open(os.path.join(sa, "token"), "w") as f:
            f.write("t0k3n")
        with open(os.path.join(sa, "namespace"), "w") as f:
            f.write("obs\n")
        sidecar_env = dict(os.environ, KUBERNETES_SERVICE_HOST="127.0.0.1", KUBERNETES_SERVICE_PORT=str(dns.port),
                           OUTRIGGER_K8S_TEST_PLAIN_HTTP="1", OUTRIGGER_K8S_SERVICEACCOUNT_DIR=sa)
        sidecar_env.pop("POD_NAMESPACE", None)
        resolver = f"""      k8s:
        service: gw
        ports: [{gw_port}]"""
    start("sidecar", f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{http_port}
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp:
        tls:
          insecure: true
        retry_on_failure:
          initial_interval: 100ms
          max_interval: 500ms
    resolver:
{resolver}
service:
  telemetry:
    metrics:
      address: 127.0.0.1:{sidecar_metrics}
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [loadbalancing]
""", sidecar_env)
    wait_for(lambda: metric("outrigger_loadbalancing_backends", '{exporter="loadbalancing"}') == 3,
             what="the sidecar sees 3 gateways")

    # 1. three gateways
    send("p1")
    wait_for(arrived(900), what="phase 1 spans")
    h1 = homes("p1", received())
    check(len(h1) == 300 and all(len(g) == 1 for g in h1.values()),
          "phase 1: every trace's spans are in one gateway")
    check({next(iter(g)) for g in h1.values()} == {1, 2, 3}, "phase 1: gateways 1, 2, 3 all got traces")

    # 2. gateway 4 added
    dns.set(GW_ADDRS)
    wait_for(lambda: metric("outrigger_loadbalancing_backends", '{exporter="loadbalancing"}') == 4,
             what="the sidecar sees 4 gateways")
    send("p2")
    wait_for(arrived(1800), what="phase 2 spans")
    h2 = homes("p2", received())
    check(len(h2) == 300 and all(len(g) == 1 for g in h2.values()),
          "phase 2: every trace's spans are in one gateway")
    moved = [t for t in h2 if h2[t] != h1[t]]
    check(all(h2[t] == {4} for t in moved), f"phase 2: the {len(moved)} traces that moved all went to gateway 4")
    check(0 < len(moved) < 150, f"phase 2: about a quarter of the traces moved ({len(moved)} of 300)")

    # 3. gateway 2 stops; its spans wait in the sidecar; then it leaves DNS
    stop("gw2")
    send("p3")
    to_gw2 = sum(1 for t in h2 if h2[t] == {2})
    check(to_gw2 > 0, f"phase 3: {to_gw2} traces belong to the stopped gateway 2")
    gw2_failed = f'{{exporter="loadbalancing/{GW_ADDRS[1]}:{gw_port}"}}'
    wait_for(lambda: (metric("outrigger_exporter_send_failed_spans_total", gw2_failed) or 0) > 0,
             what="sends to the stopped gateway 2 failing")
    dns.set([GW_ADDRS[0], GW_ADDRS[2], GW_ADDRS[3]])
    wait_for(lambda: metric("outrigger_loadbalancing_backends", '{exporter="loadbalancing"}') == 3,
             what="the sidecar drops gateway 2")
    wait_for(arrived(2700), what="phase 3 spans, those of gateway 2 routed again")
    h3 = homes("p3", received())
    check(len(h3) == 300 and all(len(g) == 1 for g in h3.values()),
          "phase 3: every trace's spans are in one gateway")
    moved3 = [t for t in h3 if h3[t] != h2[t]]
    check(all(h2[t] == {2} for t in moved3) and len(moved3) == to_gw2,
          f"phase 3: only the {to_gw2} traces of gateway 2 moved ({len(moved3)})")
    if MODE == "k8s":
        ok_k8s = metric("outrigger_loadbalancing_resolutions_total",
                        '{exporter="loadbalancing",resolver="k8s",success="true"}')
        check(ok_k8s is not None and ok_k8s >= 3, f"k8s resolutions counted ({ok_k8s})")
        check(any("watch=" in r for r in dns.requests), "the sidecar watched the EndpointSlices")
    rerouted = metric("outrigger_loadbalancing_rerouted_spans_total", '{exporter="loadbalancing"}')
    check(rerouted is not None and rerouted > 0, f"spans held for gateway 2 were routed again ({rerouted})")

    stop("sidecar")
    for name in list(procs):
        stop(name)
    where = received()
    lost = answered - set(where)
    twice = [n for n, g in where.items() if len(g) > 1]
    check(not lost, f"no span lost: {len(answered)} answered, {len(lost)} missing {sorted(lost)[:5]}")
    check(not twice, f"no span twice: {len(twice)} {twice[:5]}")
finally:
    for p in procs.values():
        p.kill()
        p.wait()
    if MODE == "dns":
        dns.stop = True
    else:
        dns.close()
    for f in sorted(os.listdir(d)):
        if f.endswith(".log") and (failures or sys.exc_info()[0] is not None):
            print(f"---- {f}")
            print(open(os.path.join(d, f)).read()[-3000:])

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
