"""Helpers for the memory load scripts of bench/memory: start the real binary on a config,
read its VmRSS / VmHWM, stop it. Issue 15 (unbounded memory)."""
import os
import signal
import socket
import subprocess
import tempfile
import time

BIN = os.environ.get("OUTRIGGER", os.path.join(os.path.dirname(__file__), "../../build/outrigger"))


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def mem(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) // 1024  # MiB
    return out


class Collector:
    def __init__(self, config_yaml, on_start=None):
        self.dir = tempfile.mkdtemp(prefix="outrigger-mem-")
        self.cfg = os.path.join(self.dir, "config.yaml")
        with open(self.cfg, "w") as f:
            f.write(config_yaml)
        self.log = open(os.path.join(self.dir, "log.txt"), "w")
        self.p = subprocess.Popen([BIN, "--config", self.cfg], stdout=self.log, stderr=subprocess.STDOUT)
        if on_start:
            time.sleep(0.2)
            on_start()
        time.sleep(1.0)  # started (a load script, not a test)
        assert self.p.poll() is None, open(os.path.join(self.dir, "log.txt")).read()

    def mem(self):
        return mem(self.p.pid)

    def report(self, what):
        m = self.mem()
        print(f"{what:50s} VmRSS {m['VmRSS']:6d} MiB  VmHWM {m['VmHWM']:6d} MiB", flush=True)
        return m

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.wait(timeout=60)
        self.log.close()
        return open(os.path.join(self.dir, "log.txt")).read()
