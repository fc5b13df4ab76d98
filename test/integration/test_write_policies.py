"""Write policies: write-through lands on both stores before the 200 (and
leaves nothing behind when on-prem refuses); write-back acknowledges once the
local copy is durable and delivers from a RocksDB journal, surviving an
on-prem outage and a kill -9."""
import hashlib
import json
import os
import signal
import subprocess
import time

import botocore
import pytest

from conftest import LOCAL_BUCKET, REMOTE_URL, local_name, mapping_entries, wait_for
from fault_proxy import FaultProxy


def md5(b):
    return hashlib.md5(b).hexdigest()


def policy_connector(make_connector, policy, swift_baseurl=None, entries=None):
    c = make_connector(entries=entries, extra_conf=f"write_policy = {policy}")
    if swift_baseurl:
        conf = c.dir / "cloud-connector.conf"
        conf.write_text(conf.read_text().replace(f"swift_baseurl = {REMOTE_URL}", f"swift_baseurl = {swift_baseurl}"))
    return c.start()


def remote_body(remote, key):
    try:
        return remote.get_object(Bucket="bucket1", Key=key)["Body"].read()
    except botocore.exceptions.ClientError:
        return None


def local_body(local, key):
    try:
        return local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read()
    except botocore.exceptions.ClientError:
        return None


def pending(connector):
    cc_index = os.path.join(os.path.dirname(connector.binary), "cc-index")
    r = subprocess.run([cc_index, "--state-dir", str(connector.dir / "state"), "pending", "--json"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["pending"]


@pytest.fixture
def remote_proxy():
    proxy = FaultProxy("127.0.0.1", int(REMOTE_URL.rsplit(":", 1)[1])).start()
    yield proxy
    proxy.stop()


def test_write_through_lands_on_both_before_the_200(make_connector, local, remote, uid):
    s3 = policy_connector(make_connector, "write-through").client()
    data = os.urandom(100000)
    key = f"wt-{uid}/obj"
    s3.put_object(Bucket="bucket1", Key=key, Body=data, Metadata={"m": "1"}, ContentType="text/x-wt")
    assert local_body(local, key) == data
    assert remote_body(remote, key) == data                     # no waiting: it was there before the 200
    assert remote.head_object(Bucket="bucket1", Key=key)["Metadata"] == {"m": "1"}
    s3.copy_object(Bucket="bucket1", Key=key + "-copy", CopySource=f"bucket1/{key}")
    assert remote_body(remote, key + "-copy") == data
    s3.copy_object(Bucket="bucket1", Key=key, CopySource=f"bucket1/{key}", MetadataDirective="REPLACE",
                   Metadata={"m": "2"})
    assert remote.head_object(Bucket="bucket1", Key=key)["Metadata"] == {"m": "2"}
    up = s3.create_multipart_upload(Bucket="bucket1", Key=key + "-mpu")["UploadId"]
    etag = s3.upload_part(Bucket="bucket1", Key=key + "-mpu", UploadId=up, PartNumber=1, Body=data)["ETag"]
    s3.complete_multipart_upload(Bucket="bucket1", Key=key + "-mpu", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert remote_body(remote, key + "-mpu") == data


def test_write_through_failure_leaves_no_local_copy(make_connector, local, remote, remote_proxy, uid):
    c = policy_connector(make_connector, "write-through", swift_baseurl=remote_proxy.url)
    s3 = c.client()
    remote_proxy.set_mode("refuse")
    key = f"wt-{uid}/refused"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="bucket1", Key=key, Body=b"never acknowledged")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert "write-through" in e.value.response["Error"]["Message"]
    assert local_body(local, key) is None and remote_body(remote, key) is None


def test_write_back_delivers_in_the_background(make_connector, local, remote, uid):
    c = policy_connector(make_connector, "write-back")
    s3 = c.client()
    data = os.urandom(300000)
    key = f"wb-{uid}/obj"
    s3.put_object(Bucket="bucket1", Key=key, Body=data)
    assert local_body(local, key) == data
    assert wait_for(lambda: remote_body(remote, key) == data)
    assert wait_for(lambda: pending(c) == [])


def test_write_back_queues_through_an_outage_and_a_kill_9(make_connector, local, remote, remote_proxy, uid):
    c = policy_connector(make_connector, "write-back", swift_baseurl=remote_proxy.url)
    s3 = c.client()
    remote_proxy.set_mode("refuse")
    objects = {f"wb-{uid}/{n}": os.urandom(50000 + n) for n in range(4)}
    for k, v in objects.items():
        s3.put_object(Bucket="bucket1", Key=k, Body=v)      # acknowledged while on-prem is down
    # A newer local write supersedes the pending older one.
    newest = os.urandom(1234)
    s3.put_object(Bucket="bucket1", Key=f"wb-{uid}/0", Body=newest)
    objects[f"wb-{uid}/0"] = newest
    assert wait_for(lambda: all(p["attempts"] >= 1 for p in pending(c)) and len(pending(c)) == 4)
    waiting = pending(c)
    assert sorted(p["key"] for p in waiting) == sorted(objects)
    assert {p["etag"] for p in waiting if p["key"] == f"wb-{uid}/0"} == {'"%s"' % md5(newest)}
    assert all(p["last_error"] for p in waiting)
    # kill -9, bring on-prem back, start again: everything acknowledged arrives.
    c.proc.send_signal(signal.SIGKILL)
    c.proc.wait()
    remote_proxy.set_mode("pass")
    c.start()
    for k, v in objects.items():
        assert wait_for(lambda: remote_body(remote, k) is not None, timeout=60), k
        assert md5(remote_body(remote, k)) == md5(v), k
    assert wait_for(lambda: pending(c) == [])


def test_per_mapping_write_policy(make_connector, local, remote, uid):
    entries = mapping_entries()
    entries[0]["cc_write_policy"] = "write-through"           # bucket1 only
    s3 = make_connector(entries=entries).start().client()
    s3.put_object(Bucket="bucket1", Key=f"pm-{uid}", Body=b"both")
    s3.put_object(Bucket="prefixed", Key=f"pm-{uid}", Body=b"local only")
    assert remote_body(remote, f"pm-{uid}") == b"both"
    assert remote.list_objects_v2(Bucket="prefixed", Prefix=f"pm-{uid}")["KeyCount"] == 0
