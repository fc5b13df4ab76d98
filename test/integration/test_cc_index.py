"""cc-index end to end: a real server with the presence index on (listing=auto),
real data put directly on both backends, and the real cc-index binary (the
sibling of --connector-bin) reading the server's state dir while it runs."""
import hashlib
import json
import os
import pty
import subprocess
import threading
import time

import botocore
import pytest

from conftest import LOCAL_BUCKET, local_name, mapping_entries, wait_for

ACCOUNT = "AUTH_test"
# What populate() puts where: key -> body, per side. "both/a" differs per side.
LOCAL_DATA = {"both/a": b"lll", "lo/b": b"bbbbbbb", "lo/c": b"cc"}
REMOTE_DATA = {"both/a": b"rrrrr", "ro/d": b"d" * 11, 'ro/é "q"\\': b"eeee"}


@pytest.fixture(scope="session")
def cc_index_bin(connector_bin):
    path = os.path.join(os.path.dirname(connector_bin), "cc-index")
    assert os.access(path, os.X_OK), f"build cc-index next to the connector first: {path}"
    return path


def run(binary, *args, env=None, timeout=60):
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def md5(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


@pytest.fixture
def container(backends, local, remote, uid):
    """A container of its own, so that counts are exact; emptied afterwards."""
    name = f"cci-{uid}"
    remote.create_bucket(Bucket=name)
    yield name
    for o in remote.list_objects_v2(Bucket=name).get("Contents", []):
        remote.delete_object(Bucket=name, Key=o["Key"])
    remote.delete_bucket(Bucket=name)
    for o in local.list_objects_v2(Bucket=LOCAL_BUCKET, Prefix=local_name("", name)).get("Contents", []):
        local.delete_object(Bucket=LOCAL_BUCKET, Key=o["Key"])


def populate(local, remote, container):
    for key, body in LOCAL_DATA.items():
        local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(key, container), Body=body)
    for key, body in REMOTE_DATA.items():
        remote.put_object(Bucket=container, Key=key, Body=body)


def server(make_connector, container, refresh=1):
    base = dict(mapping_entries()[0])
    entries = [dict(base, account=ACCOUNT, container=container)]
    return make_connector(listing="auto", entries=entries,
                          extra_conf=f"index_refresh_interval = {refresh}\nindex_max_staleness = 30").start()


class Index:
    def __init__(self, binary, conn):
        self.binary = binary
        self.conn = conn
        self.state = str(conn.dir / "state")
        self.conf = str(conn.dir / "cloud-connector.conf")

    def __call__(self, *args, **kw):
        return run(self.binary, "--state-dir", self.state, *args, **kw)

    def with_config(self, *args, **kw):
        return run(self.binary, "--state-dir", self.state, "--config", self.conf, *args, **kw)

    def stats(self):
        r = self("stats", "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["mappings"]

    def counts(self):
        return [(m["account"], m["container"], m["local_objects"], m["remote_objects"], m["local_bytes"],
                 m["remote_bytes"]) for m in self.stats()]

    def refreshed(self):
        return all(m["last_refresh"] is not None for m in self.stats()) and len(self.stats()) > 0

    def ls(self, mapping, *args):
        r = self("ls", mapping, "--json", *args)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)["objects"]


def expected_counts(container, local_data=LOCAL_DATA, remote_data=REMOTE_DATA):
    return [(ACCOUNT, container, len(local_data), len(remote_data), sum(map(len, local_data.values())),
             sum(map(len, remote_data.values())))]


def assert_one_error_line(r):
    assert r.returncode != 0, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cc-index: "), r.stderr
    return lines[0]


@pytest.mark.s3_local_store("objects written to the cloud bucket behind the connector's back (a file store has one writer)")
def test_stats_counts_each_side(make_connector, cc_index_bin, local, remote, container):
    populate(local, remote, container)
    conn = server(make_connector, container)
    ix = Index(cc_index_bin, conn)
    assert wait_for(lambda: ix.refreshed() and ix.counts() == expected_counts(container)), ix.stats()
    [m] = ix.stats()
    # The backends themselves agree with what the index counts.
    remote_listed = remote.list_objects_v2(Bucket=container)["Contents"]
    assert (m["remote_objects"], m["remote_bytes"]) == (len(remote_listed), sum(o["Size"] for o in remote_listed))
    local_listed = local.list_objects_v2(Bucket=LOCAL_BUCKET, Prefix=local_name("", container))["Contents"]
    assert (m["local_objects"], m["local_bytes"]) == (len(local_listed), sum(o["Size"] for o in local_listed))
    assert isinstance(m["staleness_seconds"], int) and m["staleness_seconds"] >= 0
    assert m["local_last_refresh"] and m["remote_last_refresh"] and m["local_last_error"] is None
    text = ix("stats")
    assert text.returncode == 0, text.stderr
    header, row = text.stdout.splitlines()[:2]
    assert header.split()[0] == "MAPPING" and "STALENESS" in header
    assert row.split()[:5] == [f"{ACCOUNT}/{container}", "3", "12", "3", "20"]

    # A key put through the server lands on the local side only; its counts follow.
    conn.client().put_object(Bucket=container, Key="own/f", Body=b"ffff")
    local_after = dict(LOCAL_DATA, **{"own/f": b"ffff"})
    assert wait_for(lambda: ix.counts() == expected_counts(container, local_data=local_after)), ix.stats()


@pytest.mark.s3_local_store("objects written to the cloud bucket behind the connector's back (a file store has one writer)")
def test_ls_prefix_where_and_json(make_connector, cc_index_bin, local, remote, container):
    populate(local, remote, container)
    conn = server(make_connector, container)
    ix = Index(cc_index_bin, conn)
    mapping = f"{ACCOUNT}/{container}"
    everything = sorted(set(LOCAL_DATA) | set(REMOTE_DATA), key=lambda k: k.encode())
    assert wait_for(lambda: [o["key"] for o in ix.ls(mapping)] == everything), ix.ls(mapping)

    objects = {o["key"]: o for o in ix.ls(mapping)}
    assert {k: o["where"] for k, o in objects.items()} == {
        "both/a": "both", "lo/b": "local", "lo/c": "local", "ro/d": "remote", 'ro/é "q"\\': "remote"}
    both = objects["both/a"]
    head_local = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name("both/a", container))
    head_remote = remote.head_object(Bucket=container, Key="both/a")
    assert (both["local"]["size"], both["local"]["etag"]) == (3, head_local["ETag"]) == (3, md5(b"lll"))
    assert (both["remote"]["size"], both["remote"]["etag"]) == (5, head_remote["ETag"])
    assert objects["lo/b"]["remote"] is None and objects["ro/d"]["local"] is None

    assert [o["key"] for o in ix.ls(mapping, "--prefix", "lo/")] == ["lo/b", "lo/c"]
    assert [o["key"] for o in ix.ls(mapping, "--prefix", "ro/é")] == ['ro/é "q"\\']
    assert ix.ls(mapping, "--prefix", "nothing-here/") == []
    assert [o["key"] for o in ix.ls(mapping, "--where", "both")] == ["both/a"]
    assert [o["key"] for o in ix.ls(mapping, "--where", "local")] == ["lo/b", "lo/c"]
    assert [o["key"] for o in ix.ls(mapping, "--where", "remote")] == ["ro/d", 'ro/é "q"\\']
    assert [o["key"] for o in ix.ls(mapping, "--where", "local", "--where", "both")] == ["both/a", "lo/b", "lo/c"]
    assert [o["key"] for o in ix.ls(mapping, "--where", "remote", "--prefix", "both/")] == []

    text = ix("ls", mapping)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["both", "local", "local", "remote", "remote"]
    assert lines[0].split()[1] == "3" and lines[0].endswith(" both/a")       # the local copy, as a GET serves it
    assert lines[4].endswith(' ro/é "q"\\')
    bad = ix("ls", mapping, "--where", "nowhere")
    assert bad.returncode != 0


@pytest.mark.s3_local_store("objects written to the cloud bucket behind the connector's back (a file store has one writer)")
def test_show_both_one_side_and_none(make_connector, cc_index_bin, local, remote, container):
    populate(local, remote, container)
    conn = server(make_connector, container)
    ix = Index(cc_index_bin, conn)
    mapping = f"{ACCOUNT}/{container}"
    assert wait_for(lambda: ix.refreshed() and ix.counts() == expected_counts(container))

    def show(key):
        r = ix("show", mapping, key, "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    s = show("both/a")
    assert (s["where"], s["local"]["size"], s["remote"]["size"]) == ("both", 3, 5)
    assert s["remote"]["etag"] == remote.head_object(Bucket=container, Key="both/a")["ETag"]
    s = show("lo/c")
    assert (s["where"], s["local"]["size"], s["remote"]) == ("local", 2, None)
    s = show('ro/é "q"\\')
    assert (s["where"], s["local"], s["remote"]["size"]) == ("remote", None, 4)

    text = ix("show", mapping, "both/a")
    assert text.returncode == 0
    assert "where:   both" in text.stdout
    assert f"size 3, etag {md5(b'lll')}" in text.stdout and f"size 5, etag {md5(b'rrrrr')}" in text.stdout
    text = ix("show", mapping, "ro/d")
    assert "local:   absent" in text.stdout and "size 11" in text.stdout

    for key in ("nowhere", "lo/"):                # absent, and a mere prefix of indexed keys
        r = ix("show", mapping, key)
        line = assert_one_error_line(r)
        assert r.returncode == 1 and key in line and r.stdout == ""


def test_a_write_the_server_just_made_is_visible(make_connector, cc_index_bin, container):
    # No refresh after the first one: only the server's own index update (still in its
    # memtable and write-ahead log) can make the key visible to a read-only open.
    conn = server(make_connector, container, refresh=3600)
    ix = Index(cc_index_bin, conn)
    assert wait_for(ix.refreshed)
    s3 = conn.client()
    for n in range(3):
        s3.put_object(Bucket=container, Key=f"fresh/{n}", Body=b"x" * n)
        r = ix("show", f"{ACCOUNT}/{container}", f"fresh/{n}", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["local"]["size"] == n
    s3.delete_object(Bucket=container, Key="fresh/1")
    assert [o["key"] for o in ix.ls(f"{ACCOUNT}/{container}", "--prefix", "fresh/")] == ["fresh/0", "fresh/2"]


@pytest.mark.s3_local_store("objects written to the cloud bucket behind the connector's back (a file store has one writer)")
def test_verify_then_rebuild(make_connector, cc_index_bin, local, remote, container):
    populate(local, remote, container)
    # No periodic refresh: out-of-band changes stay invisible to the index until rebuild.
    conn = server(make_connector, container, refresh=3600)
    ix = Index(cc_index_bin, conn)
    mapping = f"{ACCOUNT}/{container}"
    assert wait_for(lambda: ix.refreshed() and ix.counts() == expected_counts(container))

    ok = ix.with_config("verify", mapping)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "local: 3 keys checked, 0 differences" in ok.stdout and "remote: 3 keys checked, 0 differences" in ok.stdout

    # Out of band: a new on-prem key, a vanished and a rewritten cloud copy.
    remote.put_object(Bucket=container, Key="oob/new", Body=b"new")
    local.delete_object(Bucket=LOCAL_BUCKET, Key=local_name("lo/c", container))
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name("lo/b", container), Body=b"rewritten, longer")
    bad = ix.with_config("verify", mapping)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    diffs = [line for line in bad.stdout.splitlines() if ":" in line and "keys checked" not in line
             and not line.startswith("the index")]
    assert sorted(diffs) == sorted([
        "only in remote store: oob/new",
        "only in index: local lo/c",
        f"size/etag differs: local lo/b (index 7 bytes {md5(b'bbbbbbb')}, store 17 bytes {md5(b'rewritten, longer')})",
    ]), bad.stdout

    # rebuild needs the lock the running server holds.
    busy = ix.with_config("rebuild", mapping)
    line = assert_one_error_line(busy)
    assert busy.returncode == 2 and "busy" in line and ix.state in line
    assert conn.client().list_objects_v2(Bucket=container)["KeyCount"] == 5     # the server is still fine
    assert not [f for f in os.listdir(ix.state + "/db") if f.startswith("LOG.old")]   # its LOG untouched

    conn.stop()
    done = ix.with_config("rebuild", mapping)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "local: 2 objects indexed" in done.stdout and "remote: 4 objects indexed" in done.stdout
    objects = {o["key"]: o for o in ix.ls(mapping)}
    assert {k: o["where"] for k, o in objects.items()} == {
        "both/a": "both", "lo/b": "local", "oob/new": "remote", "ro/d": "remote", 'ro/é "q"\\': "remote"}
    assert objects["lo/b"]["local"]["size"] == 17
    again = ix.with_config("verify", mapping)
    assert again.returncode == 0, again.stdout

    # A new server on the rebuilt state dir lists the truth, from the index.
    conn.start()
    r = conn.client().list_objects_v2(Bucket=container)
    assert [o["Key"] for o in r["Contents"]] == sorted(objects, key=lambda k: k.encode())
    assert r["ResponseMetadata"]["HTTPHeaders"].get("x-cc-listing-source") == "index"


@pytest.mark.s3_local_store("objects written to the cloud bucket behind the connector's back (a file store has one writer)")
def test_rebuild_draws_a_progress_bar_only_on_a_terminal(make_connector, cc_index_bin, local, remote, container):
    populate(local, remote, container)
    conn = server(make_connector, container, refresh=3600)
    ix = Index(cc_index_bin, conn)
    assert wait_for(ix.refreshed)
    conn.stop()
    mapping = f"{ACCOUNT}/{container}"
    plain = ix.with_config("rebuild", mapping)
    assert plain.returncode == 0 and "\r" not in plain.stdout and "\033[" not in plain.stdout
    assert "local: 3 objects indexed" in plain.stdout

    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([cc_index_bin, "--state-dir", ix.state, "--config", ix.conf, "rebuild", mapping],
                             stdout=slave, stderr=subprocess.PIPE)
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:                         # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        assert p.wait(60) == 0, p.stderr.read()
    finally:
        os.close(master)
    text = out.decode()
    assert "rebuilding local [" in text and "3/3 keys" in text and "\r\033[K" in text
    assert "local: 3 objects indexed" in text


def test_errors_are_one_line_and_nonzero(make_connector, cc_index_bin, container, tmp_path):
    conn = server(make_connector, container)
    ix = Index(cc_index_bin, conn)
    assert wait_for(ix.refreshed)
    mapping = f"{ACCOUNT}/{container}"
    missing = tmp_path / "no-such-dir"
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = {
        "no such state dir": [run(cc_index_bin, "--state-dir", missing, cmd, *args)
                              for cmd, args in (("stats", []), ("ls", [mapping]), ("show", [mapping, "k"]))],
        "no state database": [run(cc_index_bin, "--state-dir", empty, "stats")],
        "unknown mapping": [ix("ls", f"{ACCOUNT}/nope"), ix("show", f"{ACCOUNT}/nope", "k"),
                            ix("ls", f"AUTH_nobody/{container}"),
                            ix.with_config("verify", f"AUTH_nobody/{container}"),
                            ix.with_config("rebuild", f"{ACCOUNT}/nope")],
        "malformed": [ix("ls", bad) for bad in ("nocontainer", "a/b/c", "/c", "a/", "")] +
                     [ix.with_config("verify", "x"), ix("show", "x", "k")],
        "no config": [run(cc_index_bin, "--state-dir", ix.state, "verify", mapping,
                          env={k: v for k, v in os.environ.items() if not k.startswith("CONF_")})],
        "no state dir at all": [run(cc_index_bin, "stats")],
        "bad config": [run(cc_index_bin, "--config", tmp_path / "nope.conf", "verify", mapping)],
    }
    for what, results in cases.items():
        for r in results:
            line = assert_one_error_line(r)
            assert r.returncode == 2, (what, line)
            assert r.stdout == "", (what, r.stdout)
    assert "no such directory" in assert_one_error_line(cases["no such state dir"][0])
    assert "unknown mapping" in assert_one_error_line(cases["unknown mapping"][0])
    assert "malformed" in assert_one_error_line(cases["malformed"][0])
    # None of that disturbed the server.
    assert conn.proc.poll() is None
    conn.client().list_objects_v2(Bucket=container)


def test_stats_while_serving_does_not_disturb_the_server(make_connector, cc_index_bin, container):
    conn = server(make_connector, container)
    ix = Index(cc_index_bin, conn)
    assert wait_for(ix.refreshed)
    s3 = conn.client()
    failures, done, served = [], threading.Event(), [0]

    def traffic():
        n = 0
        while not done.is_set():
            try:
                key = f"busy/{n % 20}"
                s3.put_object(Bucket=container, Key=key, Body=str(n).encode())
                assert s3.get_object(Bucket=container, Key=key)["Body"].read() == str(n).encode()
                assert key in [o["Key"] for o in s3.list_objects_v2(Bucket=container, Prefix="busy/")["Contents"]]
                served[0] += 1
            except (AssertionError, botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
                failures.append(repr(e))
            n += 1

    t = threading.Thread(target=traffic)
    t.start()
    try:
        runs = []
        deadline = time.time() + 30
        while (len(runs) < 15 or served[0] < 20) and time.time() < deadline:
            runs.append(ix("stats", "--json"))
    finally:
        done.set()
        t.join(30)
    assert served[0] >= 20 and not failures, failures[:3]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs if r.returncode]
    assert all(len(json.loads(r.stdout)["mappings"]) == 1 for r in runs)
    assert conn.proc.poll() is None
    db = ix.state + "/db"
    assert not [f for f in os.listdir(db) if f.startswith("LOG.old")]      # no tool rotated the server's LOG
    # The final count matches the keys the traffic left behind.
    assert wait_for(lambda: ix.counts()[0][2] == 20)


def test_help_explains_every_option(cc_index_bin):
    top = run(cc_index_bin, "--help")
    assert top.returncode == 0
    for word in ("--state-dir", "--config", "stats", "ls", "show", "verify", "rebuild", "Exit status"):
        assert word in top.stdout
    for cmd, options in {"stats": ["--json"], "ls": ["--prefix", "--where", "--json", "ACCOUNT/CONTAINER"],
                         "show": ["KEY", "--json"], "verify": ["ACCOUNT/CONTAINER"],
                         "rebuild": ["ACCOUNT/CONTAINER"]}.items():
        r = run(cc_index_bin, cmd, "--help")
        assert r.returncode == 0, r.stderr
        for option in options + ["--state-dir", "--config" if cmd in ("verify", "rebuild") else "DIR", "Exit status"]:
            assert option in r.stdout, (cmd, option)


def test_verify_next_to_a_server_that_owns_a_file_store(make_connector, cc_index_bin, remote, container, tmp_path):
    """The embedded file store belongs to the running server (RocksDB locks it): verify reads
    it read-only beside the server instead of failing on the lock."""
    base = {k: v for k, v in mapping_entries()[0].items() if k not in ("aws_identity", "aws_secret")}
    entry = dict(base, account=ACCOUNT, container=container, aws_endpoint=f"file://{tmp_path / 'store'}")
    conn = make_connector(listing="auto", entries=[entry],
                          extra_conf="index_refresh_interval = 3600\nindex_max_staleness = 30").start()
    s3 = conn.client()
    for key, body in LOCAL_DATA.items():
        s3.put_object(Bucket=container, Key=key, Body=body)
    for key, body in REMOTE_DATA.items():
        remote.put_object(Bucket=container, Key=key, Body=body)
    ix = Index(cc_index_bin, conn)
    mapping = f"{ACCOUNT}/{container}"
    # The remote keys were written behind the server's back: the index lacks them until a refresh.
    r = ix.with_config("verify", mapping)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"local: {len(LOCAL_DATA)} keys checked, 0 differences" in r.stdout, r.stdout
    assert "only in remote store: ro/d" in r.stdout, r.stdout
    # The server still owns its store: writes and reads go on.
    s3.put_object(Bucket=container, Key="lo/after", Body=b"after")
    assert s3.get_object(Bucket=container, Key="lo/after")["Body"].read() == b"after"
