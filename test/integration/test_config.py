"""Configuration and reload, end to end: the real binary started from a config
directory (--config) or from a config bucket on the local Swift cluster
(CONF_* environment, static keys or an ECS-style credential endpoint), its
start-up validation, and the live reload of the user database and mapping."""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import botocore
import pytest
import requests

from auth_helpers import (CredentialEndpoint, RecordingProxy, check_error, clean_env, client_error_code, poll,
                          sha256, signed)
from conftest import (LOCAL_BUCKET, LOCAL_PORT, LOCAL_URL, REMOTE_URL, ROOT, USERS, free_port, mapping_entries,
                      s3_client)

RUN_TIMEOUT = 30   # a process that should exit at once; only a guard against hangs


def base_entry(**kw):
    return dict(mapping_entries()[0], **kw)


def set_conf(c, key, value):
    """Replace (or, with value None, delete) the line `key = ...` of c's main config."""
    conf = c.dir / "cloud-connector.conf"
    lines = conf.read_text().splitlines()
    hits = [i for i, line in enumerate(lines) if line.split("=")[0].strip() == key]
    assert hits, f"{key} not in the generated config"
    for i in hits:
        lines[i] = "" if value is None else f"{key} = {value}"
    conf.write_text("\n".join(lines) + "\n")


def run_binary(binary, args, env=None, cwd=None):
    return subprocess.run([binary] + args, capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          env=env if env is not None else clean_env(), cwd=cwd)


def local_body(local, name):
    return local.get_object(Bucket=LOCAL_BUCKET, Key=name)["Body"].read()


def put_status(c, key, secret, bucket, name, body=b"x"):
    """Status and error code of a SigV4 PUT through connector c."""
    r = signed("PUT", f"{c.url}/{bucket}/{name}", key, secret, body=body)
    if r.status_code == 200:
        return 200, None
    return r.status_code, check_error(r, r.status_code, _code(r)).findtext("Code")


def _code(r):
    return ET.fromstring(r.content).findtext("Code")


# ------------------------------------------------------------------ command line

def test_help_explains_every_option(connector_bin):
    r = run_binary(connector_bin, ["--help"])
    assert r.returncode == 0, r.stderr
    text = r.stdout + r.stderr
    for word in ("--config", "--check", "--shutdown-grace", "--version", "CONF_BUCKET", "CONF_ENDPOINT",
                 "CONF_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "SIGHUP"):
        assert word in text, word


def test_check_validates_and_exits_zero(make_connector, connector_bin):
    c = make_connector()
    state = c.dir / "state"
    assert not state.exists()
    r = run_binary(connector_bin, ["--config", str(c.dir / "cloud-connector.conf"), "--check"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK" in r.stdout
    # --check proves the state dir is usable without opening its database
    # (a running instance holds the database's lock) ...
    assert (state / "tmp").is_dir()
    assert not (state / "db").exists()
    # ... and a server creates the full layout: a RocksDB under db/, scratch space under tmp/.
    c.start()
    assert (state / "db" / "CURRENT").is_file()
    # --check next to the running instance still works.
    r = run_binary(connector_bin, ["--config", str(c.dir / "cloud-connector.conf"), "--check"])
    assert r.returncode == 0, r.stdout + r.stderr
    c.stop()
    # The same check on a broken user database fails.
    (c.dir / "s3-passwd.json").write_text("[{")
    r = run_binary(connector_bin, ["--config", str(c.dir / "cloud-connector.conf"), "--check"])
    assert r.returncode != 0
    assert "s3-passwd.json" in r.stderr


def test_config_file_swift_proxy_keys_and_relative_names(make_connector, local, uid, tmp_path, monkeypatch):
    c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=f"rel-{uid}")])
    # The named files live in subdirectories next to the main config ...
    (c.dir / "auth").mkdir()
    (c.dir / "maps").mkdir()
    (c.dir / "s3-passwd.json").rename(c.dir / "auth" / "users.json")
    (c.dir / "sync-config.json").rename(c.dir / "maps" / "sync.json")
    # ... in a config with everything a real Swift proxy config carries.
    c.dir.joinpath("cloud-connector.conf").write_text(f"""\
# cloud-connector, as deployed by the controller
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {c.port}
swift_baseurl = {REMOTE_URL}
log_level = DEBUG
workers = 4
user = swift
log_name = cloud-connector
eventlet_debug = true

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache swift3
    cloud-connector-auth proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
conf_file = maps/sync.json
account_autocreate = true
set log_level = info

[filter:swift3]
use = egg:swift3#swift3
s3_acl = false
location = US

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:11211

[filter:cloud-connector-auth]
use = egg:swift-s3-sync#cloud-connector-auth
s3_passwd_json = auth/users.json

[cloud-connector]
state_dir = {c.dir / 'state'}
reload_interval = 1
backend_connect_timeout = 2
backend_timeout = 5
""")
    # Decoys in the working directory: a connector that resolved the names
    # against the working directory would start without test:tester.
    decoy = tmp_path / "cwd"
    (decoy / "auth").mkdir(parents=True)
    (decoy / "maps").mkdir()
    (decoy / "auth" / "users.json").write_text(json.dumps([{"access_key": "decoy", "secret_key": "d",
                                                            "account": "AUTH_decoy"}]))
    (decoy / "maps" / "sync.json").write_text(json.dumps({"containers": []}))
    monkeypatch.chdir(decoy)
    c.start(args=["--config", os.path.relpath(c.dir / "cloud-connector.conf", decoy)])

    s3 = c.client()
    s3.put_object(Bucket="bucket1", Key="rel.txt", Body=b"relative")
    assert local_body(local, f"rel-{uid}/rel.txt") == b"relative"
    assert put_status(c, "decoy", "d", "bucket1", "x")[1] == "InvalidAccessKeyId"
    assert (c.dir / "state" / "db" / "CURRENT").is_file()


def test_state_dir_defaults_to_var_lib(make_connector, connector_bin):
    """Without state_dir the layout goes to /var/lib/cloud-connector. Checked in a
    private mount namespace with a tmpfs over /var/lib, so the host is untouched."""
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /var/lib"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no mount namespaces here: " + probe.stderr.decode(errors="replace"))
    c = make_connector()
    set_conf(c, "state_dir", None)
    # Start the server (not --check, which leaves the database alone), wait for the layout, stop it.
    script = ('mount -t tmpfs tmpfs /var/lib && { "$0" --config "$1" & pid=$!; '
              'for i in $(seq 100); do test -f /var/lib/cloud-connector/db/CURRENT && break; sleep 0.1; done; '
              'kill $pid; wait $pid; } ; '
              'test -f /var/lib/cloud-connector/db/CURRENT && test -d /var/lib/cloud-connector/tmp && echo LAYOUT-OK')
    r = subprocess.run(["unshare", "-m", "sh", "-c", script, connector_bin, str(c.dir / "cloud-connector.conf")],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT, env=clean_env())
    assert r.returncode == 0, r.stdout + r.stderr
    assert "LAYOUT-OK" in r.stdout
    assert not (c.dir / "state").exists()


def test_second_instance_on_one_state_dir_refused(make_connector, connector_bin):
    first = make_connector().start()
    second = make_connector()
    set_conf(second, "state_dir", first.dir / "state")
    r = run_binary(connector_bin, ["--config", str(second.dir / "cloud-connector.conf")])
    assert r.returncode != 0
    assert "state_dir" in r.stderr, r.stderr
    assert first.proc.poll() is None
    assert first.client().list_objects_v2(Bucket="bucket1", MaxKeys=1)["ResponseMetadata"]["HTTPStatusCode"] == 200


# ------------------------------------------------------------------ refused configurations

def _drop(key):
    return lambda c: set_conf(c, key, None)


def _set(key, value):
    return lambda c: set_conf(c, key, value)


def _write(name, text):
    return lambda c: (c.dir / name).write_text(text)


def _state_under_file(c):
    (c.dir / "plainfile").write_text("not a directory")
    set_conf(c, "state_dir", c.dir / "plainfile" / "state")


def _mapping_is_directory(c):
    (c.dir / "sync-config.json").unlink()
    (c.dir / "sync-config.json").mkdir()


BAD_CONFIGS = {
    "missing swift_baseurl": (_drop("swift_baseurl"), "swift_baseurl"),
    "swift_baseurl not a URL": (_set("swift_baseurl", "swift.example.com:8080"), "swift_baseurl"),
    "bind_port=abc": (_set("bind_port", "abc"), "bind_port"),
    "bind_port=70000": (_set("bind_port", "70000"), "bind_port"),
    "reload_interval=0": (_set("reload_interval", "0"), "reload_interval"),
    "reload_interval=soon": (_set("reload_interval", "soon"), "reload_interval"),
    "log_level=loud": (_set("log_level", "loud"), "log_level"),
    "state_dir under a file": (_state_under_file, "state_dir"),
    "mapping file missing": (_set("conf_file", "nowhere-sync.json"), "nowhere-sync.json"),
    "mapping file unreadable": (_mapping_is_directory, "sync-config.json"),
    "users file missing": (_set("s3_passwd_json", "nobody.json"), "nobody.json"),
    "user db bad JSON": (_write("s3-passwd.json", '[{"access_key": "a",'), "s3-passwd.json"),
    "user entry missing secret_key": (
        _write("s3-passwd.json", json.dumps([{"access_key": "a", "account": "AUTH_a"}])), "secret_key"),
    "mapping bad JSON": (_write("sync-config.json", '{"containers": [}'), "sync-config.json"),
    "mapping entry missing aws_bucket": (
        _write("sync-config.json", json.dumps({"containers": [{"account": "AUTH_test", "container": "c"}]})),
        "aws_bucket"),
}


@pytest.mark.parametrize("check", [False, True], ids=["start", "check"])
@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_invalid_config_stops_startup(make_connector, connector_bin, case, check):
    c = make_connector()
    breaker, named = BAD_CONFIGS[case]
    breaker(c)
    r = run_binary(connector_bin, ["--config", str(c.dir / "cloud-connector.conf")] + (["--check"] if check else []))
    assert r.returncode != 0, r.stdout + r.stderr
    assert named in r.stderr, r.stderr


def test_missing_config_file_is_named(connector_bin, tmp_path):
    r = run_binary(connector_bin, ["--config", str(tmp_path / "absent.conf")])
    assert r.returncode != 0
    assert "absent.conf" in r.stderr


# ------------------------------------------------------------------ bucket mode

@pytest.fixture
def config_bucket(backends, uid):
    """A bucket on the local cluster holding config files; emptied and removed afterwards."""
    s3 = s3_client(LOCAL_URL)
    name = f"cc-config-{uid}"
    s3.create_bucket(Bucket=name)
    yield s3, name
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for o in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=o["Key"])
    s3.delete_bucket(Bucket=name)


def upload_config(c, s3, bucket, prefix):
    """Copy c's three config files into the bucket under `prefix`."""
    for f in ("cloud-connector.conf", "s3-passwd.json", "sync-config.json"):
        s3.put_object(Bucket=bucket, Key=prefix + f, Body=(c.dir / f).read_bytes())


def test_bucket_mode_static_keys_prefix_and_reload(make_connector, config_bucket, local, uid):
    s3, bucket = config_bucket
    c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=f"bm-{uid}")])
    prefix = "a_config_prefix/"
    upload_config(c, s3, bucket, prefix)
    # Decoys at the bucket root: names must be resolved under CONF_NAME's prefix.
    s3.put_object(Bucket=bucket, Key="s3-passwd.json", Body=b"[{ broken")
    s3.put_object(Bucket=bucket, Key="sync-config.json", Body=b"{ broken")
    env = clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=LOCAL_URL, CONF_NAME=prefix + "cloud-connector.conf",
                    AWS_ACCESS_KEY_ID="test:tester", AWS_SECRET_ACCESS_KEY="testing")
    c.start(args=[], env=env)

    cli = c.client()
    cli.put_object(Bucket="bucket1", Key="bm.txt", Body=b"from bucket config")
    assert local_body(local, f"bm-{uid}/bm.txt") == b"from bucket config"
    assert (c.dir / "state" / "db" / "CURRENT").is_file()

    # The user database in the bucket is re-read: a new user appears.
    users = USERS + [{"access_key": f"new-{uid}", "secret_key": "fresh", "account": "AUTH_test"}]
    assert put_status(c, f"new-{uid}", "fresh", "bucket1", "n.txt")[1] == "InvalidAccessKeyId"
    s3.put_object(Bucket=bucket, Key=prefix + "s3-passwd.json", Body=json.dumps(users, ensure_ascii=False).encode())
    poll(lambda: put_status(c, f"new-{uid}", "fresh", "bucket1", "n.txt", b"new user")[0] == 200,
         what="the new user from the config bucket")
    assert local_body(local, f"bm-{uid}/n.txt") == b"new user"


def test_bucket_mode_task_role_credentials(make_connector, config_bucket, local, uid):
    s3, bucket = config_bucket
    c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=f"ecs-{uid}")])
    upload_config(c, s3, bucket, "")
    # Keys that expire in 4 minutes: inside the 5-minute margin, so every use refreshes them.
    endpoint = CredentialEndpoint("test:tester", "testing", lifetime=240, token_prefix=f"tok-{uid}")
    proxy = RecordingProxy(LOCAL_PORT)
    try:
        env = clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=proxy.url,
                        AWS_CONTAINER_CREDENTIALS_FULL_URI=endpoint.url("/creds"),
                        AWS_CONTAINER_AUTHORIZATION_TOKEN=f"auth-{uid}")
        c.start(args=[], env=env)
        assert endpoint.count() >= 1
        assert all(path == "/creds" and auth == f"auth-{uid}" for path, auth in endpoint.calls)

        c.client().put_object(Bucket="bucket1", Key="ecs.txt", Body=b"task role")
        assert local_body(local, f"ecs-{uid}/ecs.txt") == b"task role"

        started = endpoint.count()
        poll(lambda: endpoint.count() >= started + 2, what="credential refreshes")
        seen = proxy.seen()
        assert seen, "the config bucket was not read through the proxy"
        tokens = [h.get("x-amz-security-token") or h.get("X-Amz-Security-Token") for _, _, h in seen]
        assert all(t in endpoint.tokens for t in tokens), tokens
        poll(lambda: len({h.get("x-amz-security-token") for _, _, h in proxy.seen()}) >= 2,
             what="requests signed with a refreshed token")
        assert all(path.startswith(f"/{bucket}/") for _, path, _ in proxy.seen())
    finally:
        proxy.close()
        endpoint.close()


def test_bucket_mode_task_role_credentials_cached_until_near_expiry(make_connector, config_bucket, uid):
    s3, bucket = config_bucket
    c = make_connector()
    upload_config(c, s3, bucket, "")
    endpoint = CredentialEndpoint("test:tester", "testing", lifetime=3600)
    proxy = RecordingProxy(LOCAL_PORT)
    try:
        env = clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=proxy.url,
                        AWS_CONTAINER_CREDENTIALS_FULL_URI=endpoint.url())
        c.start(args=[], env=env)
        # Several reloads (each a couple of conditional GETs) ...
        poll(lambda: len(proxy.seen()) >= 7, what="a few config reloads")
        # ... all with the one set of keys fetched at start-up.
        assert endpoint.count() == 1
        assert {h.get("x-amz-security-token") for _, _, h in proxy.seen()} == {endpoint.tokens[0]}
    finally:
        proxy.close()
        endpoint.close()


def test_bucket_mode_missing_settings(connector_bin, config_bucket, make_connector, tmp_path):
    s3, bucket = config_bucket
    c = make_connector()
    upload_config(c, s3, bucket, "")
    keys = dict(AWS_ACCESS_KEY_ID="test:tester", AWS_SECRET_ACCESS_KEY="testing")

    r = run_binary(connector_bin, [], env=clean_env(CONF_ENDPOINT=LOCAL_URL, **keys))
    assert r.returncode != 0 and "CONF_BUCKET" in r.stderr, r.stderr

    r = run_binary(connector_bin, [], env=clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=LOCAL_URL))
    assert r.returncode != 0 and "AWS_ACCESS_KEY_ID" in r.stderr, r.stderr

    r = run_binary(connector_bin, [], env=clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=LOCAL_URL,
                                                   AWS_ACCESS_KEY_ID="test:tester"))
    assert r.returncode != 0 and "AWS_SECRET_ACCESS_KEY" in r.stderr, r.stderr

    r = run_binary(connector_bin, [], env=clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=LOCAL_URL,
                                                   CONF_NAME="elsewhere/absent.conf", **keys))
    assert r.returncode != 0 and "elsewhere/absent.conf" in r.stderr, r.stderr

    r = run_binary(connector_bin, [], env=clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=LOCAL_URL,
                                                   AWS_ACCESS_KEY_ID="test:tester", AWS_SECRET_ACCESS_KEY="wrong"))
    assert r.returncode != 0 and "cloud-connector.conf" in r.stderr, r.stderr

    # The config names a user database that is not in the bucket.
    s3.delete_object(Bucket=bucket, Key="s3-passwd.json")
    r = run_binary(connector_bin, ["--check"], env=clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=LOCAL_URL, **keys))
    assert r.returncode != 0 and "s3-passwd.json" in r.stderr, r.stderr

    # Control: with every setting present, --check passes.
    s3.put_object(Bucket=bucket, Key="s3-passwd.json", Body=(c.dir / "s3-passwd.json").read_bytes())
    r = run_binary(connector_bin, ["--check"], env=clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=LOCAL_URL, **keys))
    assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------ reload

def new_user(uid, secret="fresh"):
    return {"access_key": f"new-{uid}", "secret_key": secret, "account": "AUTH_test"}


def test_reload_adds_a_user(make_connector, local, uid):
    c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=f"ru-{uid}")]).start()
    assert put_status(c, f"new-{uid}", "fresh", "bucket1", "a.txt") == (403, "InvalidAccessKeyId")
    c.write_users(USERS + [new_user(uid)])
    poll(lambda: put_status(c, f"new-{uid}", "fresh", "bucket1", "a.txt", b"added")[0] == 200,
         what="the added user")
    assert local_body(local, f"ru-{uid}/a.txt") == b"added"


def test_reload_removes_a_user(make_connector, local, uid):
    c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=f"rr-{uid}")]).start()
    assert put_status(c, "test2:tester2", "testing2", "bucket1", "t2.txt") == (404, "NoSuchBucket")
    c.write_users([u for u in USERS if u["access_key"] != "test2:tester2"])
    poll(lambda: put_status(c, "test2:tester2", "testing2", "bucket1", "t2.txt") == (403, "InvalidAccessKeyId"),
         what="the removed user to be refused")
    assert put_status(c, "test:tester", "testing", "bucket1", "t1.txt", b"still here")[0] == 200
    assert local_body(local, f"rr-{uid}/t1.txt") == b"still here"


def test_reload_adds_a_mapping_entry(make_connector, local, uid):
    entries = [base_entry(container="bucket1", custom_prefix=f"rm-{uid}")]
    c = make_connector(entries=entries).start()
    assert put_status(c, "test2:tester2", "testing2", "other2", "m.txt") == (404, "NoSuchBucket")
    c.write_mapping(entries + [base_entry(account="AUTH_test2", container="other2", custom_prefix=f"rm2-{uid}")])
    poll(lambda: put_status(c, "test2:tester2", "testing2", "other2", "m.txt", b"mapped")[0] == 200,
         what="the new mapping entry")
    assert local_body(local, f"rm2-{uid}/m.txt") == b"mapped"


def failed_reloads(c, name):
    """Log lines reporting a failed reload that name file `name`."""
    return [l for l in c.log_text().splitlines() if "RELOAD FAILED" in l and name in l]


def test_broken_new_versions_keep_the_last_good_one(make_connector, local, uid):
    entries = [base_entry(container="bucket1", custom_prefix=f"rb-{uid}")]
    c = make_connector(entries=entries).start()
    assert "RELOAD FAILED" not in c.log_text()

    # A user database that is not JSON (it would also have added a user).
    (c.dir / "s3-passwd.json").write_text(json.dumps(USERS + [new_user(uid)])[:-2])
    poll(lambda: failed_reloads(c, "s3-passwd.json"), what="RELOAD FAILED for the user database")
    assert put_status(c, "test:tester", "testing", "bucket1", "u.txt", b"old users")[0] == 200
    assert put_status(c, f"new-{uid}", "fresh", "bucket1", "u.txt") == (403, "InvalidAccessKeyId")
    # A user entry without its secret.
    c.write_users(USERS + [{"access_key": f"new-{uid}", "account": "AUTH_test"}])
    poll(lambda: any("secret_key" in l for l in failed_reloads(c, "s3-passwd.json")),
         what="RELOAD FAILED naming secret_key")
    assert put_status(c, f"new-{uid}", "fresh", "bucket1", "u.txt") == (403, "InvalidAccessKeyId")
    assert put_status(c, "test2:tester2", "testing2", "bucket1", "u.txt") == (404, "NoSuchBucket")

    # Repaired, with the new user: taken in.
    c.write_users(USERS + [new_user(uid)])
    poll(lambda: put_status(c, f"new-{uid}", "fresh", "bucket1", "u2.txt", b"new user")[0] == 200,
         what="the repaired user database")

    # A mapping that is not JSON, then one whose entry lacks aws_bucket (both drop bucket1).
    c.write_mapping([base_entry(container="other2", account="AUTH_test2")])
    (c.dir / "sync-config.json").write_text((c.dir / "sync-config.json").read_text()[:-3])
    poll(lambda: failed_reloads(c, "sync-config.json"), what="RELOAD FAILED for the mapping")
    assert put_status(c, "test:tester", "testing", "bucket1", "m.txt", b"old mapping")[0] == 200
    assert local_body(local, f"rb-{uid}/m.txt") == b"old mapping"
    c.write_mapping([{k: v for k, v in base_entry(container="other2", account="AUTH_test2").items()
                      if k != "aws_bucket"}])
    poll(lambda: any("aws_bucket" in l for l in failed_reloads(c, "sync-config.json")),
         what="RELOAD FAILED naming aws_bucket")
    assert put_status(c, "test:tester", "testing", "bucket1", "m2.txt", b"old mapping 2")[0] == 200
    assert local_body(local, f"rb-{uid}/m2.txt") == b"old mapping 2"
    assert put_status(c, "test2:tester2", "testing2", "other2", "m.txt") == (404, "NoSuchBucket")

    # Repaired: the new mapping is in force.
    c.write_mapping([base_entry(container="bucket1", custom_prefix=f"rb2-{uid}")])
    poll(lambda: put_status(c, "test:tester", "testing", "bucket1", "fixed.txt", b"fixed")[0] == 200
         and local.list_objects_v2(Bucket=LOCAL_BUCKET, Prefix=f"rb2-{uid}/fixed.txt")["KeyCount"] == 1,
         what="the repaired mapping")
    assert local_body(local, f"rb2-{uid}/fixed.txt") == b"fixed"


def test_one_broken_file_does_not_hold_back_the_other(make_connector, local, uid):
    c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=f"rx-{uid}")]).start()
    # The user database breaks while the mapping gains a good entry.
    (c.dir / "s3-passwd.json").write_text("[{ not json")
    c.write_mapping([base_entry(container="bucket1", custom_prefix=f"rx-{uid}"),
                     base_entry(account="AUTH_test2", container="other2", custom_prefix=f"rx2-{uid}")])
    poll(lambda: put_status(c, "test2:tester2", "testing2", "other2", "a.txt", b"mapping in")[0] == 200,
         what="the good mapping despite the broken user database")
    assert local_body(local, f"rx2-{uid}/a.txt") == b"mapping in"
    assert failed_reloads(c, "s3-passwd.json")
    # The mapping breaks while the user database is repaired with a new user.
    (c.dir / "sync-config.json").write_text('{"containers": [')
    c.write_users(USERS + [new_user(uid)])
    poll(lambda: put_status(c, f"new-{uid}", "fresh", "bucket1", "b.txt", b"user in")[0] == 200,
         what="the good user database despite the broken mapping")
    assert local_body(local, f"rx-{uid}/b.txt") == b"user in"
    assert failed_reloads(c, "sync-config.json")
    # The last good mapping (with other2) is still in force.
    assert put_status(c, "test2:tester2", "testing2", "other2", "c.txt", b"still")[0] == 200


@pytest.mark.s3_local_store("the cloud bucket is filled under a custom prefix before the connector starts")
def test_reload_does_not_disturb_a_download_in_flight(make_connector, local, uid):
    prefix = f"big-{uid}"
    data = os.urandom(50 * 1024 * 1024)
    local.put_object(Bucket=LOCAL_BUCKET, Key=f"{prefix}/big.bin", Body=data)
    try:
        c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=prefix)]).start()
        cli = c.client()
        url = cli.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": "big.bin"})
        with requests.get(url, stream=True, timeout=60) as r:
            assert r.status_code == 200
            h = hashlib.sha256()
            first = r.raw.read(1024 * 1024)
            h.update(first)
            # While the body streams, the mapping moves bucket1 elsewhere ...
            c.write_mapping([base_entry(container="bucket1", custom_prefix=f"moved-{uid}")])

            def moved():
                try:
                    cli.head_object(Bucket="bucket1", Key="big.bin")
                    return False
                except botocore.exceptions.ClientError as e:
                    return client_error_code(e) == "404"
            poll(moved, what="the new mapping")
            # ... and the download still completes with the right bytes.
            total = len(first)
            for chunk in r.iter_content(1024 * 1024):
                h.update(chunk)
                total += len(chunk)
        assert total == len(data)
        assert h.hexdigest() == sha256(data)
    finally:
        local.delete_object(Bucket=LOCAL_BUCKET, Key=f"{prefix}/big.bin")


def test_sighup_reloads_at_once(make_connector, local, uid):
    c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=f"hup-{uid}")],
                       reload_interval=3600).start()
    c.write_users(USERS + [new_user(uid)])
    # The hourly check is far away: the new user is not known yet.
    assert put_status(c, f"new-{uid}", "fresh", "bucket1", "h.txt") == (403, "InvalidAccessKeyId")
    c.proc.send_signal(signal.SIGHUP)
    poll(lambda: put_status(c, f"new-{uid}", "fresh", "bucket1", "h.txt", b"hup")[0] == 200,
         what="the user added before SIGHUP")
    assert local_body(local, f"hup-{uid}/h.txt") == b"hup"
    assert c.proc.poll() is None   # SIGHUP does not stop the process


def test_readiness_says_starting_until_users_and_mapping_are_loaded(make_connector, config_bucket, uid):
    """The listener opens before the user database and mapping are read: /healthcheck
    answers, /readyz is 503 "starting" and S3 requests get 503 until they are loaded.
    The config bucket sits behind a proxy that delays every chunk by 1 s, so the
    start-up is slow enough to watch."""
    s3, bucket = config_bucket
    c = make_connector(entries=[base_entry(container="bucket1", custom_prefix=f"ready-{uid}")])
    upload_config(c, s3, bucket, "")
    slow_port = free_port()
    delay = subprocess.Popen([sys.executable, str(ROOT / "test" / "bench" / "delay_proxy.py"),
                              "127.0.0.1", str(LOCAL_PORT), "1.0", str(slow_port)])
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", slow_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        env = clean_env(CONF_BUCKET=bucket, CONF_ENDPOINT=f"http://127.0.0.1:{slow_port}",
                        AWS_ACCESS_KEY_ID="test:tester", AWS_SECRET_ACCESS_KEY="testing")
        c.start(args=[], env=env, wait=False)
        seen = []
        refused_while_starting = 0
        deadline = time.time() + 60
        while time.time() < deadline and (not seen or seen[-1] != 200):
            try:
                r = requests.get(c.url + "/readyz", timeout=2)
                if not seen or seen[-1] != r.status_code:
                    seen.append(r.status_code)
                if r.status_code == 503:
                    assert r.text == "starting"
                    assert requests.get(c.url + "/healthcheck", timeout=2).status_code == 200
                    try:
                        c.client().head_bucket(Bucket="bucket1")
                        # Loading finished between the two requests: then readiness says so too.
                        assert requests.get(c.url + "/readyz", timeout=2).status_code == 200
                    except botocore.exceptions.ClientError as e:
                        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                        refused_while_starting += 1
            except requests.exceptions.ConnectionError:
                pass                                  # not listening yet: the main config is still on its way
            time.sleep(0.05)
        assert seen[:1] == [503] and seen[-1] == 200, seen
        assert refused_while_starting >= 1
        assert c.client().head_bucket(Bucket="bucket1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        delay.terminate()
        delay.wait()
