"""The presence index: listings from RocksDB, fresh within a refresh, own
writes visible at once, listings kept up while the on-prem cluster is down,
identical answers from the index and from the live stores, crash recovery."""
import os
import random
import signal
import time

import botocore
import pytest
import requests

from conftest import LOCAL_BUCKET, REMOTE_URL, local_name, mapping_entries, wait_for
from fault_proxy import FaultProxy


def indexed_connector(make_connector, listing="auto", swift_baseurl=None, entries=None, refresh=1):
    c = make_connector(listing=listing, entries=entries,
                       extra_conf=f"index_refresh_interval = {refresh}\nindex_max_staleness = 30")
    if swift_baseurl:
        conf = c.dir / "cloud-connector.conf"
        conf.write_text(conf.read_text().replace(f"swift_baseurl = {REMOTE_URL}", f"swift_baseurl = {swift_baseurl}"))
    return c.start()


def listing(s3, prefix, **kw):
    r = s3.list_objects_v2(Bucket="bucket1", Prefix=prefix, **kw)
    return [o["Key"] for o in r.get("Contents", [])], r["ResponseMetadata"]["HTTPHeaders"].get("x-cc-listing-source")


def test_out_of_band_changes_reach_the_listing_within_a_refresh(make_connector, local, remote, uid):
    c = indexed_connector(make_connector)
    s3 = c.client()
    p = f"idx-{uid}/"
    assert wait_for(lambda: listing(s3, p)[1] == "index")      # the first refresh round completed
    remote.put_object(Bucket="bucket1", Key=p + "onprem", Body=b"r")
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(p + "cloud"), Body=b"l")
    assert wait_for(lambda: listing(s3, p)[0] == [p + "cloud", p + "onprem"])
    remote.delete_object(Bucket="bucket1", Key=p + "onprem")
    local.delete_object(Bucket=LOCAL_BUCKET, Key=local_name(p + "cloud"))
    assert wait_for(lambda: listing(s3, p)[0] == [])
    assert listing(s3, p)[1] == "index"


def test_own_writes_are_visible_at_once(make_connector, uid):
    # A refresh every hour: only the synchronous index update can make these visible.
    c = indexed_connector(make_connector, listing="index", refresh=3600)
    s3 = c.client()
    p = f"own-{uid}/"
    s3.put_object(Bucket="bucket1", Key=p + "a", Body=b"1")
    s3.copy_object(Bucket="bucket1", Key=p + "b", CopySource=f"bucket1/{p}a")
    up = s3.create_multipart_upload(Bucket="bucket1", Key=p + "c")["UploadId"]
    etag = s3.upload_part(Bucket="bucket1", Key=p + "c", UploadId=up, PartNumber=1, Body=b"x")["ETag"]
    s3.complete_multipart_upload(Bucket="bucket1", Key=p + "c", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    keys, source = listing(s3, p)
    assert (keys, source) == ([p + "a", p + "b", p + "c"], "index")
    s3.delete_object(Bucket="bucket1", Key=p + "b")
    assert listing(s3, p)[0] == [p + "a", p + "c"]


def test_own_writes_list_with_the_last_modified_the_store_reports(make_connector, local, uid):
    # The index records a write's Last-Modified as the store answered it (HEAD and the
    # store's own listing say the same), not the connector's clock: Swift and the file
    # store round up to the second, so the connector's own "now" would be a second early.
    c = indexed_connector(make_connector, listing="index", refresh=3600)
    s3 = c.client()
    p = f"lm-{uid}/"
    copied = {}
    for i in range(4):
        s3.put_object(Bucket="bucket1", Key=f"{p}put{i}", Body=b"x" * i)
        r = s3.copy_object(Bucket="bucket1", Key=f"{p}copy{i}", CopySource=f"bucket1/{p}put{i}")
        copied[f"{p}copy{i}"] = r["CopyObjectResult"]["LastModified"]
        time.sleep(0.3)   # spread the writes over sub-second positions
        # A metadata update (a copy onto itself) answers with the store's time too.
        r = s3.copy_object(Bucket="bucket1", Key=f"{p}put{i}", CopySource=f"bucket1/{p}put{i}",
                           MetadataDirective="REPLACE", Metadata={"n": str(i)})
        copied[f"{p}put{i}"] = r["CopyObjectResult"]["LastModified"]
        time.sleep(0.3)
    listed = {o["Key"]: o["LastModified"] for o in s3.list_objects_v2(Bucket="bucket1", Prefix=p)["Contents"]}
    assert len(listed) == 8
    for key, when in listed.items():
        assert when == s3.head_object(Bucket="bucket1", Key=key)["LastModified"], key
        assert when == local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["LastModified"], key
    for key, when in copied.items():
        assert when == listed[key], key


def test_listing_survives_the_remote_cluster_going_down(make_connector, remote, uid):
    proxy = FaultProxy("127.0.0.1", int(REMOTE_URL.rsplit(":", 1)[1])).start()
    try:
        p = f"down-{uid}/"
        remote.put_object(Bucket="bucket1", Key=p + "onprem", Body=b"on-prem")
        c = indexed_connector(make_connector, swift_baseurl=proxy.url)
        s3 = c.client()
        s3.put_object(Bucket="bucket1", Key=p + "cloud", Body=b"cloud")
        assert wait_for(lambda: listing(s3, p) == ([p + "cloud", p + "onprem"], "index"))
        proxy.set_mode("refuse")
        # Listings keep coming from the index (marked), local objects stay readable,
        # remote-only objects are a 503 (never a 404).
        keys, source = listing(s3, p)
        assert keys == [p + "cloud", p + "onprem"] and source in ("index", "index-degraded")
        assert s3.get_object(Bucket="bucket1", Key=p + "cloud")["Body"].read() == b"cloud"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.get_object(Bucket="bucket1", Key=p + "onprem")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        proxy.set_mode("pass")
        assert s3.get_object(Bucket="bucket1", Key=p + "onprem")["Body"].read() == b"on-prem"
    finally:
        proxy.stop()


def test_stale_index_and_failing_remote_gives_a_marked_degraded_listing(make_connector, remote, uid):
    proxy = FaultProxy("127.0.0.1", int(REMOTE_URL.rsplit(":", 1)[1])).start()
    try:
        p = f"stale-{uid}/"
        remote.put_object(Bucket="bucket1", Key=p + "onprem", Body=b"x")
        c = make_connector(listing="auto", extra_conf="index_refresh_interval = 1\nindex_max_staleness = 1")
        conf = c.dir / "cloud-connector.conf"
        conf.write_text(conf.read_text().replace(f"swift_baseurl = {REMOTE_URL}", f"swift_baseurl = {proxy.url}"))
        c.start()
        s3 = c.client()
        assert wait_for(lambda: p + "onprem" in listing(s3, p)[0] and c.log_text().count("complete: pass") >= 2)
        proxy.set_mode("refuse")
        time.sleep(2.5)                        # older than index_max_staleness: live first, which fails
        keys, source = listing(s3, p)
        assert (keys, source) == ([p + "onprem"], "index-degraded")
        assert "from the presence index" in c.log_text()
    finally:
        proxy.stop()


@pytest.mark.s3_local_store("two connectors over one cloud bucket (a file store belongs to one connector)")
def test_index_and_live_listings_are_identical(make_connector, local, remote, uid):
    rng = random.Random(7)
    parts = ["a", "b", "é", "z", "/", "-", "😀", "日本", " ", "+", "~"]
    p = f"same-{uid}/"
    keys = set()
    while len(keys) < 60:
        keys.add(p + "".join(rng.choice(parts) for _ in range(rng.randint(1, 5))).strip("/") + rng.choice(["", "x"]))
    for k in sorted(keys):
        where = rng.random()
        if where < 0.4 or where > 0.8:
            local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(k), Body=b"l" * rng.randint(0, 9))
        if where >= 0.4:
            remote.put_object(Bucket="bucket1", Key=k, Body=b"r" * rng.randint(0, 9))
    live = make_connector(listing="live").start().client()
    idx = indexed_connector(make_connector, listing="auto")
    indexed = idx.client()
    assert wait_for(lambda: listing(indexed, p)[1] == "index" and
                    len(listing(indexed, p)[0]) == len(listing(live, p)[0]))

    def walk(s3, prefix, delimiter, max_keys, v2):
        out, kw = [], {"Prefix": prefix, "MaxKeys": max_keys}
        if delimiter:
            kw["Delimiter"] = delimiter
        while True:
            r = s3.list_objects_v2(Bucket="bucket1", **kw) if v2 else s3.list_objects(Bucket="bucket1", **kw)
            out.append(([(o["Key"], o["Size"], o["ETag"]) for o in r.get("Contents", [])],
                        [c["Prefix"] for c in r.get("CommonPrefixes", [])], r["IsTruncated"]))
            if not r["IsTruncated"]:
                return out
            if v2:
                kw["ContinuationToken"] = r["NextContinuationToken"]
            else:
                kw["Marker"] = r.get("NextMarker") or r["Contents"][-1]["Key"]
    for prefix in (p, p + "é"):
        for delimiter in ("", "/", "a"):
            for max_keys in (3, 1000):
                for v2 in (True, False):
                    assert walk(indexed, prefix, delimiter, max_keys, v2) == walk(live, prefix, delimiter, max_keys, v2), \
                        (prefix, delimiter, max_keys, v2)


def test_kill_9_and_corruption_recover(make_connector, remote, uid):
    p = f"crash-{uid}/"
    for n in range(5):
        remote.put_object(Bucket="bucket1", Key=f"{p}{n}", Body=b"x")
    c = indexed_connector(make_connector)
    s3 = c.client()
    assert wait_for(lambda: len(listing(s3, p)[0]) == 5 and listing(s3, p)[1] == "index")
    c.proc.send_signal(signal.SIGKILL)
    c.proc.wait()
    c.start()                                            # reopens the same state_dir after kill -9
    s3 = c.client()
    assert listing(s3, p)[0] == [f"{p}{n}" for n in range(5)]
    c.proc.send_signal(signal.SIGKILL)
    c.proc.wait()
    # Corrupt every table file of the index; the connector moves it aside and rebuilds.
    db = c.dir / "state" / "db"
    for f in db.iterdir():
        if f.suffix == ".sst" or f.name.startswith("MANIFEST"):
            data = bytearray(f.read_bytes())
            for i in range(0, len(data), 97):
                data[i] ^= 0xFF
            f.write_bytes(bytes(data))
    c.start()
    s3 = c.client()
    assert listing(s3, p)[0] == [f"{p}{n}" for n in range(5)]         # live meanwhile, or rebuilt already
    assert any(d.name.startswith("db.corrupt-") for d in (c.dir / "state").iterdir())
    assert wait_for(lambda: listing(s3, p)[1] == "index")
