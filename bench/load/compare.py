#!/usr/bin/env python3
"""Side-by-side load comparison: the backend directly, FastGate, nginx, HAProxy and YARP.

Every target runs the same named scenarios in the same run. The proxy under test is pinned to one
CPU (taskset -c 0); the backend (one nginx worker) and the load generator share the other (CPU 1),
so what differs between targets is the proxy. For each target and scenario it records requests/s,
latency p50/p90/p99/max, errors by kind, the proxy's CPU time per request (utime+stime from
/proc/PID/stat over its process tree), its peak RSS (VmHWM, reset through /proc/PID/clear_refs
before each scenario) and, where the target exposes them on its admin port, allocated bytes per
request and GC counts. Results go to OUT/<date>_<machine>_<commit>.{md,json,svg}.

Run it through scripts/load.sh; see bench/load/README.md for the scenarios and the peer settings.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")

BACKEND_PORT, BACKEND_H2C_PORT = 9000, 9010
FASTGATE_ADMIN_PORT = 9901


# ----------------------------------------------------------------------------------------------
# Scenarios


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    models: str  # what real traffic it stands for
    shape: str  # load shape, NBomber style: fixed concurrency or fixed rate
    kind: str  # wrk | h2load | idle


SCENARIOS = [
    Scenario("h1-keepalive-get", "many clients reusing HTTP/1.1 connections for small GETs",
             "closed model: 64 keep-alive connections, 128-byte response", "wrk"),
    Scenario("h1-64k-body", "uploads and downloads: 64 KiB request body up, 64 KiB response down",
             "closed model: 16 keep-alive connections, POST 64 KiB -> 64 KiB", "wrk"),
    Scenario("h2c-multiplexed", "HTTP/2 clients multiplexing many streams per connection",
             "closed model: 16 h2c connections x 10 concurrent streams", "h2load"),
    Scenario("h1-new-connection-per-request", "clients that do not reuse connections",
             "closed model: 16 connections, `Connection: close` on every request", "wrk"),
    Scenario("fixed-rate", "steady production traffic well below saturation: latency, not peak",
             "open model: one fixed request rate for the proxies, half of the lowest h1-keepalive-get maximum among them "
             "in the first round (direct and YARP: half their own), over 32 HTTP/1.1 connections",
             "h2load"),
    Scenario("idle-connections", "a fleet of idle keep-alive clients (memory per connection)",
             "on a freshly started proxy, N connections opened, one GET each, then held idle; RSS delta / N", "idle"),
]
SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}
THROUGHPUT = ["h1-keepalive-get", "h1-64k-body", "h2c-multiplexed", "h1-new-connection-per-request"]


# ----------------------------------------------------------------------------------------------
# Processes and /proc


def tree_pids(root: int) -> list[int]:
    """The root process and all its descendants (nginx master + worker, for instance)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_times(root: int) -> tuple[float, float]:
    """User and kernel CPU seconds of the process tree (utime and stime, fields 14 and 15 of stat)."""
    user = system = 0
    for pid in tree_pids(root):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        user += int(fields[11])
        system += int(fields[12])
    return user / CLK_TCK, system / CLK_TCK


def cpu_seconds(root: int) -> float:
    return sum(cpu_times(root))


def status_kib(root: int, key: str) -> int:
    total = 0
    for pid in tree_pids(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def reset_peak_rss(root: int) -> None:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the peak is per scenario.
    for pid in tree_pids(root):
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


class Proc:
    """A started server process; stopped by its own process group id, never by name."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "wb")
        self.popen = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                      env=env, start_new_session=True, cwd=log_dir)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 12) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        self.log.close()


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_ready(proc: Proc, url: str, timeout: float) -> str | None:
    """None when `GET url` answers 200 in time, else why not."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not proc.alive():
            return f"exited with code {proc.popen.returncode} before answering: {proc.log_tail() or '(no output)'}"
        try:
            status, _ = http_get(url, 1.0)
            if status == 200:
                return None
            last = f"GET {url} answered {status}"
        except (OSError, urllib.error.URLError) as e:
            last = f"GET {url}: {e}"
        time.sleep(0.2)
    return f"not ready after {timeout:.0f}s ({last})\n{proc.log_tail()}"


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


# ----------------------------------------------------------------------------------------------
# Metrics exposed by FastGate (Prometheus text on the admin port); absent metrics are tolerated.

METRIC_NAMES = {
    "alloc": re.compile(r"^fastgate_allocated_bytes_total(?:\{[^}]*\})?\s+([0-9.eE+]+)", re.M),
    "gen0": re.compile(r'^fastgate_gc_collections_total\{generation="0"\}\s+([0-9.eE+]+)', re.M),
    "gen1": re.compile(r'^fastgate_gc_collections_total\{generation="1"\}\s+([0-9.eE+]+)', re.M),
    "gen2": re.compile(r'^fastgate_gc_collections_total\{generation="2"\}\s+([0-9.eE+]+)', re.M),
}


def read_metrics(url: str | None) -> dict[str, float]:
    if not url:
        return {}
    try:
        status, body = http_get(url, 2.0)
    except (OSError, urllib.error.URLError):
        return {}
    if status != 200:
        return {}
    text = body.decode(errors="replace")
    out = {}
    for key, rx in METRIC_NAMES.items():
        m = rx.search(text)
        if m:
            out[key] = float(m.group(1))
    return out


# ----------------------------------------------------------------------------------------------
# Load generators


def percentile(sorted_values: list[int], p: float) -> int:
    if not sorted_values:
        return 0
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


class Runner:
    def __init__(self, args, run_dir: Path):
        self.args = args
        self.run_dir = run_dir
        self.pin = ["taskset", "-c", str(args.load_cpu)]
        self.backend_pid: int | None = None

    def wrk(self, url: str, seconds: float, connections: int, body_bytes: int = 0, close: bool = False) -> dict:
        env = dict(os.environ, WRK_BODY_BYTES=str(body_bytes), WRK_CLOSE="1" if close else "0")
        argv = self.pin + ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "5s",
                           "-s", str(HERE / "wrk-report.lua"), url]
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=seconds + 60)
        m = re.search(r"^WRK_JSON (\{.*\})$", p.stdout, re.M)
        if not m:
            raise RuntimeError(f"wrk gave no summary (exit {p.returncode}): {p.stderr.strip() or p.stdout[-400:]}")
        j = json.loads(m.group(1))
        errors = {k[4:] if k.startswith("err_") else k: v
                  for k, v in j.items() if (k.startswith("err_") or k == "non2xx3xx") and v}
        if "non2xx3xx" in errors:
            errors["status >= 400"] = errors.pop("non2xx3xx")
        return {
            "requests": j["requests"],
            "seconds": j["duration_us"] / 1e6,
            "rps": j["requests"] / (j["duration_us"] / 1e6) if j["duration_us"] else 0.0,
            "p50_us": j["p50_us"], "p90_us": j["p90_us"], "p99_us": j["p99_us"], "max_us": j["max_us"],
            "errors": errors,
        }

    def h2load(self, url: str, seconds: float, clients: int, streams: int, h1: bool = False,
               rps_per_client: float | None = None) -> dict:
        log = self.run_dir / "h2load-requests.tsv"
        if log.exists():
            log.unlink()
        argv = self.pin + ["h2load", "-t1", f"-c{clients}", f"-m{streams}", f"-D{max(1, round(seconds))}",
                           f"--log-file={log}"]
        if h1:
            argv.append("--h1")
        if rps_per_client is not None:
            argv.append(f"--rps={max(1, int(round(rps_per_client)))}")
        argv.append(url)
        p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        out = p.stdout
        fin = re.search(r"finished in ([0-9.]+)(m?s), ([0-9.]+) req/s", out)
        req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                        r"(\d+) errored, (\d+) timeout", out)
        codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
        if not (fin and req and codes):
            raise RuntimeError(f"h2load gave no summary (exit {p.returncode}): {p.stderr.strip() or out[-400:]}")
        elapsed = float(fin.group(1)) / (1000.0 if fin.group(2) == "ms" else 1.0)
        latencies: list[int] = []
        if log.exists():
            with open(log) as f:
                for line in f:
                    cols = line.split("\t")
                    if len(cols) >= 3 and cols[1].startswith("2"):
                        latencies.append(int(cols[2]))
        latencies.sort()
        errors = {}
        for label, value in (("3xx", codes.group(2)), ("4xx", codes.group(3)), ("5xx", codes.group(4)),
                             ("failed", req.group(5)), ("errored", req.group(6)), ("timeout", req.group(7))):
            if int(value):
                errors[label] = int(value)
        succeeded = int(req.group(4))
        if succeeded == 0 and not errors:
            # Nothing completed and nothing counted as failed: the target refused the protocol (a
            # server without HTTP/2 answers the preface with an HTTP/1.1 400 and closes).
            errors["none-succeeded"] = max(1, int(req.group(1)))
        return {
            "requests": int(req.group(3)),
            "seconds": elapsed,
            "rps": float(fin.group(3)),
            "succeeded": succeeded,
            "p50_us": percentile(latencies, 50), "p90_us": percentile(latencies, 90),
            "p99_us": percentile(latencies, 99), "max_us": latencies[-1] if latencies else 0,
            "errors": errors,
        }

    def idle(self, port: int, n: int, sample) -> dict:
        """Opens n idle keep-alive connections; `sample()` is called while they are held open."""
        argv = self.pin + [sys.executable, str(HERE / "idle_conns.py"), "127.0.0.1", str(port), "-n", str(n),
                           "--hold", "60", "--deadline", "90"]
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = p.stdout.readline().split()
            if len(line) != 3 or line[0] != "OPEN":
                raise RuntimeError(f"idle_conns.py failed: {p.stderr.read()[-400:]}")
            ok, failed = int(line[1]), int(line[2])
            time.sleep(2.0)  # let the proxy settle (buffers returned, GC if any) before sampling
            sampled = sample()
            p.stdin.write("close\n")
            p.stdin.flush()
            p.wait(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        return {"opened": ok, "failed": failed, **sampled}


# ----------------------------------------------------------------------------------------------
# Targets


@dataclasses.dataclass
class Target:
    name: str
    h1_port: int
    h2c_port: int
    metrics_url: str | None = None
    note: str = ""


TARGETS = {
    "direct": Target("direct", BACKEND_PORT, BACKEND_H2C_PORT,
                     note="no proxy: the backend itself (ceiling); CPU/RSS are the backend's"),
    "fastgate": Target("fastgate", 8081, 8081, f"http://127.0.0.1:{FASTGATE_ADMIN_PORT}/metrics",
                       note="HTTP/1.1 and h2c on one port; upstream pool max_connections=256"),
    "nginx": Target("nginx", 8082, 8092, note="1 worker, upstream keepalive, proxy_http_version 1.1"),
    "haproxy": Target("haproxy", 8083, 8093, note="nbthread 1, http-reuse always, h2c frontend proto h2"),
    "yarp": Target("yarp", 8084, 8094, note="Yarp.ReverseProxy 2.3.0, Server GC, HTTP/1.1 to the backend"),
}


def render(template: Path, dest: Path, values: dict[str, str]) -> Path:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    leftover = re.findall(r"@[A-Z0-9_]+@", text)
    if leftover:
        raise RuntimeError(f"{template.name}: unrendered {leftover}")
    dest.write_text(text)
    return dest


def publish(project: str, out_dir: Path) -> str | None:
    print(f"  dotnet publish {project} -> {out_dir.relative_to(REPO)}", flush=True)
    p = subprocess.run(["dotnet", "publish", str(REPO / project), "-c", "Release", "-o", str(out_dir), "--nologo",
                        "-v", "quiet"], capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        lines = [l for l in (p.stdout + p.stderr).splitlines() if "error" in l.lower()] or p.stdout.splitlines()
        return "publish failed:\n    " + "\n    ".join(lines[-8:])
    return None


def start_target(name: str, args, run_dir: Path, cpu: int, backend_proc: Proc | None) -> tuple[Proc | None, str | None]:
    pin = ["taskset", "-c", str(cpu)]
    t = TARGETS[name]
    if name == "direct":
        return backend_proc, None
    for port in {t.h1_port, t.h2c_port}:
        if not port_free(port):
            return None, f"port {port} is already in use"
    common = {"RUN": str(run_dir), "PORT": str(t.h1_port), "H2C_PORT": str(t.h2c_port),
              "BACKEND_PORT": str(BACKEND_PORT)}
    env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
    if name == "fastgate":
        dll = REPO / "out" / "fastgate" / "fastgate.dll"
        if not dll.exists():
            return None, f"{dll.relative_to(REPO)} not found (publish failed or skipped)"
        cfg = render(HERE / "fastgate.toml", run_dir / "fastgate.toml", {**common, "ADMIN_PORT": str(FASTGATE_ADMIN_PORT)})
        proc = Proc(name, pin + ["dotnet", str(dll), "run", "--config", str(cfg)], run_dir, env)
        timeout = 30
    elif name == "nginx":
        cfg = render(HERE / "nginx.conf", run_dir / "nginx.conf", {**common, "KEEPALIVE": str(args.nginx_keepalive)})
        proc = Proc(name, pin + ["nginx", "-c", str(cfg), "-p", str(run_dir)], run_dir)
        timeout = 10
    elif name == "haproxy":
        cfg = render(HERE / "haproxy.cfg", run_dir / "haproxy.cfg", common)
        proc = Proc(name, pin + ["haproxy", "-f", str(cfg), "-db"], run_dir)
        timeout = 10
    elif name == "yarp":
        dll = REPO / "out" / "yarp-peer" / "yarp-peer.dll"
        if not dll.exists():
            return None, f"{dll.relative_to(REPO)} not found (publish failed or skipped)"
        proc = Proc(name, pin + ["dotnet", str(dll), "--port", str(t.h1_port), "--h2c-port", str(t.h2c_port),
                                 "--backend", f"http://127.0.0.1:{BACKEND_PORT}"], run_dir, env)
        timeout = 30
    else:
        raise ValueError(name)
    why = wait_ready(proc, f"http://127.0.0.1:{t.h1_port}/", timeout)
    if why:
        proc.stop()
        return None, why
    return proc, None


def start_backend(run_dir: Path, cpu: int) -> Proc:
    www = run_dir / "www"
    www.mkdir(exist_ok=True)
    (www / "64k").write_bytes(bytes((i * 31 + 7) % 251 for i in range(65536)))
    body = "x" * 127 + "\\n"  # 127 characters and the newline nginx unescapes: 128 bytes
    cfg = render(HERE / "backend.nginx.conf", run_dir / "backend.nginx.conf",
                 {"RUN": str(run_dir), "PORT": str(BACKEND_PORT), "H2C_PORT": str(BACKEND_H2C_PORT), "BODY128": body})
    for port in (BACKEND_PORT, BACKEND_H2C_PORT):
        if not port_free(port):
            raise RuntimeError(f"backend port {port} is already in use")
    proc = Proc("backend", ["taskset", "-c", str(cpu), "nginx", "-c", str(cfg), "-p", str(run_dir)], run_dir)
    why = wait_ready(proc, f"http://127.0.0.1:{BACKEND_PORT}/", 10)
    if why:
        proc.stop()
        raise RuntimeError(f"backend did not start: {why}")
    status, body_bytes = http_get(f"http://127.0.0.1:{BACKEND_PORT}/")
    if len(body_bytes) != 128:
        proc.stop()
        raise RuntimeError(f"backend body is {len(body_bytes)} bytes, expected 128")
    return proc


# ----------------------------------------------------------------------------------------------
# One scenario on one target


def run_scenario(sc: Scenario, t: Target, proc: Proc, runner: Runner, seconds: float, args,
                 keepalive_max: dict[str, float]) -> dict:
    h1 = f"http://127.0.0.1:{t.h1_port}/"
    h2c = f"http://127.0.0.1:{t.h2c_port}/"
    reset_peak_rss(proc.pid)
    m0 = read_metrics(t.metrics_url)
    user0, sys0 = cpu_times(proc.pid)
    cpu0 = user0 + sys0
    backend0 = cpu_seconds(runner.backend_pid) if runner.backend_pid else 0.0
    extra: dict = {}
    if sc.name == "h1-keepalive-get":
        r = runner.wrk(h1, seconds, 64)
    elif sc.name == "h1-64k-body":
        r = runner.wrk(h1 + "64k", seconds, 16, body_bytes=65536)
    elif sc.name == "h2c-multiplexed":
        r = runner.h2load(h2c, seconds, 16, 10)
    elif sc.name == "h1-new-connection-per-request":
        r = runner.wrk(h1, seconds, 16, close=True)
    elif sc.name == "fixed-rate":
        rate = fixed_rate(t.name, args, keepalive_max)
        clients = 32
        r = runner.h2load(h1, seconds, clients, 1, h1=True, rps_per_client=rate / clients)
        extra = {"target_rps": round(rate)}
    elif sc.name == "idle-connections":
        rss_before = status_kib(proc.pid, "VmRSS")

        def sample():
            return {"rss_before_kib": rss_before, "rss_after_kib": status_kib(proc.pid, "VmRSS")}

        r = runner.idle(t.h1_port, args.idle_connections, sample)
        opened = max(1, r["opened"])
        r["rss_per_connection_bytes"] = round((r["rss_after_kib"] - r["rss_before_kib"]) * 1024 / opened)
        r["requests"] = r["opened"]
        r["errors"] = {"failed to open": r["failed"]} if r["failed"] else {}
    else:
        raise ValueError(sc.name)
    user1, sys1 = cpu_times(proc.pid)
    cpu1 = user1 + sys1
    backend1 = cpu_seconds(runner.backend_pid) if runner.backend_pid else 0.0
    m1 = read_metrics(t.metrics_url)
    r.update(extra)
    r["proxy_cpu_s"] = round(cpu1 - cpu0, 3)
    requests = r.get("requests") or 0
    r["cpu_us_per_request"] = round((cpu1 - cpu0) * 1e6 / requests, 1) if requests else None
    if requests:
        # The kernel share is mostly the TCP work of the four socket operations every proxy makes per
        # request (on loopback a send also runs the receiver's side); the user share is the proxy's own code.
        r["cpu_user_us_per_request"] = round((user1 - user0) * 1e6 / requests, 1)
        r["cpu_kernel_us_per_request"] = round((sys1 - sys0) * 1e6 / requests, 1)
    r["peak_rss_kib"] = status_kib(proc.pid, "VmHWM")
    if runner.backend_pid and runner.backend_pid != proc.pid and requests:
        # Shows how busy the shared CPU was: the backend's share of CPU 1 per request.
        r["backend_cpu_us_per_request"] = round((backend1 - backend0) * 1e6 / requests, 1)
    if "alloc" in m0 and "alloc" in m1 and requests:
        r["alloc_bytes_per_request"] = round((m1["alloc"] - m0["alloc"]) / requests, 1)
    for gen in ("gen0", "gen1", "gen2"):
        if gen in m0 and gen in m1:
            r[gen] = int(m1[gen] - m0[gen])
    return r


DOTNET_TARGETS = {"fastgate", "yarp"}


# Proxies whose maximum is far below the others' run at half their own maximum: at the common rate they
# would only queue (an open model), and their latency would say nothing but that.
OWN_RATE_TARGETS = {"yarp"}


def fixed_rate(name: str, args, keepalive_max: dict[str, float]) -> float:
    """The fixed-rate scenario's rate: --rate when given; else one rate for all the proxies, half of the
    lowest h1-keepalive-get maximum among them in the first round, kept for every round (p99 at one given
    rate is what compares, and a row may come from any round), and half of its own maximum for `direct`
    and the targets in OWN_RATE_TARGETS."""
    if args.rate:
        return float(args.rate)
    if name not in keepalive_max:
        raise RuntimeError("needs h1-keepalive-get in the same run, or --rate")
    if name == "direct" or name in OWN_RATE_TARGETS:
        return keepalive_max[name] / 2
    if args.common_rate is None:
        common = [v for k, v in keepalive_max.items() if k != "direct" and k not in OWN_RATE_TARGETS]
        args.common_rate = min(common) / 2
    return args.common_rate


def warm_up(t: Target, runner: Runner, scenarios: list[str], seconds: float) -> None:
    h1 = f"http://127.0.0.1:{t.h1_port}/"
    if t.name in DOTNET_TARGETS:
        # Tiered compilation promotes hot methods after ~30 calls plus a background JIT delay, and
        # dynamic PGO instruments first: give the .NET targets longer so tier-1 code is measured. Three
        # times the base was not enough for the HTTP/2 path: after 3 s of h2load, FastGate's first h2c
        # window read 30.0 us per request and the next 23.9; after 9 s, 21.9 and 18.9
        # (perf-results/2026-11-27_request-path.md).
        seconds *= 9
    runner.wrk(h1, seconds * 2, 64)
    if "h1-64k-body" in scenarios:
        runner.wrk(h1 + "64k", seconds, 16, body_bytes=65536)
    if "h2c-multiplexed" in scenarios:
        runner.h2load(f"http://127.0.0.1:{t.h2c_port}/", seconds, 16, 10)
    if "fixed-rate" in scenarios:
        # The fixed-rate client (h2load over HTTP/1.1, 32 connections) sends other fields than wrk: the
        # code its requests reach is compiled before it is measured (a JIT at work would be measured too).
        runner.h2load(h1, seconds * 2, 32, 1, h1=True)
    if t.name in DOTNET_TARGETS:
        # Every measured window opens and closes its own connections, and those paths run only 64 times
        # per window: without churn here, the JIT was still taking them through tiered PGO's stages in
        # the first windows (about 300 methods per 6 s window, 120 ms of the proxy's core), and the
        # keep-alive p99 read 6-15 ms against nginx's 7; after 20 one-second wrk runs, 3.2-3.7 ms against
        # nginx's 3.0-7.7 (perf-results/2026-11-27_keepalive-tail.md). A gateway in service is past this.
        for _ in range(20):
            runner.wrk(h1, 1, 64)
        if "h2c-multiplexed" in scenarios:
            for _ in range(10):
                runner.h2load(f"http://127.0.0.1:{t.h2c_port}/", 1, 16, 10)


# ----------------------------------------------------------------------------------------------
# Reports


def machine() -> dict:
    info = {"cpu": platform.processor() or "unknown", "cores": os.cpu_count(), "kernel": platform.release()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        m = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if m:
            info["cpu"] = m.group(1).strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def tool_versions() -> dict:
    def first_line(argv):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return ((p.stdout or "") + (p.stderr or "")).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "missing"
    return {"nginx": first_line(["nginx", "-v"]), "haproxy": first_line(["haproxy", "-v"]),
            "wrk": first_line(["wrk", "-v"]), "h2load": first_line(["h2load", "--version"]),
            "dotnet": first_line(["dotnet", "--version"])}


def fmt_ms(us) -> str:
    return "-" if us is None else f"{us / 1000:.2f}"


def fmt_num(v, digits=0) -> str:
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def fmt_errors(e: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in e.items()) if e else "0"


def each_round(r: dict, digits: int, key: str = "rounds", scale: float = 1.0) -> str:
    """A row's figure of merit (or the figure under `key`) in every round, in round order ("-" for a round
    that failed, or for a figure an older report did not keep)."""
    return " / ".join(fmt_num(v / scale, digits) if v is not None else "-" for v in r.get(key, [])) or "-"


def markdown(report: dict) -> str:
    h = report["header"]
    lines = [f"# FastGate load comparison — {h['date']}", "",
             f"- machine: {h['machine']['cpu']}, {h['machine']['cores']} cores, Linux {h['machine']['kernel']}",
             f"- commit: `{h['commit']}`",
             f"- pinning: proxy on CPU {h['proxy_cpu']}; backend (nginx, 1 worker) and load generator on CPU {h['load_cpu']}",
             f"- duration per scenario: {h['duration_s']:g} s (after {h['warmup_s']:g} s warm-up per scenario kind)",
             f"- tools: {', '.join(f'{k} `{v}`' for k, v in h['tools'].items())}"]
    many = h.get("rounds", 1) > 1
    if many:
        lines.append(f"- rounds: {h['rounds']}, the targets interleaved in each round; each row is the round with the "
                     "median proxy CPU per request (RSS per connection for the idle fleet), whose figures for "
                     "every round are in the last columns, with every round's req/s (p99 for the fixed-rate run)")
    lines.append("")
    for name, why in report["skipped"].items():
        lines.append(f"- **{name} skipped**: {why.splitlines()[0]}")
    if report["skipped"]:
        lines.append("")
    targets = [t for t in report["targets"] if t not in report["skipped"]]
    for sc in report["scenarios"]:
        s = SCENARIO_BY_NAME[sc]
        lines += [f"## {sc}", "", f"{s.models[0].upper()}{s.models[1:]}. Load shape: {s.shape}.", ""]
        rows = [(t, report["results"].get(t, {}).get(sc)) for t in targets]
        if sc == "idle-connections":
            lines += ["| target | opened | failed | RSS before MiB | RSS after MiB | RSS per connection (bytes) | CPU s |"
                      + (" each round |" if many else ""),
                      "|---|---:|---:|---:|---:|---:|---:|" + ("---|" if many else "")]
            for t, r in rows:
                if r is None or "error" in r:
                    lines.append(f"| {t} | {(r or {}).get('error', 'not run')} | | | | | |" + (" |" if many else ""))
                    continue
                lines.append(f"| {t} | {r['opened']:,} | {r['failed']:,} | {r['rss_before_kib'] / 1024:.1f} | "
                             f"{r['rss_after_kib'] / 1024:.1f} | {r['rss_per_connection_bytes']:,} | {r['proxy_cpu_s']} |"
                             + (f" {each_round(r, 0)} |" if many else ""))
        else:
            rate_col = sc == "fixed-rate"
            head = "| target |" + (" target req/s |" if rate_col else "") + \
                " req/s | p50 ms | p90 ms | p99 ms | max ms | errors | proxy CPU µs/req | user / kernel µs/req | peak RSS MiB |" + \
                " alloc B/req | GC 0/1/2 |" + (" CPU µs/req, each round |" if many else "") + \
                ((" p99 ms, each round |" if rate_col else " req/s, each round |") if many else "")
            lines += [head, "|---|" + ("---:|" if rate_col else "") + "---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"
                      + ("---|---|" if many else "")]
            for t, r in rows:
                if r is None or "error" in r:
                    lines.append(f"| {t} | {(r or {}).get('error', 'not run')} |" + " |" * (11 + rate_col + 2 * many))
                    continue
                split = (f"{r['cpu_user_us_per_request']:.1f} / {r['cpu_kernel_us_per_request']:.1f}"
                         if "cpu_user_us_per_request" in r else "-")
                gc = "/".join(str(r[g]) for g in ("gen0", "gen1", "gen2")) if "gen0" in r else "-"
                lines.append(
                    f"| {t} |" + (f" {r.get('target_rps', 0):,} |" if rate_col else "") +
                    f" {fmt_num(r['rps'])} | {fmt_ms(r['p50_us'])} | {fmt_ms(r['p90_us'])} | {fmt_ms(r['p99_us'])} |"
                    f" {fmt_ms(r['max_us'])} | {fmt_errors(r['errors'])} | {fmt_num(r['cpu_us_per_request'], 1)} | {split} |"
                    f" {r['peak_rss_kib'] / 1024:.1f} | {fmt_num(r.get('alloc_bytes_per_request'), 1)} | {gc} |"
                    + (f" {each_round(r, 1)} |" if many else "")
                    + ((f" {each_round(r, 2, 'rounds_p99_us', 1000)} |" if rate_col else f" {each_round(r, 0, 'rounds_rps')} |")
                       if many else ""))
        lines.append("")
    lines += ["## Targets", ""] + [f"- **{t}**: {TARGETS[t].note}" for t in report["targets"]] + [""]
    lines += ["Proxy CPU µs/req is the proxy's own utime+stime (all its processes) over the scenario divided by "
              "the requests completed; for `direct` it is the backend's. At high rates CPU 1 (backend + load "
              "generator) saturates too, so CPU per request is the cleaner figure of merit. It splits into user "
              "time (the proxy's own code) and kernel time (mostly the TCP work of its socket calls: on loopback "
              "a send also runs the receiving side's TCP processing and wake-up).", ""]
    return "\n".join(lines)


PALETTE = {"direct": "#9e9e9e", "fastgate": "#d62728", "nginx": "#2ca02c", "haproxy": "#1f77b4", "yarp": "#9467bd"}


def svg_chart(report: dict) -> str:
    """Two grouped bar charts (requests/s, proxy CPU µs per request), one group per scenario."""
    targets = [t for t in report["targets"] if t not in report["skipped"]]
    closed = [s for s in report["scenarios"] if s in THROUGHPUT]
    timed = [s for s in report["scenarios"] if s in THROUGHPUT or s == "fixed-rate"]
    # The fixed-rate run's throughput is its target rate, not a capacity: it is left out of that panel.
    panels = [("requests/s (higher is better)", "rps", lambda v: f"{v / 1000:.1f}k", closed),
              ("proxy CPU µs per request (lower is better)", "cpu_us_per_request", lambda v: f"{v:.0f}", timed),
              ("p99 latency ms (lower is better)", "p99_us", lambda v: f"{v / 1000:.1f}", timed)]
    width, panel_h, top, left, right = 960, 250, 70, 70, 20
    plot_w = width - left - right
    height = top + len(panels) * (panel_h + 60) + 10
    h = report["header"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="15" font-weight="bold">FastGate vs peers — {esc(h["date"])}, '
           f'commit {esc(h["commit"])}</text>',
           f'<text x="{left}" y="40" fill="#555">{esc(h["machine"]["cpu"])}, {h["machine"]["cores"]} cores; '
           f'proxy pinned to CPU {h["proxy_cpu"]}, backend + load generator on CPU {h["load_cpu"]}; '
           f'{h["duration_s"]:g} s per scenario</text>']
    lx = left
    for t in targets:
        out.append(f'<rect x="{lx}" y="50" width="12" height="12" fill="{PALETTE.get(t, "#444")}"/>'
                   f'<text x="{lx + 16}" y="60">{esc(t)}</text>')
        lx += 24 + 7 * len(t) + 20
    for pi, (title, key, label, scen) in enumerate(panels):
        y0 = top + pi * (panel_h + 60) + 20
        values = [[(report["results"].get(t, {}).get(s) or {}).get(key) for t in targets] for s in scen]
        vmax = max([v for row in values for v in row if isinstance(v, (int, float))] or [1])
        vmax = nice_ceiling(vmax)
        out.append(f'<text x="{left}" y="{y0 - 6}" font-size="13" font-weight="bold">{esc(title)}</text>')
        for g in range(5):
            gy = y0 + panel_h - panel_h * g / 4
            out.append(f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" stroke="#e0e0e0"/>')
            out.append(f'<text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" fill="#555">{label(vmax * g / 4)}</text>')
        group_w = plot_w / max(1, len(scen))
        bar_w = min(40.0, (group_w - 20) / max(1, len(targets)))
        for si, s in enumerate(scen):
            gx = left + si * group_w + (group_w - bar_w * len(targets)) / 2
            for ti, t in enumerate(targets):
                v = values[si][ti]
                x = gx + ti * bar_w
                if not isinstance(v, (int, float)):
                    out.append(f'<text x="{x + bar_w / 2:.1f}" y="{y0 + panel_h - 4}" text-anchor="middle" '
                               f'fill="#999">n/a</text>')
                    continue
                bh = panel_h * v / vmax
                out.append(f'<rect x="{x:.1f}" y="{y0 + panel_h - bh:.1f}" width="{bar_w - 2:.1f}" height="{bh:.1f}" '
                           f'fill="{PALETTE.get(t, "#444")}"><title>{esc(t)} {esc(s)}: {v}</title></rect>')
                out.append(f'<text x="{x + bar_w / 2 - 1:.1f}" y="{y0 + panel_h - bh - 3:.1f}" text-anchor="middle" '
                           f'font-size="9">{label(v)}</text>')
            out.append(f'<text x="{left + si * group_w + group_w / 2:.1f}" y="{y0 + panel_h + 16}" '
                       f'text-anchor="middle">{esc(s)}</text>')
        out.append(f'<line x1="{left}" y1="{y0 + panel_h}" x2="{width - right}" y2="{y0 + panel_h}" stroke="#333"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def nice_ceiling(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** (len(str(int(v))) - 1)
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * exp >= v:
            return step * exp
    return 10 * exp


def esc(s) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slug(s: str) -> str:
    s = re.sub(r"\(r\)|\(tm\)|cpu|processor|@.*$", "", s, flags=re.I)
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")[:40] or "unknown"


# ----------------------------------------------------------------------------------------------


def parse_seconds(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)\s*(ms|s|m)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (e.g. 10s, 500ms, 1m)")
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "ms" else v * 60 if m.group(2) == "m" else v


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=parse_seconds, default=10.0, help="per scenario (default 10s)")
    ap.add_argument("--warmup", type=parse_seconds, default=1.0, help="warm-up per scenario kind (default 1s)")
    ap.add_argument("--targets", default="direct,fastgate,nginx,haproxy,yarp")
    ap.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS))
    ap.add_argument("--idle-connections", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=None,
                    help="fixed-rate requests/s for every target (default: one rate for the proxies, half of the lowest "
                         "h1-keepalive-get maximum among them in the first round; direct and YARP at half their own)")
    ap.set_defaults(common_rate=None)
    ap.add_argument("--nginx-keepalive", type=int, default=256,
                    help="nginx upstream keepalive connections (default 256, the pool size of FastGate and YARP)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every target through every scenario this many times, targets interleaved in each round; "
                         "each row is then the round with the median proxy CPU per request (default 1)")
    ap.add_argument("--proxy-cpu", type=int, default=0)
    ap.add_argument("--load-cpu", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "perf-results"))
    ap.add_argument("--no-publish", action="store_true", help="use out/fastgate and out/yarp-peer as they are")
    ap.add_argument("--list", action="store_true", help="list the scenarios and targets, then exit")
    ap.add_argument("--render", metavar="JSON", help="rewrite the .md and .svg of an earlier run's .json, then exit")
    args = ap.parse_args()

    if args.render:
        src = Path(args.render)
        report = json.loads(src.read_text())
        src.with_suffix(".md").write_text(markdown(report))
        src.with_suffix(".svg").write_text(svg_chart(report))
        print(f"wrote {src.with_suffix('.md')} and {src.with_suffix('.svg')}")
        return 0

    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:32} {s.shape}")
        print("targets: " + ", ".join(TARGETS))
        return 0

    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for t in targets:
        if t not in TARGETS:
            ap.error(f"unknown target {t!r}; known: {', '.join(TARGETS)}")
    for s in scenarios:
        if s not in SCENARIO_BY_NAME:
            ap.error(f"unknown scenario {s!r}; known: {', '.join(SCENARIO_BY_NAME)}")
    scenarios = [s.name for s in SCENARIOS if s.name in scenarios]  # fixed order: fixed-rate after its input

    missing = [tool for tool in ("taskset", "wrk", "h2load", "nginx") if not shutil.which(tool)]
    if missing:
        print(f"missing tools: {', '.join(missing)} — run scripts/setup.sh load", file=sys.stderr)
        return 1
    if (os.cpu_count() or 1) < 2:
        args.proxy_cpu = args.load_cpu = 0
        print("warning: one CPU only; proxy, backend and load generator share it", file=sys.stderr)

    # 10,000 idle connections need descriptors on both sides; children inherit the limit.
    need = args.idle_connections + 4096
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need, 65536), max(hard, need, 65536)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    skipped: dict[str, str] = {}
    if "haproxy" in targets and not shutil.which("haproxy"):
        skipped["haproxy"] = "haproxy is not installed (scripts/setup.sh load)"
    if not args.no_publish:
        print("publishing", flush=True)
        if "fastgate" in targets:
            why = publish("src/FastGate/FastGate.csproj", REPO / "out" / "fastgate")
            if why:
                skipped["fastgate"] = why
        if "yarp" in targets:
            why = publish("bench/peers/yarp/YarpPeer.csproj", REPO / "out" / "yarp-peer")
            if why:
                skipped["yarp"] = why

    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    if dirty:
        commit += "-dirty"
    now = dt.datetime.now()
    report = {
        "header": {"date": now.strftime("%Y-%m-%d %H:%M"), "commit": commit, "machine": machine(),
                   "tools": tool_versions(), "duration_s": args.duration, "warmup_s": args.warmup,
                   "proxy_cpu": args.proxy_cpu, "load_cpu": args.load_cpu, "idle_connections": args.idle_connections,
                   "nginx_keepalive": args.nginx_keepalive, "rounds": max(1, args.rounds)},
        "targets": targets, "scenarios": scenarios, "skipped": skipped, "results": {},
    }

    run_dir = Path(tempfile.mkdtemp(prefix="fastgate-load-"))
    run_dir.chmod(0o755)  # nginx workers run as nobody and serve www/64k from here
    print(f"run directory (configs, logs): {run_dir}", flush=True)
    runner = Runner(args, run_dir)
    backend = start_backend(run_dir, args.load_cpu)
    runner.backend_pid = backend.pid
    keepalive_max: dict[str, float] = {}
    # Every round's result per target and scenario. The VM's speed drifts over minutes (one build's CPU per
    # request spans 30-42 µs across runs), so with several rounds each target is measured at several times,
    # interleaved with the others, instead of all its scenarios in one stretch.
    rounds: dict[str, dict[str, list[dict]]] = {}
    try:
        for rnd in range(max(1, args.rounds)):
            if args.rounds > 1:
                print(f"== round {rnd + 1} of {args.rounds}", flush=True)
            # Two passes: every scenario but fixed-rate, then fixed-rate, so that its one common rate can be
            # set from every target's h1-keepalive-get maximum of this round.
            closed = [sc for sc in scenarios if sc != "fixed-rate"]
            for pass_scenarios in (closed, ["fixed-rate"] if "fixed-rate" in scenarios else []):
                if not pass_scenarios:
                    continue
                for name in targets:
                    if name in skipped:
                        print(f"[{name}] skipped: {skipped[name]}", flush=True)
                        continue
                    results = run_target(name, pass_scenarios, args, run_dir, backend, runner, keepalive_max, skipped)
                    for sc, r in results.items():
                        rounds.setdefault(name, {}).setdefault(sc, []).append(r)
    finally:
        backend.stop()
    for name, by_scenario in rounds.items():
        for sc, runs in by_scenario.items():
            report["results"].setdefault(name, {})[sc] = median_round(sc, runs)

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    m = report["header"]["machine"]
    stem = f"{now:%Y-%m-%d_%H%M}_{slug(m['cpu'])}-{m['cores']}c_{commit}"
    (out_dir / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / f"{stem}.md").write_text(markdown(report))
    (out_dir / f"{stem}.svg").write_text(svg_chart(report))
    print(f"\nwrote {out_dir / stem}.{{md,json,svg}}\n")
    print(markdown(report))
    return 0


def run_target(name: str, scenarios: list[str], args, run_dir: Path, backend: "Proc", runner: "Runner",
               keepalive_max: dict[str, float], skipped: dict[str, str]) -> dict[str, dict]:
    """Starts one target, warms it up, runs the scenarios on it and stops it; its results by scenario."""
    print(f"[{name}] starting", flush=True)
    proc, why = start_target(name, args, run_dir, args.proxy_cpu, backend)
    if why:
        skipped[name] = why
        print(f"[{name}] skipped: {why}", flush=True)
        return {}
    t = TARGETS[name]
    results: dict[str, dict] = {}
    try:
        try:
            warm_up(t, runner, scenarios, args.warmup)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print(f"[{name}] warm-up problem: {e}", flush=True)
        for sc in scenarios:
            if not proc.alive():
                results[sc] = {"error": f"process exited ({proc.popen.returncode})"}
                print(f"[{name}] {sc}: process exited\n{proc.log_tail()}", flush=True)
                continue
            if sc == "idle-connections" and name != "direct":
                # A fresh, warmed process: the scenarios before grew the heap of the runtimes that have one,
                # and an idle fleet would then reuse that memory and hide its own cost (the same
                # FastGate build showed 66 B per connection after them, 4.3 KB alone;
                # perf-results/2026-11-26_idle-connections.md).
                proc.stop()
                proc, why = start_target(name, args, run_dir, args.proxy_cpu, backend)
                if why:
                    results[sc] = {"error": f"restart: {why}"}
                    print(f"[{name}] {sc}: restart failed: {why}", flush=True)
                    proc = None
                    break
                # Warmed as a gateway in service is (its code compiled), as when run alone.
                warm_up(t, runner, [sc], args.warmup)
            time.sleep(1.0)
            try:
                r = run_scenario(SCENARIO_BY_NAME[sc], t, proc, runner, args.duration, args, keepalive_max)
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
                results[sc] = {"error": str(e).splitlines()[0][:120]}
                print(f"[{name}] {sc}: {e}", flush=True)
                continue
            results[sc] = r
            if sc == "h1-keepalive-get":
                keepalive_max[name] = r["rps"]
            print(f"[{name}] {summary_line(sc, r)}", flush=True)
    finally:
        if name != "direct" and proc is not None:
            proc.stop()
    return results


def median_round(sc: str, runs: list[dict]) -> dict:
    """The round with the median figure of merit (proxy CPU per request; RSS per connection for the idle
    fleet), whole, so that a row's numbers come from one run; with its rounds' figures when there were several."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[-1]
    key = "rss_per_connection_bytes" if sc == "idle-connections" else "cpu_us_per_request"
    ordered = sorted(good, key=lambda r: r.get(key) or 0)
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    if len(runs) > 1:
        chosen["rounds"] = [r.get(key) if "error" not in r else None for r in runs]
        if sc != "idle-connections":
            # Throughput and the tail move more between rounds than CPU per request does: every round's
            # figure is kept, so a reader sees whether a lead holds in each round or only in one.
            chosen["rounds_rps"] = [r.get("rps") if "error" not in r else None for r in runs]
            chosen["rounds_p99_us"] = [r.get("p99_us") if "error" not in r else None for r in runs]
    return chosen


def summary_line(sc: str, r: dict) -> str:
    if sc == "idle-connections":
        return (f"{sc}: {r['opened']} open ({r['failed']} failed), "
                f"{r['rss_per_connection_bytes']} B RSS per connection")
    extra = f" at target {r['target_rps']}/s" if "target_rps" in r else ""
    alloc = f", {r['alloc_bytes_per_request']} B alloc/req" if "alloc_bytes_per_request" in r else ""
    return (f"{sc}{extra}: {r['rps']:,.0f} req/s, p50 {fmt_ms(r['p50_us'])} p99 {fmt_ms(r['p99_us'])} "
            f"max {fmt_ms(r['max_us'])} ms, errors {fmt_errors(r['errors'])}, "
            f"{r['cpu_us_per_request']} µs CPU/req, peak RSS {r['peak_rss_kib'] / 1024:.1f} MiB{alloc}")


if __name__ == "__main__":
    sys.exit(main())
