"""Integration fixtures: two real Swift clusters on loopback (test/backends),
the real cloud-connector binary between them, and real S3 clients.

  remote  = the on-prem Swift cluster (its s3api is swift_baseurl)   :8080
  local   = the cloud's S3 store (another Swift cluster's s3api)     :8090

Set CC_BACKENDS_RUNNING=1 to reuse clusters that are already up.

`--local-store=file` runs the same tests with the embedded file store as the
local store: every connector's mapping entries that name the cloud S3 store get
a file:// directory of their own instead, and the `local` fixture reads those
directories directly (file_store_view.py).
"""
import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import botocore
import pytest
import requests
import urllib3
from botocore.config import Config

from file_store_view import FileStoreView

urllib3.disable_warnings()   # /readyz of TLS test connectors: the test CA is not in the trust store
ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "test" / "backends" / "swift-cluster.sh"
REMOTE_PORT = int(os.environ.get("CC_REMOTE_PORT", "8080"))
LOCAL_PORT = int(os.environ.get("CC_LOCAL_PORT", "8090"))
REMOTE_URL = f"http://127.0.0.1:{REMOTE_PORT}"
LOCAL_URL = f"http://127.0.0.1:{LOCAL_PORT}"
LOCAL_BUCKET = "cloud-data"

USERS = [
    {"access_key": "test:tester", "secret_key": "testing", "account": "AUTH_test"},
    {"access_key": "test2:tester2", "secret_key": "testing2", "account": "AUTH_test2"},
    # Only in the connector's database: proves UTF-8 credentials verify (local objects only).
    {"access_key": "tëst:ünïcode", "secret_key": "sécret✓", "account": "AUTH_test"},
]


def pytest_addoption(parser):
    parser.addoption("--connector-bin", default=str(ROOT / "build" / "cloud-connector"))
    parser.addoption("--local-store", choices=("s3", "file"), default="s3",
                     help="the connectors' local store: the cloud S3 store (a Swift cluster's s3api) "
                          "or the embedded file store")


LOCAL_STORE = {"kind": "s3"}          # set from --local-store
FILE_STORE_CONNECTORS = []            # running connectors with a file store, newest last


def pytest_configure(config):
    LOCAL_STORE["kind"] = config.getoption("--local-store")
    config.addinivalue_line("markers", "s3_local_store(why): the test needs the local store to be the cloud "
                                       "S3 store (skipped with --local-store=file)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def s3_client(endpoint, key="test:tester", secret="testing", sig="s3v4", **cfg):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name="us-east-1",
        # One attempt: a test sees exactly the answer the connector gave, no retries.
        config=Config(signature_version=sig, s3={"addressing_style": "path"},
                      **{"retries": {"total_max_attempts": 1, "mode": "standard"}, **cfg}))


def mapping_entries(local_url=LOCAL_URL):
    base = {"aws_bucket": LOCAL_BUCKET, "aws_endpoint": local_url,
            "aws_identity": "test:tester", "aws_secret": "testing", "protocol": "s3",
            # keys of the on-prem sync daemon: accepted and ignored
            "copy_after": 0, "retain_local": True, "propagate_delete": False}
    return [
        dict(base, account="AUTH_test", container="bucket1"),
        dict(base, account="AUTH_test", container="prefixed", custom_prefix="/pfx/"),
        dict(base, account="AUTH_test", container="noprefix", custom_prefix=""),
        dict(base, account="AUTH_test", container="/*"),
        dict(base, account="AUTH_test2", container="other2"),
    ]


@pytest.fixture(scope="session")
def backends():
    started = []
    if not os.environ.get("CC_BACKENDS_RUNNING"):
        for name, port in (("remote", REMOTE_PORT), ("local", LOCAL_PORT)):
            subprocess.run(["bash", str(CLUSTER), "start", name, str(port)], check=True)
            started.append(name)
    local = s3_client(LOCAL_URL)
    try:
        local.create_bucket(Bucket=LOCAL_BUCKET)
    except local.exceptions.BucketAlreadyOwnedByYou:
        pass
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] not in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou"):
            raise
    remote = s3_client(REMOTE_URL)
    for b in ("bucket1", "prefixed", "noprefix", "wild1"):
        try:
            remote.create_bucket(Bucket=b)
        except botocore.exceptions.ClientError:
            pass
    try:
        s3_client(REMOTE_URL, "test2:tester2", "testing2").create_bucket(Bucket="other2")
    except botocore.exceptions.ClientError:
        pass
    yield {"local": local, "remote": remote}
    for name in started:
        subprocess.run(["bash", str(CLUSTER), "stop", name], check=False)


class Connector:
    """A running cloud-connector process with its own config directory."""

    def __init__(self, binary, workdir, users=None, entries=None, extra_conf="", reload_interval=1, listing="live"):
        self.binary = binary
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.dir / "connector.log"
        self.file_store = self.dir / "file-store"
        self.write_users(users if users is not None else USERS)
        self.write_mapping(entries if entries is not None else mapping_entries())
        (self.dir / "cloud-connector.conf").write_text(f"""
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {self.port}
swift_baseurl = {REMOTE_URL}
log_level = debug

[pipeline:main]
pipeline = catch_errors cloud-connector-auth proxy-server

[app:proxy-server]
use = egg:swift#proxy
conf_file = sync-config.json

[filter:cloud-connector-auth]
s3_passwd_json = s3-passwd.json

[cloud-connector]
state_dir = {self.dir / 'state'}
reload_interval = {reload_interval}
backend_connect_timeout = 2
backend_timeout = 5
# Most tests write to the backends directly and list at once: they want live
# listings. The presence index has its own tests (test_index.py).
listing = {listing}
{extra_conf}
""")
        self.proc = None

    def write_users(self, users):
        (self.dir / "s3-passwd.json").write_text(json.dumps(users, ensure_ascii=False))

    def write_mapping(self, entries):
        if LOCAL_STORE["kind"] == "file":
            entries = [self.on_file_store(e) for e in entries]
        (self.dir / "sync-config.json").write_text(json.dumps({"containers": entries, "devices": "/srv/node"}))

    def on_file_store(self, entry):
        """The entry with this connector's file store where it names the cloud S3 store."""
        if entry.get("aws_endpoint") != LOCAL_URL or entry.get("protocol", "s3") != "s3":
            return entry
        entry = {k: v for k, v in entry.items() if k not in ("aws_identity", "aws_secret")}
        entry["aws_endpoint"] = f"file://{self.file_store}"
        return entry

    def start(self, args=None, env=None, wait=True):
        if LOCAL_STORE["kind"] == "file" and self not in FILE_STORE_CONNECTORS:
            FILE_STORE_CONNECTORS.append(self)
        self.log = open(self.log_path, "ab")
        cmd = [self.binary] + (args if args is not None else ["--config", str(self.dir / "cloud-connector.conf")])
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=30):
        """Until /readyz says 200: the listener opens before the user database
        and mapping are loaded, and answers 503 "starting" until then."""
        scheme = "https" if "tls_cert_file" in (self.dir / "cloud-connector.conf").read_text() else "http"
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"connector exited {self.proc.returncode}:\n{self.log_text()}")
            try:
                r = requests.get(f"{scheme}://127.0.0.1:{self.port}/readyz", timeout=2, verify=False)
                if r.status_code == 200:
                    return
            except requests.exceptions.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError("connector did not become ready:\n" + self.log_text())

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self in FILE_STORE_CONNECTORS:
            FILE_STORE_CONNECTORS.remove(self)
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    def client(self, key="test:tester", secret="testing", sig="s3v4", **cfg):
        return s3_client(self.url, key, secret, sig, **cfg)


@pytest.fixture(scope="session")
def connector_bin(pytestconfig):
    path = os.path.abspath(pytestconfig.getoption("--connector-bin"))
    assert os.access(path, os.X_OK), f"build the connector first: {path}"
    return path


@pytest.fixture(scope="session")
def connector(backends, connector_bin, tmp_path_factory):
    c = Connector(connector_bin, tmp_path_factory.mktemp("connector")).start()
    yield c
    c.stop()


@pytest.fixture
def make_connector(backends, connector_bin, tmp_path):
    made = []

    def make(**kw):
        c = Connector(connector_bin, tmp_path / f"c{len(made)}", **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        c.stop()


@pytest.fixture
def s3(connector):
    return connector.client()


@pytest.fixture(scope="session")
def local_store(backends):
    """The local store, read directly: the cloud S3 store, or the running connectors' file stores."""
    return FileStoreView(FILE_STORE_CONNECTORS) if LOCAL_STORE["kind"] == "file" else backends["local"]


@pytest.fixture
def local(local_store):
    return local_store


def pytest_collection_modifyitems(config, items):
    """With --local-store=file, tests that need the cloud S3 store itself are skipped, with why."""
    if config.getoption("--local-store") != "file":
        return
    for item in items:
        marker = item.get_closest_marker("s3_local_store")
        if marker:
            item.add_marker(pytest.mark.skip(reason="needs the cloud S3 store: " + marker.args[0]))


@pytest.fixture
def remote(backends):
    return backends["remote"]


@pytest.fixture
def uid():
    return uuid.uuid4().hex[:10]


AWS_CLI = "/usr/bin/aws"   # Debian's aws-cli v2 (another `aws` may come first on PATH)


def aws_cli(endpoint, home, s3_config=""):
    """A runner for Debian's aws-cli against `endpoint` (path style, test credentials, nothing
    from the host's AWS_* environment); skips the test when aws-cli is not installed.
    `s3_config` adds lines to the [default] s3 section (e.g. multipart sizes)."""
    if not os.access(AWS_CLI, os.X_OK):
        pytest.skip("Debian's aws-cli is not installed")
    cfg = home / "aws-config"
    cfg.write_text("[default]\ns3 =\n  addressing_style = path\n" + s3_config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID="test:tester", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(home / "no-credentials"),
               AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="", HOME=str(home))

    def run(*args, check=True, input=None, timeout=120):
        p = subprocess.run([AWS_CLI, "--endpoint-url", endpoint, *args], env=env, capture_output=True,
                           timeout=timeout, input=input)
        if check:
            assert p.returncode == 0, f"aws {' '.join(args)} -> {p.returncode}\n{p.stdout!r}\n{p.stderr!r}"
        return p
    return run


def s3cmd_cli(port, home, signature_v2, chunk_mb, *options):
    """A runner for s3cmd against a connector on loopback; skips the test when s3cmd is missing."""
    import shutil
    s3cmd = shutil.which("s3cmd") or "/usr/bin/s3cmd"
    if not os.access(s3cmd, os.X_OK):
        pytest.skip("s3cmd is not installed")
    cfg = write_s3cmd_config(home / "s3cfg", port, signature_v2, chunk_mb)

    def run(*args, check=True, timeout=120):
        p = subprocess.run([s3cmd, "-c", str(cfg), *options, *args], capture_output=True, timeout=timeout,
                           env=dict(os.environ, HOME=str(home)))
        if check:
            assert p.returncode == 0, f"s3cmd {' '.join(args)} -> {p.returncode}\n{p.stdout!r}\n{p.stderr!r}"
        return p
    return run


def write_s3cmd_config(path, port, signature_v2, chunk_mb):
    """An s3cmd config pointing at a connector on loopback (path style, plain HTTP)."""
    path.write_text(f"""[default]
access_key = test:tester
secret_key = testing
host_base = 127.0.0.1:{port}
host_bucket = 127.0.0.1:{port}
use_https = False
signature_v2 = {signature_v2}
check_ssl_certificate = False
multipart_chunk_size_mb = {chunk_mb}
bucket_location = us-east-1
""")
    return path


def wait_for(predicate, timeout=30, interval=0.1):
    """Polls predicate() until it is true or the (bounded) time is up; returns its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def hash_prefix(account, container):
    import hashlib
    return hex(int(hashlib.md5(f"{account}/{container}".encode()).hexdigest(), 16) % 16**6)[2:]


def local_name(key, container="bucket1", account="AUTH_test"):
    """Where the connector must store `key` in the cloud bucket (1space layout)."""
    return f"{hash_prefix(account, container)}/{account}/{container}/{key}"


class Trickler:
    """Sends `piece` on `sock` every `every` seconds in a thread (a slowloris client's
    endless request head), until stop() or until the connection breaks."""

    def __init__(self, sock, piece=b"X-Slow: 1\r\n", every=0.5):
        import threading
        self._stop = threading.Event()
        self._sock, self._piece, self._every = sock, piece, every
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(self._every):
            try:
                self._sock.sendall(self._piece)
            except OSError:
                return

    def stop(self):
        self._stop.set()
        self._thread.join()


def read_until_closed(sock, gives_up=()):
    """Every byte `sock` receives until the peer closes it. An exception of the
    `gives_up` kinds (a timeout on a kept-alive connection, a TLS cut) ends the
    reading too; the bytes so far are the answer."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except gives_up:
            return data
        if not chunk:
            return data
        data += chunk
