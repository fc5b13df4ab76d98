#!/usr/bin/env python3
"""Benchmark driver (run through test/bench/run-benchmarks.sh, which builds the
binaries and starts the two loopback Swift clusters first).

Prepares the data (cached between runs by marker objects), starts the
connectors, nginx and a slow-backend proxy, runs every scenario through a
connector and straight at the backend that holds the data, one right after
the other, and prints a table of ratios. Raw results go to
$BENCH_WORKDIR/results.json, the table to $BENCH_WORKDIR/results.md.
See docs/benchmarks.md.

Environment:
  BENCH_SECONDS            seconds per measurement (default 12)
  BENCH_ROUNDS             each measurement is split into this many rounds, alternating connector and
                           reference (A B B A ...), to spread drifting load evenly (default 4)
  BENCH_CONCURRENCY        connections for the small-object scenarios (default 8)
  BENCH_STREAM_CONCURRENCY connections for 256 MiB GET / 64 MiB PUT (default 2)
  BENCH_LIST_CONCURRENCY   connections for the listing scenario (default 2)
  BENCH_SLOW_CONNECTIONS   connections of the slow-backend run (default 256)
  BENCH_SLOW_DELAY         seconds the slow proxy holds each request (default 0.05)
  BENCH_ONLY               comma-separated scenario ids to run (1,2,3,4,5,6,7,slow); default all
  BENCH_BUILD_DIR          where cloud-connector and cc-bench are (default build-bench)
  BENCH_WORKDIR            scratch directory, recreated each run (default /tmp/cc-bench-run)
  BENCH_LOG_LEVEL          the connectors' log_level (default info: one access line per request)
  BENCH_PLACEMENT          comma-separated CPU placements to run every scenario in (default
                           "shared,split"): "shared" lets every process use every CPU; "split" gives
                           the backend that holds the data CPU 0 to itself and puts everything else
                           (load generator, connector, the other backend, proxies) on the others, as
                           in a deployment where the backends are other machines (docs/benchmarks.md)
  BENCH_PROFILE=1          record a perf (cpu-clock) profile of the connector during each of its
                           measurements: $BENCH_WORKDIR/profile-<run>.txt (the numbers of such a run
                           carry the profiler's overhead: don't use them for the table)
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import boto3
import botocore
import requests
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BENCH_BUILD_DIR", ROOT / "build-bench"))
CONNECTOR_BIN = BUILD / "cloud-connector"
BENCH_BIN = BUILD / "cc-bench"
WORK = Path(os.environ.get("BENCH_WORKDIR", "/tmp/cc-bench-run"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "12"))
CONC = int(os.environ.get("BENCH_CONCURRENCY", "8"))
STREAM_CONC = int(os.environ.get("BENCH_STREAM_CONCURRENCY", "2"))
LIST_CONC = int(os.environ.get("BENCH_LIST_CONCURRENCY", "2"))
SLOW_CONNS = int(os.environ.get("BENCH_SLOW_CONNECTIONS", "256"))
SLOW_DELAY = float(os.environ.get("BENCH_SLOW_DELAY", "0.05"))
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "info")
ROUNDS = max(1, int(os.environ.get("BENCH_ROUNDS", "4")))
PROFILE = bool(os.environ.get("BENCH_PROFILE"))
INDEX_TIMEOUT = float(os.environ.get("BENCH_INDEX_TIMEOUT", "900"))
PLACEMENTS = [p for p in os.environ.get("BENCH_PLACEMENT", "shared,split").split(",") if p]
BACKENDS_DIR = os.environ.get("CC_BACKENDS_DIR", "/tmp/cc-backends")

REMOTE_URL = f"http://127.0.0.1:{os.environ.get('CC_REMOTE_PORT', '8080')}"
LOCAL_URL = f"http://127.0.0.1:{os.environ.get('CC_LOCAL_PORT', '8090')}"
AK, SK, REGION = "test:tester", "testing", "us-east-1"
ACCOUNT = "AUTH_test"
BUCKET = "ccbench"              # the connector's bucket = the on-prem container
CLOUD_BUCKET = "ccbench-cloud"  # the cloud bucket it maps to
LIST_KEYS = 100_000             # split evenly: even indexes local, odd remote
SETUP_VERSION = "v1"

SMALL_LOCAL = "small/4k-local"
SMALL_REMOTE = "small/4k-remote"
BIG_LOCAL = "big/256m-local"
SMALL = 4096
BIG = 256 << 20
PUT_BIG = 64 << 20


def want(sid):
    return not ONLY or sid in ONLY


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_client(endpoint):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=AK, aws_secret_access_key=SK, region_name=REGION,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                      retries={"total_max_attempts": 3, "mode": "standard"}, read_timeout=300))


def hash_prefix(account, container):
    return hex(int(hashlib.md5(f"{account}/{container}".encode()).hexdigest(), 16) % 16**6)[2:]


def local_name(key):
    """The 1space name of the connector's key in the cloud bucket."""
    return f"{hash_prefix(ACCOUNT, BUCKET)}/{ACCOUNT}/{BUCKET}/{key}"


# ---------------------------------------------------------------- processes

def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                out[name] = int(value.split()[0]) / 1024.0     # MiB
            elif name == "Threads":
                out[name] = int(value)
    return out


# ---------------------------------------------------------------- CPU placement

ALL_CPUS = frozenset(os.sched_getaffinity(0))
CLIENT_CPUS = ALL_CPUS          # where the next cc-bench runs (set by place())


def cluster_pids(name):
    """Every process of the loopback Swift cluster `name` (they carry its marker in their environment)."""
    marker = f"CC_SWIFT_CLUSTER_DIR={BACKENDS_DIR}/{name}".encode()
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/environ", "rb") as f:
                if marker in f.read().split(b"\0"):
                    pids.append(int(d))
        except OSError:
            pass
    return pids


def process_tree(pid):
    """pid and its descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def set_cpus(pids, cpus):
    """Every thread of every process: threads started later inherit it."""
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError:
                pass


class Placement:
    """Which processes may run on which CPUs during a measurement.

    shared: all of them everywhere (what the machine gives: the connector's CPU is taken from the
    backends'). split: the process group that serves the reference side, `holder` ("local" = the
    cloud-store cluster, "remote" = the on-prem cluster, "servers" = the connectors and nginx), gets
    CPU 0 alone; everything else shares the other CPUs. Through the connector and straight at the
    backend, the backend then has the same CPU, as when it runs on its own machine."""

    def __init__(self, name, groups):
        self.name = name
        self.groups = groups      # role -> callable returning pids

    def place(self, holder):
        global CLIENT_CPUS
        if self.name == "shared" or len(ALL_CPUS) < 2:
            own, rest = ALL_CPUS, ALL_CPUS
        else:
            first = min(ALL_CPUS)
            own, rest = frozenset({first}), ALL_CPUS - {first}
        for role, pids in self.groups.items():
            set_cpus(pids(), own if role in HOLDER_ROLES[holder] else rest)
        CLIENT_CPUS = rest if self.name != "shared" else ALL_CPUS

    def release(self):
        global CLIENT_CPUS
        for pids in self.groups.values():
            set_cpus(pids(), ALL_CPUS)
        CLIENT_CPUS = ALL_CPUS


HOLDER_ROLES = {"local": {"local"}, "remote": {"remote"}, "servers": {"connectors", "nginx"}}


class Sampler:
    """Samples VmRSS / Threads of a process every 50 ms in a thread."""

    def __init__(self, pid):
        self.pid = pid
        self.max_rss = 0.0
        self.max_threads = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                st = proc_status(self.pid)
                self.max_rss = max(self.max_rss, st.get("VmRSS", 0))
                self.max_threads = max(self.max_threads, st.get("Threads", 0))
            except OSError:
                pass
            self._stop.wait(0.05)

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


class Connector:
    def __init__(self, name, listing="live", swift_baseurl=REMOTE_URL, local_endpoint=LOCAL_URL, extra=""):
        self.name = name
        self.dir = WORK / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (self.dir / "s3-passwd.json").write_text(json.dumps([{"access_key": AK, "secret_key": SK, "account": ACCOUNT}]))
        if local_endpoint == "file":   # the embedded file store, in this connector's own directory
            local_endpoint = f"file://{self.dir / 'file-store'}"
        entry = {"account": ACCOUNT, "container": BUCKET, "aws_bucket": CLOUD_BUCKET, "aws_endpoint": local_endpoint,
                 "aws_identity": AK, "aws_secret": SK, "protocol": "s3"}
        (self.dir / "sync-config.json").write_text(json.dumps({"containers": [entry], "devices": "/srv/node"}))
        (self.dir / "cloud-connector.conf").write_text(f"""
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {self.port}
swift_baseurl = {swift_baseurl}
log_level = {LOG_LEVEL}

[app:proxy-server]
use = egg:swift#proxy
conf_file = sync-config.json

[filter:cloud-connector-auth]
s3_passwd_json = s3-passwd.json

[cloud-connector]
state_dir = {self.dir / 'state'}
reload_interval = 60
backend_connect_timeout = 5
backend_timeout = 60
listing = {listing}
# One refresh round at start (100 000 keys), none during the measurements.
index_refresh_interval = 3600
index_max_staleness = 7200
{extra}
""")
        self.proc = None

    def start(self):
        self.log = open(self.dir / "connector.log", "ab")
        self.proc = subprocess.Popen([str(CONNECTOR_BIN), "--config", str(self.dir / "cloud-connector.conf")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"connector {self.name} exited: " + (self.dir / "connector.log").read_text()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"connector {self.name} did not start")

    @property
    def pid(self):
        return self.proc.pid

    def metrics(self):
        return requests.get(self.url + "/metrics", timeout=10).text

    def refreshed(self):
        """True once the first index refresh round recorded the remote side (it runs after the local one)."""
        return re.search(r'cc_index_staleness_seconds\{[^}]*side="remote"', self.metrics()) is not None

    def settle(self, timeout):
        """Waits until no start-up work (an index refresh round, if this version runs one for this
        listing mode) is left: the round is recorded, or the process used no CPU for 3 s in a row."""
        deadline = time.time() + timeout
        quiet, last = 0, proc_cpu_seconds(self.pid)
        while time.time() < deadline:
            if self.refreshed():
                return
            time.sleep(1)
            now = proc_cpu_seconds(self.pid)
            quiet = quiet + 1 if now - last < 0.02 else 0
            last = now
            if quiet >= 3:
                return
        raise RuntimeError(f"connector {self.name} still busy after {timeout} s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()


class Nginx:
    """Debian's nginx serving WORK/www as static files on a loopback port."""

    def __init__(self):
        self.dir = WORK / "nginx"
        self.www = WORK / "www"
        for d in ("tmp",):
            (self.dir / d).mkdir(parents=True, exist_ok=True)
        self.www.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        t = self.dir / "tmp"
        (self.dir / "nginx.conf").write_text(f"""
daemon off;
worker_processes auto;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {t}/body; proxy_temp_path {t}/proxy; fastcgi_temp_path {t}/fastcgi;
    uwsgi_temp_path {t}/uwsgi; scgi_temp_path {t}/scgi;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    keepalive_timeout 65;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{self.port};
        root {self.www};
        location / {{ }}
    }}
}}
""")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["nginx", "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                                      "-e", str(self.dir / "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("nginx exited: " + (self.dir / "error.log").read_text()[-2000:])
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()      # the master stops its workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class DelayProxy:
    def __init__(self, target_url, delay):
        host, port = target_url.split("//")[1].split(":")
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("delay_proxy.py")), host, port,
                                      str(delay)], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "listening":
            raise RuntimeError("delay proxy did not start")
        self.url = f"http://127.0.0.1:{line[1]}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------- load

def cc_bench(endpoint, bucket, *args, pid=None, seconds=None, check=True, profile_name=None, latencies=None):
    """Runs cc-bench --json; with pid, adds the process's CPU seconds during the run."""
    cmd = [str(BENCH_BIN), "--json", "--endpoint", endpoint, "--bucket", bucket,
           "--access-key", AK, "--secret-key", SK, "--region", REGION]
    if latencies:
        cmd += ["--latencies-file", str(latencies)]
    if not any(a in ("-n", "--requests", "-d", "--duration") for a in args):
        cmd += ["--duration", str(seconds if seconds is not None else SECONDS)]
    cmd += [str(a) for a in args]
    cpu0 = proc_cpu_seconds(pid) if pid else None
    perf = None
    if PROFILE and pid and profile_name:
        # Sampling profile of the connector while it serves this load (software clock: no PMU needed).
        perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-p", str(pid),
                                 "-o", str(WORK / f"perf-{profile_name}.data")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    cpus = CLIENT_CPUS
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         preexec_fn=lambda: os.sched_setaffinity(0, cpus)).stdout
    if perf:
        perf.send_signal(signal.SIGINT)
        perf.wait(30)
        report = subprocess.run(["perf", "report", "-i", str(WORK / f"perf-{profile_name}.data"), "--stdio",
                                 "--no-children", "--sort", "dso,sym", "--percent-limit", "0.7"],
                                capture_output=True, text=True).stdout
        (WORK / f"profile-{profile_name}.txt").write_text(report)
        log(f"  profile: {WORK / f'profile-{profile_name}.txt'}")
    r = json.loads(out)
    if pid:
        r["cpu_s"] = proc_cpu_seconds(pid) - cpu0
        r["cpu_ms_per_req"] = 1000 * r["cpu_s"] / r["requests"] if r["requests"] else None
    r["cmd"] = " ".join(cmd[1:]).replace(SK, "$SECRET")
    if check and r["errors"]:
        log(f"WARNING: {r['errors']} errors: {r['error_sample']}")
    return r


def run(name, endpoint, bucket, *args, pid=None, profile=None):
    return {"name": name, "endpoint": endpoint, "bucket": bucket, "args": args, "pid": pid, "profile": profile}


def measure(*specs):
    """Runs the given loads in ROUNDS alternating rounds (A B, B A, ...) of SECONDS/ROUNDS each, so that
    drifting load from other users of the machine hits both sides alike; merges each load's rounds."""
    rounds = {sp["name"]: [] for sp in specs}
    lat = {sp["name"]: [] for sp in specs}
    for i in range(ROUNDS):
        for sp in (specs if i % 2 == 0 else tuple(reversed(specs))):
            f = WORK / f"lat-{sp['name'].replace('/', '-')}-{i}.txt"
            rounds[sp["name"]].append(cc_bench(sp["endpoint"], sp["bucket"], *sp["args"], pid=sp["pid"],
                                               seconds=SECONDS / ROUNDS, latencies=f,
                                               profile_name=sp["profile"] if i == 0 else None))
            lat[sp["name"]] += [int(x) for x in f.read_text().split()]
            f.unlink()
    out = {}
    for name, rs in rounds.items():
        m = {"rounds": len(rs), "cmd": rs[0]["cmd"]}
        for k in ("requests", "ok", "errors", "seconds", "bytes"):
            m[k] = sum(r[k] for r in rs)
        m["req_s"] = m["ok"] / m["seconds"] if m["seconds"] else 0
        m["mb_s"] = m["bytes"] / m["seconds"] / 1e6 if m["seconds"] else 0
        ls = sorted(lat[name])
        for key, q in (("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)):
            m[key] = ls[min(len(ls) - 1, int(q * (len(ls) - 1) + 0.5))] / 1000 if ls else 0
        m["max_ms"] = ls[-1] / 1000 if ls else 0
        for k in ("statuses", "captured"):
            m[k] = {}
            for r in rs:
                for kk, v in r[k].items():
                    m[k][kk] = m[k].get(kk, 0) + v
        m["error_sample"] = next((r["error_sample"] for r in rs if r["error_sample"]), "")
        if "cpu_s" in rs[0]:
            m["cpu_s"] = sum(r["cpu_s"] for r in rs)
            m["cpu_ms_per_req"] = 1000 * m["cpu_s"] / m["requests"] if m["requests"] else None
        out[name] = m
    return out


# ---------------------------------------------------------------- data

def ensure_bucket(client, bucket):
    try:
        client.create_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def count_keys(client, bucket, prefix):
    n = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix,
                                                                 PaginationConfig={"PageSize": 1000}):
        n += page.get("KeyCount", 0)
    return n


def has_object(client, bucket, key, size=None):
    try:
        h = client.head_object(Bucket=bucket, Key=key)
    except botocore.exceptions.ClientError:
        return False
    return size is None or h["ContentLength"] == size


def prepare_data(local, remote):
    ensure_bucket(local, CLOUD_BUCKET)
    ensure_bucket(remote, BUCKET)
    half = LIST_KEYS // 2
    marker = f"_bench/listing-keys-{SETUP_VERSION}-{LIST_KEYS}"
    sides = [  # (client, endpoint, bucket, key prefix of "list/", first index)
        (local, LOCAL_URL, CLOUD_BUCKET, local_name("list/"), 0),
        (remote, REMOTE_URL, BUCKET, "list/", 1),
    ]
    jobs = []
    for client, endpoint, bucket, prefix, start in sides:
        if not want("5"):                                   # only the listing scenario needs them
            break
        if has_object(client, bucket, marker):
            continue
        if count_keys(client, bucket, prefix) == half:      # uploaded before, marker missing
            client.put_object(Bucket=bucket, Key=marker, Body=json.dumps({"keys": half}).encode())
            continue
        log(f"uploading {half} listing keys to {endpoint}/{bucket}/{prefix} (cached afterwards)")
        cmd = [str(BENCH_BIN), "--json", "--endpoint", endpoint, "--bucket", bucket, "--access-key", AK,
               "--secret-key", SK, "--op", "put", "--size", "16", "--key-prefix", prefix, "--count", str(half),
               "--index-start", str(start), "--index-step", "2", "-c", "16", "-n", str(half)]
        jobs.append((client, bucket, prefix, subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)))
    for client, bucket, prefix, p in jobs:
        out, _ = p.communicate()
        r = json.loads(out)
        log(f"  {bucket}/{prefix}: {r['ok']} PUTs in {r['seconds']:.0f} s, {r['errors']} errors")
        n = count_keys(client, bucket, prefix)
        if n != half:
            raise RuntimeError(f"{bucket}/{prefix}: {n} keys after the upload, expected {half}")
        client.put_object(Bucket=bucket, Key=marker, Body=json.dumps({"keys": n}).encode())

    if not has_object(local, CLOUD_BUCKET, local_name(SMALL_LOCAL), SMALL):
        cc_bench(LOCAL_URL, CLOUD_BUCKET, "--op", "put", "--size", SMALL, "--key", local_name(SMALL_LOCAL), "-n", 1)
    if not has_object(remote, BUCKET, SMALL_REMOTE, SMALL):
        cc_bench(REMOTE_URL, BUCKET, "--op", "put", "--size", SMALL, "--key", SMALL_REMOTE, "-n", 1)
    local.delete_object(Bucket=CLOUD_BUCKET, Key=local_name(SMALL_REMOTE))   # a fallback needs a local miss
    if (want("3") or want("7")) and not has_object(local, CLOUD_BUCKET, local_name(BIG_LOCAL), BIG):
        log("uploading the 256 MiB object")
        cc_bench(LOCAL_URL, CLOUD_BUCKET, "--op", "put", "--size", BIG, "--key", local_name(BIG_LOCAL), "-n", 1)
    needed = [(local, CLOUD_BUCKET, local_name(SMALL_LOCAL)), (remote, BUCKET, SMALL_REMOTE)]
    if want("3") or want("7"):
        needed.append((local, CLOUD_BUCKET, local_name(BIG_LOCAL)))
    for client, bucket, key in needed:
        if not has_object(client, bucket, key):
            raise RuntimeError(f"setup failed: {bucket}/{key} missing")
    return local.get_object(Bucket=CLOUD_BUCKET, Key=local_name(SMALL_LOCAL))["Body"].read()


def wait_until(pred, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            if pred():
                return
        except Exception as e:     # noqa: BLE001 - keep polling until the deadline
            last = e
        time.sleep(2)
    raise RuntimeError(f"timed out waiting for {what}" + (f" (last error: {last})" if last else ""))


def wait_for_index(conn):
    """Until a listing comes from the index and the index holds all 100 000 keys."""
    s3 = s3_client(conn.url)
    t0 = time.time()

    def ready():
        r = s3.list_objects_v2(Bucket=BUCKET, Prefix="list/", MaxKeys=1)
        return r["ResponseMetadata"]["HTTPHeaders"].get("x-cc-listing-source") == "index"
    wait_until(ready, INDEX_TIMEOUT, "the index refresh")
    n = count_keys(s3, BUCKET, "list/")
    log(f"index ready after {time.time() - t0:.0f} s: {n} keys under list/")
    if n != LIST_KEYS:
        raise RuntimeError(f"the index lists {n} keys under list/, expected {LIST_KEYS}")
    return n


# ---------------------------------------------------------------- report

def fmt(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    return a / b if b else None


def row_pair(sid, name, c, d, metric, target, label_d="direct"):
    r = ratio(c[metric], d[metric])
    ok = None if target is None else (r is not None and r >= target)
    return {
        "id": sid, "scenario": name, "vs": label_d,
        "c_req_s": c["req_s"], "d_req_s": d["req_s"], "c_mb_s": c["mb_s"], "d_mb_s": d["mb_s"],
        "c_p50": c["p50_ms"], "d_p50": d["p50_ms"], "c_p99": c["p99_ms"], "d_p99": d["p99_ms"],
        "metric": metric, "ratio": r, "target": None if target is None else f">= {target}x {metric.replace('_', '/')}",
        "met": ok, "cpu": c.get("cpu_ms_per_req"), "errors": f"{c['errors']}/{d['errors']}",
    }


def render_table(rows):
    head = ("| # | scenario | compared with | req/s conn / ref | MB/s conn / ref | p50 ms conn / ref | "
            "p99 ms conn / ref | ratio | target | met | conn CPU ms/req | errors conn/ref |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        met = "-" if r["met"] is None else ("yes" if r["met"] else "**NO**")
        lines.append(
            f"| {r['id']} | {r['scenario']} | {r['vs']} | {fmt(r['c_req_s'])} / {fmt(r['d_req_s'])} | "
            f"{fmt(r['c_mb_s'], 2)} / {fmt(r['d_mb_s'], 2)} | {fmt(r['c_p50'], 2)} / {fmt(r['d_p50'], 2)} | "
            f"{fmt(r['c_p99'], 2)} / {fmt(r['d_p99'], 2)} | {fmt(r['ratio'], 2)}x | {r['target'] or '-'} | {met} | "
            f"{fmt(r['cpu'], 2)} | {r['errors']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- main

class Stack:
    """Everything the scenarios measure against, started once for every placement."""

    def __init__(self, small_bytes):
        self.started = []
        self.small_bytes = small_bytes

    def add(self, proc):
        self.started.append(proc)
        return proc

    def stop(self):
        for p in reversed(self.started):
            p.stop()


def start_stack(small_bytes):
    st = Stack(small_bytes)
    try:
        st.nginx = nginx = Nginx()
        (nginx.www / "static").mkdir()
        (nginx.www / "static" / "small-4k").write_bytes(small_bytes)
        # nginx as the cloud store: the same bytes at the object's path (scenario 6b).
        p = nginx.www / CLOUD_BUCKET / local_name(SMALL_LOCAL)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(small_bytes)
        st.add(nginx.start())
        st.proxy = st.add(DelayProxy(REMOTE_URL, SLOW_DELAY))

        # Every connector runs one index refresh round at start (100 000 keys):
        # start them all now and wait for all rounds, so none runs during a measurement.
        st.auto = st.add(Connector("auto", listing="auto").start())
        st.live = st.add(Connector("live", listing="live").start())
        st.slow = st.add(Connector("slow", listing="live", swift_baseurl=st.proxy.url).start())
        st.onnginx = st.add(Connector("onnginx", listing="live", local_endpoint=nginx.url).start())
        st.onfile = st.add(Connector("onfile", listing="live", local_endpoint="file").start())
        # read_routing = index: reads of keys its (fresh) index has no local copy of go on-prem first.
        st.routed = st.add(Connector("routed", listing="auto", extra="read_routing = index").start())
        st.connectors = [st.auto, st.live, st.slow, st.onnginx, st.onfile, st.routed]
        if want("5"):
            wait_for_index(st.auto)
        for c in st.connectors:
            c.settle(INDEX_TIMEOUT)
        if want("2"):
            wait_until(st.routed.refreshed, INDEX_TIMEOUT, "the routed connector's index refresh")
        # The file store belongs to its connector: its local copy is written through it.
        s3_client(st.onfile.url).put_object(Bucket=BUCKET, Key=SMALL_LOCAL, Body=small_bytes)
    except BaseException:
        st.stop()
        raise
    return st


def placement_for(name, st):
    return Placement(name, {
        "local": lambda: cluster_pids("local"),
        "remote": lambda: cluster_pids("remote"),
        "connectors": lambda: [c.pid for c in st.connectors],
        "nginx": lambda: process_tree(st.nginx.proc.pid),
        "proxy": lambda: [st.proxy.proc.pid],
    })


def run_scenarios(st, pl, runs, notes):
    """Every wanted scenario in placement `pl`; returns the table rows. Run names are prefixed
    with the placement ("shared/1_conn")."""
    rows = []
    P = pl.name + "/"

    def measured(holder, *specs):
        pl.place(holder)
        try:
            got = measure(*[dict(sp, name=P + sp["name"], profile=sp["profile"] and f"{pl.name}-{sp['profile']}")
                            for sp in specs])
        finally:
            pl.release()
        runs.update(got)
        return {k[len(P):]: v for k, v in got.items()}

    C, L, R = st.auto.url, LOCAL_URL, REMOTE_URL
    pid = st.auto.pid
    small = ("--expect-bytes", SMALL, "-c", CONC)
    cloud = "cloud store (Swift s3api :8090)"
    onprem = "on-prem (Swift s3api :8080)"

    if want("1"):
        log(f"[{pl.name}] 1: 4 KiB GET, local hit (+ the direct load against itself)")
        m = measured("local", run("1_conn", C, BUCKET, "--key", SMALL_LOCAL, *small, pid=pid, profile="1"),
                     run("1_direct", L, CLOUD_BUCKET, "--key", local_name(SMALL_LOCAL), *small),
                     run("1_direct_again", L, CLOUD_BUCKET, "--key", local_name(SMALL_LOCAL), *small))
        rows.append(row_pair("1", "4 KiB GET, local hit", m["1_conn"], m["1_direct"], "req_s", 0.9, cloud))
        rows.append(row_pair("1=", "noise: the direct load of 1 against itself", m["1_direct_again"], m["1_direct"],
                             "req_s", None, cloud))
        rows.append(row_pair("s3api", "4 KiB GET local hit: connector as a multiple of bare s3api",
                             m["1_conn"], m["1_direct"], "req_s", None, "Swift proxy s3api (:8090)"))
    if want("2"):
        log(f"[{pl.name}] 2: 4 KiB GET, remote fallback")
        # The same on-prem GET behind four local lookups: a Swift cloud store that misses (2),
        # the embedded file store whose miss is a RocksDB read (2f), nginx as the cloud store,
        # a miss over the network that costs the store little (2n), and read_routing = index,
        # where the fresh index says "no local copy" and there is no local lookup at all (2i).
        fallbacks = [
            ("2", st.auto, "4 KiB GET, remote fallback (cloud store local)"),
            ("2f", st.onfile, "4 KiB GET, remote fallback (file store local)"),
            ("2n", st.onnginx, "4 KiB GET, remote fallback (nginx as the cloud store)"),
            ("2i", st.routed, "4 KiB GET, remote fallback, read_routing = index (cloud store local)"),
        ]
        for sid, conn, title in fallbacks:
            m = measured("remote", run(f"{sid}_conn", conn.url, BUCKET, "--key", SMALL_REMOTE, *small, pid=conn.pid,
                                       profile=sid),
                         run(f"{sid}_direct", R, BUCKET, "--key", SMALL_REMOTE, *small))
            rows.append(row_pair(sid, title, m[f"{sid}_conn"], m[f"{sid}_direct"], "req_s", 0.9, onprem))
    if want("3") or want("7"):
        log(f"[{pl.name}] 3: 256 MiB GET streaming, local hit (sampling connector RSS; + the direct load against itself)")
        big = ("--expect-bytes", BIG, "-c", STREAM_CONC)
        idle = proc_status(pid)
        with Sampler(pid) as sm:
            m = measured("local", run("3_conn", C, BUCKET, "--key", BIG_LOCAL, *big, pid=pid, profile="3"),
                         run("3_direct", L, CLOUD_BUCKET, "--key", local_name(BIG_LOCAL), *big),
                         run("3_direct_again", L, CLOUD_BUCKET, "--key", local_name(BIG_LOCAL), *big))
        runs[P + "3_rss"] = {"idle_mib": idle["VmRSS"], "peak_mib": sm.max_rss, "threads_peak": sm.max_threads,
                             "hwm_after_mib": proc_status(pid)["VmHWM"]}
        rows.append(row_pair("3", f"256 MiB GET streaming, local hit (c={STREAM_CONC})", m["3_conn"],
                             m["3_direct"], "mb_s", 0.9, cloud))
        rows.append(row_pair("3=", "noise: the direct load of 3 against itself", m["3_direct_again"], m["3_direct"],
                             "mb_s", None, cloud))
    if want("4"):
        log(f"[{pl.name}] 4: 4 KiB and 64 MiB PUT")
        put = ("--op", "put", "--size")
        m = measured("local",
                     run("4a_conn", C, BUCKET, *put, SMALL, "--key-prefix", "put/c4k-", "--count", 1000, "-c", CONC,
                         pid=pid, profile="4a"),
                     run("4a_direct", L, CLOUD_BUCKET, *put, SMALL, "--key-prefix", local_name("put/d4k-"),
                         "--count", 1000, "-c", CONC))
        rows.append(row_pair("4a", "4 KiB PUT", m["4a_conn"], m["4a_direct"], "req_s", 0.9, cloud))
        idle = proc_status(pid)
        with Sampler(pid) as sm:
            m = measured("local",
                         run("4b_conn", C, BUCKET, *put, PUT_BIG, "--key-prefix", "put/c64m-", "--count", 4,
                             "-c", STREAM_CONC, pid=pid, profile="4b"),
                         run("4b_direct", L, CLOUD_BUCKET, *put, PUT_BIG, "--key-prefix", local_name("put/d64m-"),
                             "--count", 4, "-c", STREAM_CONC))
        runs[P + "4b_rss"] = {"idle_mib": idle["VmRSS"], "peak_mib": sm.max_rss, "threads_peak": sm.max_threads}
        rows.append(row_pair("4b", f"64 MiB PUT (c={STREAM_CONC})", m["4b_conn"], m["4b_direct"], "mb_s", 0.9, cloud))
    if want("5"):
        log(f"[{pl.name}] 5: 1000-key listing page over 100 000 keys")
        lst = ("--op", "list", "--list-prefix", "list/", "--max-keys", 1000, "-c", LIST_CONC,
               "--capture-header", "x-cc-listing-source")
        m = measured("remote", run("5_index", C, BUCKET, *lst, pid=pid, profile="5-index"),
                     run("5_live", st.live.url, BUCKET, *lst, pid=st.live.pid, profile="5-live"),
                     run("5_direct", R, BUCKET, *lst))
        for k, want_src in (("5_index", "index"), ("5_live", "live")):
            srcs = m[k]["captured"]
            if set(srcs) != {f"x-cc-listing-source: {want_src}"}:
                notes.append(f"[{pl.name}] scenario {k}: listing sources seen {srcs} (expected only {want_src})")
        rows.append(row_pair("5", "1000-key listing: indexed vs live", m["5_index"], m["5_live"], "req_s",
                             10, "live listing (connector)"))
        rows.append(row_pair("5", "1000-key listing: indexed vs backend", m["5_index"], m["5_direct"],
                             "req_s", None, "on-prem listing (Swift s3api :8080)"))
        rows.append(row_pair("5", "1000-key listing: live vs backend", m["5_live"], m["5_direct"],
                             "req_s", None, "on-prem listing (Swift s3api :8080)"))
    if want("6"):
        log(f"[{pl.name}] 6: connector 4 KiB GET (file store) vs nginx static file")
        m = measured("servers", run("6_nginx", st.nginx.url, "static", "--no-sign", "--key", "small-4k", *small),
                     run("6_conn", st.onfile.url, BUCKET, "--key", SMALL_LOCAL, *small, pid=st.onfile.pid,
                         profile="6"),
                     run("6b_conn", st.onnginx.url, BUCKET, "--key", SMALL_LOCAL, *small, pid=st.onnginx.pid,
                         profile="6b"))
        rows.append(row_pair("6", "4 KiB GET from the embedded file store vs nginx", m["6_conn"],
                             m["6_nginx"], "req_s", 0.3, "nginx static file"))
        rows.append(row_pair("6b", "4 KiB GET local hit, nginx as the cloud store", m["6b_conn"],
                             m["6_nginx"], "req_s", None, "nginx static file"))
        if P + "1_direct" in runs:
            rows.append(row_pair("s3api-6", "4 KiB GET from the file store: connector as a multiple of bare s3api",
                                 m["6_conn"], runs[P + "1_direct"], "req_s", None, "Swift proxy s3api (:8090), run 1"))
    if want("7") or want("slow"):
        log(f"[{pl.name}] 7: {SLOW_CONNS} connections, remote fallback through a {SLOW_DELAY * 1000:.0f} ms proxy")
        slow_args = ("--key", SMALL_REMOTE, "--expect-bytes", SMALL, "-c", SLOW_CONNS, "--timeout", 120)
        idle = proc_status(st.slow.pid)
        with Sampler(st.slow.pid) as sm:
            m = measured("remote", run("7_slow", st.slow.url, BUCKET, *slow_args, pid=st.slow.pid, profile="7"),
                         run("7_slow_direct", st.proxy.url, BUCKET, *slow_args))
        m["7_slow"].update(idle_rss_mib=idle["VmRSS"], idle_threads=idle["Threads"], peak_rss_mib=sm.max_rss,
                           peak_threads=sm.max_threads)
        rows.append(row_pair("7", f"{SLOW_CONNS} conns, 4 KiB remote fallback, +{SLOW_DELAY * 1000:.0f} ms "
                             "backend", m["7_slow"], m["7_slow_direct"], "req_s", None,
                             "on-prem through the same slow proxy"))
    return rows


def resources_table(runs, P):
    mem = []
    if P + "3_rss" in runs:
        m = runs[P + "3_rss"]
        delta = m["peak_mib"] - m["idle_mib"]
        mem.append(f"| 3 | connector RSS during 256 MiB GETs (c={STREAM_CONC}) | idle {m['idle_mib']:.1f} MiB, "
                   f"peak {m['peak_mib']:.1f} MiB, +{delta:.1f} MiB; threads peak {m['threads_peak']} | < 64 MiB above "
                   f"idle | {'yes' if delta < 64 else '**NO**'} |")
    if P + "4b_rss" in runs:
        m = runs[P + "4b_rss"]
        mem.append(f"| 4b | connector RSS during 64 MiB PUTs (c={STREAM_CONC}) | idle {m['idle_mib']:.1f} MiB, "
                   f"peak {m['peak_mib']:.1f} MiB, +{m['peak_mib'] - m['idle_mib']:.1f} MiB; threads peak "
                   f"{m['threads_peak']} | - | - |")
    if P + "7_slow" in runs:
        s = runs[P + "7_slow"]
        served = s["ok"]
        ok = s["errors"] == 0 and served > 0
        mem.append(f"| 7 | {SLOW_CONNS} connections, slow backend | served {served}, errors {s['errors']}, "
                   f"threads {s['idle_threads']} idle -> {s['peak_threads']} peak, RSS {s['idle_rss_mib']:.1f} -> "
                   f"{s['peak_rss_mib']:.1f} MiB, p50 {s['p50_ms']:.0f} ms p99 {s['p99_ms']:.0f} ms | all served, "
                   f"no blow-up | {'yes' if ok else '**NO**'} |")
    if not mem:
        return ""
    return "\n\n| # | resources | measured | target | met |\n|---|---|---|---|---|\n" + "\n".join(mem)


PLACEMENT_TITLES = {
    "shared": "Placement `shared`: every process on every CPU (the connector's CPU comes out of the backends')",
    "split": "Placement `split`: the backend that holds the data alone on CPU 0, everything else on the other "
             "CPUs (the backends as separate machines)",
}


def main():
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    local, remote = s3_client(LOCAL_URL), s3_client(REMOTE_URL)
    log(f"preparing data (BENCH_SECONDS={SECONDS}, concurrency {CONC})")
    small_bytes = prepare_data(local, remote)

    results = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "seconds": SECONDS,
               "concurrency": CONC, "stream_concurrency": STREAM_CONC, "list_concurrency": LIST_CONC,
               "placements": PLACEMENTS,
               "machine": f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}", "runs": {}}
    runs = results["runs"]
    notes = []
    sections = []
    st = start_stack(small_bytes)
    try:
        log("all connectors idle; measuring")
        for name in PLACEMENTS:
            if name not in PLACEMENT_TITLES:
                raise SystemExit(f"BENCH_PLACEMENT: unknown placement {name!r} (shared, split)")
            if name == "split" and len(ALL_CPUS) < 2:
                notes.append("placement split needs 2 CPUs: skipped")
                continue
            pl = placement_for(name, st)
            rows = run_scenarios(st, pl, runs, notes)
            sections.append(f"#### {PLACEMENT_TITLES[name]}\n\n" + render_table(rows) + resources_table(runs, name + "/"))
    finally:
        st.stop()

    header = (f"Run {results['date']}: BENCH_SECONDS={SECONDS:g} in {ROUNDS} alternating rounds, concurrency {CONC} "
              f"(streams {STREAM_CONC}, listing {LIST_CONC}), {results['machine']}")
    out = header + "\n\n" + "\n\n".join(sections) + ("\n\n" + "\n".join("Note: " + n for n in notes) if notes else "") + "\n"
    (WORK / "results.json").write_text(json.dumps(results, indent=1))
    (WORK / "results.md").write_text(out)
    print(out)
    log(f"raw results: {WORK / 'results.json'}")


if __name__ == "__main__":
    main()
