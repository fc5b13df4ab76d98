"""The embedded local store: mappings whose aws_endpoint is file:///dir keep
their local copies on disk (data files under objects/, metadata in RocksDB
under meta/) instead of in a cloud bucket, behind the same S3 front and merged
with the real on-prem cluster. Every test checks the connector's answers AND
the store directory itself (data files, names, the RocksDB records read with
RocksDB's own `ldb` tool), and that the cloud S3 store is never touched.
"""
import base64
import hashlib
import os
import subprocess
import time
from pathlib import Path

import botocore
import pytest

from conftest import LOCAL_BUCKET, REMOTE_URL, local_name, mapping_entries, wait_for
from fault_proxy import FaultProxy
from file_store_view import decode_record, meta_records

NS = "fs-data"      # aws_bucket of the file-store entries: the namespace inside the store
NS2 = "fs-other"    # a second namespace over the same directory
MiB = 1024 * 1024


def fs_entries(store):
    """The default mapping, with bucket1, prefixed, noprefix and "/*" on the file store."""
    url = f"file://{store}"
    entries = []
    for e in mapping_entries():
        if e["account"] == "AUTH_test":
            e = {k: v for k, v in e.items() if k not in ("aws_identity", "aws_secret")}
            e["aws_endpoint"] = url
            e["aws_bucket"] = NS2 if e["container"] == "/*" else NS
            if e["container"] == "/*":
                e["custom_prefix"] = ""
        entries.append(e)
    return entries


@pytest.fixture
def store(tmp_path):
    return tmp_path / "file-store"


@pytest.fixture
def fs(make_connector, store):
    c = make_connector(entries=fs_entries(store)).start()
    return c


def code_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def store_name(key, container="bucket1"):
    """The object's name inside the store (the 1space layout of its mapping entry)."""
    if container == "bucket1":
        return local_name(key, container)
    if container == "prefixed":
        return "pfx/" + key
    return key


def data_files(store):
    return sorted(p for p in (store / "objects").rglob("*") if p.is_file())


def data_file_of(store, key, container="bucket1", ns=NS):
    """The data file(s) of one object: objects/<h0h1>/<h2h3>/<h>-<unique>, h = sha256(ns \\0 name)."""
    h = hashlib.sha256(f"{ns}\0{store_name(key, container)}".encode()).hexdigest()
    return sorted((store / "objects" / h[:2] / h[2:4]).glob(h + "-*"))


def meta_keys(store, kind="o"):
    return set(meta_records(store, kind))


def record(key, container="bucket1", ns=NS):
    return f"{ns}\0{store_name(key, container)}"


def assert_not_in_cloud(local, *names):
    for name in names:
        assert code_of(lambda: local.head_object(Bucket=LOCAL_BUCKET, Key=name)) == "404"


# --------------------------------------------------------------- objects


def test_put_get_head_ranges_delete_on_disk(fs, store, local, remote, uid):
    s3 = fs.client()
    key = f"fs/{uid}/data.bin"
    data = os.urandom(300 * 1024 + 17)   # more than one 256 KiB chunk
    put = s3.put_object(Bucket="bucket1", Key=key, Body=data, ContentType="text/x-fs",
                        Metadata={"color": "blue", "note": "hello world"}, CacheControl="no-cache")
    assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()

    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == data
    assert got["ETag"] == put["ETag"]
    assert got["ContentType"] == "text/x-fs"
    assert got["Metadata"] == {"color": "blue", "note": "hello world"}
    assert got["CacheControl"] == "no-cache"
    head = s3.head_object(Bucket="bucket1", Key=key)
    assert head["ContentLength"] == len(data)
    assert head["Metadata"] == {"color": "blue", "note": "hello world"}

    for rng, part in (("bytes=10-19", data[10:20]), ("bytes=-7", data[-7:]), ("bytes=300000-", data[300000:]),
                      ("bytes=307000-999999999", data[307000:])):
        r = s3.get_object(Bucket="bucket1", Key=key, Range=rng)
        assert r["Body"].read() == part, rng
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    r = s3.get_object(Bucket="bucket1", Key=key, Range="bytes=10-19")
    assert r["ContentRange"] == f"bytes 10-19/{len(data)}"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="bucket1", Key=key, Range=f"bytes={len(data)}-")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["content-range"] == f"bytes */{len(data)}"
    # Conditionals through the whole stack (evaluated above, pinned with If-Match below).
    assert code_of(lambda: s3.get_object(Bucket="bucket1", Key=key, IfMatch='"0000"')) == "PreconditionFailed"
    assert s3.get_object(Bucket="bucket1", Key=key, IfMatch=put["ETag"])["Body"].read() == data

    # On disk: one data file holding exactly the bytes, named by a hash; one record.
    files = data_file_of(store, key)
    assert len(files) == 1 and files[0].read_bytes() == data
    assert data_files(store) == files
    rec = decode_record(meta_records(store)[record(key)])
    assert rec["size"] == len(data) and rec["etag"] == put["ETag"] and rec["content_type"] == "text/x-fs"
    assert rec["file"] == files[0].relative_to(store / "objects").as_posix()
    assert rec["clean"] is False                      # a client's write exists only here
    # Neither the cloud store nor the on-prem cluster got it.
    assert_not_in_cloud(local, local_name(key))
    assert code_of(lambda: remote.head_object(Bucket="bucket1", Key=key)) == "404"

    # A new version replaces the file; DELETE removes file and record (and is idempotent).
    s3.put_object(Bucket="bucket1", Key=key, Body=b"v2")
    files2 = data_file_of(store, key)
    assert len(files2) == 1 and files2[0].read_bytes() == b"v2" and files2 != files
    assert s3.delete_object(Bucket="bucket1", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket="bucket1", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert code_of(lambda: s3.head_object(Bucket="bucket1", Key=key)) == "404"
    assert data_file_of(store, key) == []
    assert record(key) not in meta_keys(store)
    assert list((store / "tmp").iterdir()) == []


UNSAFE = ["../../x", "/etc/passwd", "a/../../b", "..", ".", "%2e%2e/x", "../", "dir/..", "x/./y",
          "\\..\\win", "ünï/çødé ✓"]


def test_unsafe_keys_are_just_names_inside_the_directory(fs, store, tmp_path):
    s3 = fs.client()
    before = {p for p in tmp_path.rglob("*")}
    bodies = {k: f"body of {k!r}".encode() for k in UNSAFE}
    for k in UNSAFE:
        # noprefix: the store name is the key itself, so it is exactly the unsafe string.
        s3.put_object(Bucket="noprefix", Key=k, Body=bodies[k])
    for k in UNSAFE:
        assert s3.get_object(Bucket="noprefix", Key=k)["Body"].read() == bodies[k], k
        files = data_file_of(store, k, "noprefix")
        assert len(files) == 1 and files[0].read_bytes() == bodies[k], k
    # Every new file is inside the store directory (or the connector's own); none is named after a key.
    outside = [p for p in set(tmp_path.rglob("*")) - before
               if store not in p.parents and p != store and fs.dir not in p.parents]
    assert outside == []
    for p in data_files(store):
        rel = p.relative_to(store / "objects").as_posix()
        assert set(rel) <= set("0123456789abcdef/-"), rel
    assert {record(k, "noprefix") for k in UNSAFE} <= meta_keys(store)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="noprefix").get("Contents", [])]
    assert sorted(UNSAFE, key=lambda k: k.encode()) == [k for k in listed if k in UNSAFE]
    for k in UNSAFE:
        s3.delete_object(Bucket="noprefix", Key=k)
    assert data_files(store) == []


def test_a_broken_store_directory_is_a_503_that_names_no_path(fs, store, uid):
    """A data file the server cannot read (here a directory in its place) and a directory it
    cannot create: 503s naming the side and the operation; the paths and the object's name
    in the store are in the log line of the request id, not in the message."""
    s3 = fs.client()
    key = f"fs/{uid}/unreadable"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"bytes")
    [data] = data_file_of(store, key)
    data.unlink()
    data.mkdir()
    uploads = store / "uploads"
    moved = store / "uploads.moved"
    uploads.rename(moved)
    uploads.write_bytes(b"not a directory")
    try:
        for call in (lambda: s3.get_object(Bucket="bucket1", Key=key),
                     lambda: s3.create_multipart_upload(Bucket="bucket1", Key=f"fs/{uid}/mpu")):
            with pytest.raises(botocore.exceptions.ClientError) as e:
                call()
            err = e.value.response
            assert err["Error"]["Code"] == "ServiceUnavailable", err
            message = err["Error"]["Message"]
            assert message.startswith("local store failed to ") and "/" not in message, message
            rid = err["ResponseMetadata"]["RequestId"]
            assert any(f"request {rid}: ServiceUnavailable" in l and str(store.resolve()) in l
                       for l in fs.log_text().splitlines()), rid
    finally:
        uploads.unlink()
        moved.rename(uploads)
        data.rmdir()


def test_bad_digest_or_broken_body_stores_nothing(fs, store, uid):
    s3 = fs.client()
    key = f"fs/{uid}/digest"
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    assert code_of(lambda: s3.put_object(Bucket="bucket1", Key=key, Body=b"payload", ContentMD5=wrong)) == "BadDigest"
    assert code_of(lambda: s3.head_object(Bucket="bucket1", Key=key)) == "404"
    assert data_files(store) == [] and list((store / "tmp").iterdir()) == []
    assert record(key) not in meta_keys(store)
    right = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    s3.put_object(Bucket="bucket1", Key=key, Body=b"payload", ContentMD5=right)
    assert data_file_of(store, key)[0].read_bytes() == b"payload"


def test_copy_into_the_file_store(fs, store, local, remote, uid):
    s3 = fs.client()
    src, dst = f"fs/{uid}/src", f"fs/{uid}/dst"
    s3.put_object(Bucket="bucket1", Key=src, Body=b"local source", Metadata={"a": "1"})
    s3.copy_object(Bucket="bucket1", Key=dst, CopySource={"Bucket": "bucket1", "Key": src})
    assert s3.get_object(Bucket="bucket1", Key=dst)["Body"].read() == b"local source"
    assert data_file_of(store, dst)[0].read_bytes() == b"local source"
    assert s3.head_object(Bucket="bucket1", Key=dst)["Metadata"] == {"a": "1"}

    # A source that exists only on-prem is read from there and lands in the file store.
    onprem, copied = f"fs/{uid}/onprem-only", f"fs/{uid}/copied-from-onprem"
    remote.put_object(Bucket="bucket1", Key=onprem, Body=b"on-prem bytes")
    s3.copy_object(Bucket="bucket1", Key=copied, CopySource={"Bucket": "bucket1", "Key": onprem})
    assert data_file_of(store, copied)[0].read_bytes() == b"on-prem bytes"
    assert data_file_of(store, onprem) == []
    assert code_of(lambda: remote.head_object(Bucket="bucket1", Key=copied)) == "404"
    assert_not_in_cloud(local, local_name(copied))

    # Across buckets of the same store (different 1space names, same namespace).
    s3.copy_object(Bucket="prefixed", Key=dst, CopySource={"Bucket": "bucket1", "Key": src})
    assert data_file_of(store, dst, "prefixed")[0].read_bytes() == b"local source"
    assert record(dst, "prefixed") in meta_keys(store)


def test_metadata_update_local_copy_and_onprem_only(fs, store, remote, uid):
    s3 = fs.client()
    key = f"fs/{uid}/meta"
    put = s3.put_object(Bucket="bucket1", Key=key, Body=b"body", Metadata={"old": "1"}, ContentType="text/old")
    before = data_file_of(store, key)
    s3.copy_object(Bucket="bucket1", Key=key, CopySource={"Bucket": "bucket1", "Key": key},
                   MetadataDirective="REPLACE", Metadata={"new": "2"}, ContentType="text/new")
    head = s3.head_object(Bucket="bucket1", Key=key)
    assert head["Metadata"] == {"new": "2"}          # replaced, not merged
    assert head["ContentType"] == "text/new"
    assert head["ETag"] == put["ETag"]
    assert data_file_of(store, key) == before and before[0].read_bytes() == b"body"

    # Only on-prem: the on-prem copy is updated, the file store stays empty for it.
    onprem = f"fs/{uid}/onprem-meta"
    remote.put_object(Bucket="bucket1", Key=onprem, Body=b"x", Metadata={"old": "1"})
    s3.copy_object(Bucket="bucket1", Key=onprem, CopySource={"Bucket": "bucket1", "Key": onprem},
                   MetadataDirective="REPLACE", Metadata={"new": "3"})
    assert remote.head_object(Bucket="bucket1", Key=onprem)["Metadata"] == {"new": "3"}
    assert data_file_of(store, onprem) == []
    assert record(onprem) not in meta_keys(store)


def test_multipart_upload(fs, store, uid):
    s3 = fs.client()
    key = f"fs/{uid}/mp"
    up = s3.create_multipart_upload(Bucket="bucket1", Key=key, ContentType="video/x-fs",
                                    Metadata={"m": "1"})["UploadId"]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="bucket1", Prefix=f"fs/{uid}/")["Uploads"]] == [up]
    p1, p2 = os.urandom(5 * MiB), os.urandom(1234)
    e1 = s3.upload_part(Bucket="bucket1", Key=key, UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket="bucket1", Key=key, UploadId=up, PartNumber=2, Body=p2)["ETag"]
    assert e1 == '"%s"' % hashlib.md5(p1).hexdigest()
    assert [p["PartNumber"] for p in s3.list_parts(Bucket="bucket1", Key=key, UploadId=up)["Parts"]] == [1, 2]
    assert len([p for p in (store / "uploads" / up).iterdir()]) == 2
    assert code_of(lambda: s3.complete_multipart_upload(
        Bucket="bucket1", Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]})) == "InvalidPart"
    small = f"fs/{uid}/small"
    sup = s3.create_multipart_upload(Bucket="bucket1", Key=small)["UploadId"]
    tags = [s3.upload_part(Bucket="bucket1", Key=small, UploadId=sup, PartNumber=n, Body=b"x" * 100)["ETag"]
            for n in (1, 2)]
    assert code_of(lambda: s3.complete_multipart_upload(
        Bucket="bucket1", Key=small, UploadId=sup,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": t} for n, t in zip((1, 2), tags)]})) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket="bucket1", Key=small, UploadId=sup)
    assert not (store / "uploads" / sup).exists()
    assert code_of(lambda: s3.list_parts(Bucket="bucket1", Key=small, UploadId=sup)) == "NoSuchUpload"

    done = s3.complete_multipart_upload(Bucket="bucket1", Key=key, UploadId=up,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                                                   {"PartNumber": 2, "ETag": e2}]})
    expected = '"%s-2"' % hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest()
    assert done["ETag"] == expected
    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == p1 + p2 and got["ETag"] == expected
    assert got["ContentType"] == "video/x-fs" and got["Metadata"] == {"m": "1"}
    assert data_file_of(store, key)[0].read_bytes() == p1 + p2
    assert list((store / "uploads").iterdir()) == []
    assert meta_keys(store, "m") == set() and meta_keys(store, "p") == set()
    assert code_of(lambda: s3.list_parts(Bucket="bucket1", Key=key, UploadId=up)) == "NoSuchUpload"
    assert code_of(lambda: s3.upload_part(Bucket="bucket1", Key=key, UploadId="../../objects",
                                          PartNumber=1, Body=b"x")) == "NoSuchUpload"


def test_listing_merges_file_store_and_onprem(fs, store, remote, uid):
    s3 = fs.client()
    base = f"fs/{uid}/"
    for k in ("a", "both", "d1/x", "d1/y"):
        s3.put_object(Bucket="bucket1", Key=base + k, Body=b"local " + k.encode())
    for k in ("b", "both", "d2/z"):
        remote.put_object(Bucket="bucket1", Key=base + k, Body=b"remote")
    assert len(data_files(store)) == 4
    page = s3.list_objects_v2(Bucket="bucket1", Prefix=base, Delimiter="/")
    assert [o["Key"][len(base):] for o in page["Contents"]] == ["a", "b", "both"]
    assert [p["Prefix"][len(base):] for p in page["CommonPrefixes"]] == ["d1/", "d2/"]
    both = [o for o in page["Contents"] if o["Key"] == base + "both"][0]
    assert both["Size"] == len(b"local both")                    # the local copy wins
    assert both["ETag"] == '"%s"' % hashlib.md5(b"local both").hexdigest()

    seen, token = [], None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        p = s3.list_objects_v2(Bucket="bucket1", Prefix=base, MaxKeys=2, **kw)
        seen += [o["Key"][len(base):] for o in p.get("Contents", [])]
        if not p["IsTruncated"]:
            break
        token = p["NextContinuationToken"]
    assert seen == ["a", "b", "both", "d1/x", "d1/y", "d2/z"]
    v1 = s3.list_objects(Bucket="bucket1", Prefix=base, Delimiter="/", MaxKeys=2, Marker=base + "b")
    assert [o["Key"][len(base):] for o in v1.get("Contents", [])] + \
        [p["Prefix"][len(base):] for p in v1.get("CommonPrefixes", [])] == ["both", "d1/"]
    assert v1["IsTruncated"]


def test_namespaces_and_restart(make_connector, fs, store, uid):
    s3 = fs.client()
    key = f"ns-{uid}"
    # noprefix (aws_bucket fs-data) and wild1 (the "/*" entry, aws_bucket fs-other) both name it just `key`.
    s3.put_object(Bucket="noprefix", Key=key, Body=b"in fs-data")
    s3.put_object(Bucket="wild1", Key=key, Body=b"in fs-other")
    assert s3.get_object(Bucket="noprefix", Key=key)["Body"].read() == b"in fs-data"
    assert s3.get_object(Bucket="wild1", Key=key)["Body"].read() == b"in fs-other"
    assert {f"{NS}\0{key}", f"{NS2}\0{key}"} <= meta_keys(store)
    assert data_file_of(store, key, "noprefix")[0].read_bytes() == b"in fs-data"
    assert data_file_of(store, key, "noprefix", ns=NS2)[0].read_bytes() == b"in fs-other"
    s3.delete_object(Bucket="wild1", Key=key)
    assert s3.get_object(Bucket="noprefix", Key=key)["Body"].read() == b"in fs-data"

    # Everything survives a restart of the connector (a new process over the same directory);
    # the first one exits cleanly (its databases closed), leftovers of a crash are cleaned up.
    fs.stop()
    assert fs.proc.returncode == 0, fs.log_text()[-2000:]
    leftovers = [store / "tmp" / "half-written.tmp", store / "objects" / "ab" / "cd" / ("ab" * 32 + "-orphan"),
                 store / "uploads" / ("f" * 32) / "1-part"]
    for p in leftovers:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"leftover")
    again = make_connector(entries=fs_entries(store)).start()
    c = again.client()
    assert c.get_object(Bucket="noprefix", Key=key)["Body"].read() == b"in fs-data"
    assert [p for p in leftovers if p.exists()] == []
    assert not (store / "uploads" / ("f" * 32)).exists()
    assert data_file_of(store, key, "noprefix")[0].read_bytes() == b"in fs-data"
    assert code_of(lambda: c.head_object(Bucket="wild1", Key=key)) == "404"
    assert [o["Key"] for o in c.list_objects_v2(Bucket="noprefix", Prefix=key).get("Contents", [])] == [key]


# --------------------------------------------------------------- capacity and configuration


def test_full_store_refuses_dirty_puts_with_507(make_connector, store, uid):
    c = make_connector(entries=fs_entries(store), extra_conf="file_store_max_bytes = 3M").start()
    s3 = c.client()
    keys = [f"fs/{uid}/cap{i}" for i in range(3)]
    for k in keys:
        s3.put_object(Bucket="bucket1", Key=k, Body=os.urandom(MiB))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="bucket1", Key=f"fs/{uid}/one-too-many", Body=b"x" * 1000)
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 507
    assert err["Error"]["Code"] == "InsufficientStorage"
    assert f"the embedded file store is full: {3 * MiB} of {3 * MiB} bytes hold copies " \
           "that exist only here and are never evicted" in err["Error"]["Message"]
    # Where the store is goes to the log, under the request id, never to the client.
    assert str(store) not in err["Error"]["Message"]
    rid = err["ResponseMetadata"]["RequestId"]
    assert any(f"request {rid}: InsufficientStorage" in l and str(store.resolve()) in l
               for l in c.log_text().splitlines()), rid
    # Nothing was evicted to make room, nothing of the refused object was kept.
    for k in keys:
        assert s3.head_object(Bucket="bucket1", Key=k)["ContentLength"] == MiB
    assert len(data_files(store)) == 3 and list((store / "tmp").iterdir()) == []
    # Deleting makes room again; replacing an object counts its old size as freed.
    s3.delete_object(Bucket="bucket1", Key=keys[0])
    s3.put_object(Bucket="bucket1", Key=f"fs/{uid}/one-too-many", Body=b"x" * 1000)
    s3.put_object(Bucket="bucket1", Key=keys[1], Body=os.urandom(MiB))


@pytest.mark.parametrize("conf, mapping_url, named", [
    ("file_store_max_bytes = lots", None, "file_store_max_bytes"),
    ("file_store_max_bytes = -1", None, "file_store_max_bytes"),
    ("", "file://relative/dir", "aws_endpoint"),
])
def test_invalid_file_store_config_is_named(make_connector, connector_bin, store, conf, mapping_url, named):
    entries = fs_entries(store)
    if mapping_url:
        entries[0]["aws_endpoint"] = mapping_url
    c = make_connector(entries=entries, extra_conf=conf)
    r = subprocess.run([connector_bin, "--config", str(c.dir / "cloud-connector.conf"), "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert named in r.stderr, r.stderr


def test_clean_cached_copies_are_evicted_least_recently_used_first(make_connector, store, remote, uid):
    """Copies the cache-on-read layer made (clean: also on-prem) make room for local writes, least
    recently read first; local-only copies never go, and a store full of them answers 507."""
    entries = fs_entries(store)
    entries[0]["cc_cache_on_read"] = True            # bucket1
    c = make_connector(entries=entries, extra_conf="file_store_max_bytes = 3M").start()
    s3 = c.client()
    a, b = f"fs/{uid}/onprem-a", f"fs/{uid}/onprem-b"
    body = {a: os.urandom(MiB), b: os.urandom(MiB)}
    for k in (a, b):
        remote.put_object(Bucket="bucket1", Key=k, Body=body[k])
        assert s3.get_object(Bucket="bucket1", Key=k)["Body"].read() == body[k]
    deadline = time.time() + 20
    while not ({record(a), record(b)} <= meta_keys(store)) and time.time() < deadline:
        time.sleep(0.1)
    records = meta_records(store)
    for k in (a, b):
        rec = decode_record(records[record(k)])
        assert rec["clean"] is True and rec["size"] == MiB
        assert data_file_of(store, k)[0].read_bytes() == body[k]
    assert s3.get_object(Bucket="bucket1", Key=a)["Body"].read() == body[a]   # a read: b is now the LRU
    assert decode_record(meta_records(store)[record(a)])["atime"] > decode_record(records[record(a)])["atime"]

    dirty = [f"fs/{uid}/dirty{i}" for i in range(4)]
    s3.put_object(Bucket="bucket1", Key=dirty[0], Body=os.urandom(MiB))    # 3 MiB: fits
    assert {record(a), record(b)} <= meta_keys(store)
    s3.put_object(Bucket="bucket1", Key=dirty[1], Body=os.urandom(MiB))    # b goes
    keys = meta_keys(store)
    assert record(b) not in keys and data_file_of(store, b) == []
    assert record(a) in keys and data_file_of(store, a)[0].read_bytes() == body[a]
    s3.put_object(Bucket="bucket1", Key=dirty[2], Body=os.urandom(MiB))    # a goes
    assert record(a) not in meta_keys(store) and data_file_of(store, a) == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_object(Bucket="bucket1", Key=dirty[3], Body=os.urandom(MiB))
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 507
    assert "hold copies that exist only here and are never evicted" in e.value.response["Error"]["Message"]
    assert {record(k) for k in dirty[:3]} <= meta_keys(store)
    assert len(data_files(store)) == 3
    # The evicted objects are still served, from on-prem.
    for k in (a, b):
        assert s3.get_object(Bucket="bucket1", Key=k)["Body"].read() == body[k]


def test_delivered_copies_are_clean_and_evictable_queued_ones_never(make_connector, store, remote, uid):
    """Copies write-through and write-back have delivered on-prem are clean (evictable); a
    write-back copy still waiting for on-prem is local-only and never evicted."""
    entries = fs_entries(store)
    entries[0]["cc_write_policy"] = "write-through"   # bucket1
    entries[1]["cc_write_policy"] = "write-back"      # prefixed
    proxy = FaultProxy("127.0.0.1", int(REMOTE_URL.rsplit(":", 1)[1])).start()
    try:
        c = make_connector(entries=entries, extra_conf="file_store_max_bytes = 3M")
        conf = c.dir / "cloud-connector.conf"
        conf.write_text(conf.read_text().replace(f"swift_baseurl = {REMOTE_URL}", f"swift_baseurl = {proxy.url}"))
        s3 = c.start().client()
        through, back, queued = f"fs/{uid}/through", f"fs/{uid}/back", f"fs/{uid}/queued"
        body = {k: os.urandom(MiB) for k in (through, back, queued)}

        s3.put_object(Bucket="bucket1", Key=through, Body=body[through])
        assert decode_record(meta_records(store)[record(through)])["clean"] is True   # before the 200
        s3.put_object(Bucket="prefixed", Key=back, Body=body[back])
        assert wait_for(lambda: decode_record(meta_records(store)[record(back, "prefixed")])["clean"])
        for k, bucket in ((through, "bucket1"), (back, "prefixed")):
            assert remote.get_object(Bucket=bucket, Key=k)["Body"].read() == body[k]

        proxy.set_mode("refuse")                         # on-prem unreachable: write-back queues
        s3.put_object(Bucket="prefixed", Key=queued, Body=body[queued])
        time.sleep(1.5)                                  # the worker has tried (and failed) at least once
        assert decode_record(meta_records(store)[record(queued, "prefixed")])["clean"] is False

        # Local-only writes need room: the delivered copies go, least recently used first; the queued never.
        dirty = [f"fs/{uid}/dirty{i}" for i in range(3)]
        s3.put_object(Bucket="noprefix", Key=dirty[0], Body=os.urandom(MiB))
        assert record(through) not in meta_keys(store) and data_file_of(store, through) == []
        s3.put_object(Bucket="noprefix", Key=dirty[1], Body=os.urandom(MiB))
        assert record(back, "prefixed") not in meta_keys(store)
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_object(Bucket="noprefix", Key=dirty[2], Body=os.urandom(MiB))
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 507
        assert data_file_of(store, queued, "prefixed")[0].read_bytes() == body[queued]

        # On-prem back: the queued copy is delivered (and becomes clean); the evicted ones read from on-prem.
        proxy.set_mode("pass")
        assert wait_for(lambda: decode_record(meta_records(store)[record(queued, "prefixed")])["clean"], timeout=60)
        assert remote.get_object(Bucket="prefixed", Key=queued)["Body"].read() == body[queued]
        assert s3.get_object(Bucket="bucket1", Key=through)["Body"].read() == body[through]
        assert s3.get_object(Bucket="prefixed", Key=back)["Body"].read() == body[back]
    finally:
        proxy.stop()


def test_concurrent_overwrites_and_reads_see_whole_versions(fs, store, uid):
    """Readers racing writers of one key get one complete version each (never a mix or a short
    body); afterwards one data file and one record remain."""
    import threading
    key = f"fs/{uid}/race"
    size = 300 * 1024
    fs.client().put_object(Bucket="bucket1", Key=key, Body=b"\0" * size)
    errors = []

    def writer(n):
        s3 = fs.client()
        try:
            for i in range(10):
                s3.put_object(Bucket="bucket1", Key=key, Body=bytes([n * 16 + i]) * size)
        except Exception as e:   # noqa: BLE001 - reported below
            errors.append(repr(e))

    def reader():
        s3 = fs.client()
        try:
            for _ in range(15):
                r = s3.get_object(Bucket="bucket1", Key=key)
                data = r["Body"].read()
                if len(data) != size or data.count(data[:1]) != size or \
                        r["ETag"] != '"%s"' % hashlib.md5(data).hexdigest():
                    errors.append(f"mixed or short version: {len(data)} bytes, etag {r['ETag']}")
        except Exception as e:   # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)] + \
              [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    final = fs.client().get_object(Bucket="bucket1", Key=key)["Body"].read()
    files = data_file_of(store, key)
    assert len(files) == 1 and files[0].read_bytes() == final
    assert list((store / "tmp").iterdir()) == []
