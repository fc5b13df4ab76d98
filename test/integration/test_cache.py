"""Cache on read: a remote-only object read once is then in the local store
(same bytes and metadata) and served from there; ranged reads and large
objects do not fill; a failed fill leaves nothing; stale copies are dropped."""
import hashlib
import os
import socket
import time

import requests

import botocore
import pytest

from conftest import LOCAL_BUCKET, LOCAL_URL, local_name, mapping_entries, wait_for
from fault_proxy import FaultProxy


def caching_connector(make_connector, extra="", entries=None):
    return make_connector(entries=entries, extra_conf="cache_on_read = true\n" + extra).start()


def local_head(local, key):
    try:
        return local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return None
        raise


def test_read_once_then_served_locally(make_connector, local, remote, uid):
    c = caching_connector(make_connector)
    s3 = c.client()
    key = f"cache-{uid}/doc é"
    data = os.urandom(300 * 1024)
    remote.put_object(Bucket="bucket1", Key=key, Body=data, ContentType="application/x-cached",
                      Metadata={"owner": "onprem"})
    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == data
    assert got["Metadata"] == {"owner": "onprem"}          # the cache marker never shows
    # The fill completes just after the client has its last byte.
    assert wait_for(lambda: local_head(local, key) is not None)
    stored = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert stored["Body"].read() == data
    assert stored["ContentType"] == "application/x-cached"
    assert stored["Metadata"]["owner"] == "onprem"
    assert stored["Metadata"]["cc-cached-etag"] == got["ETag"]
    # The on-prem original goes away: the cached copy still serves the read.
    remote.delete_object(Bucket="bucket1", Key=key)
    again = s3.get_object(Bucket="bucket1", Key=key)
    assert again["Body"].read() == data and again["Metadata"] == {"owner": "onprem"}
    assert s3.head_object(Bucket="bucket1", Key=key)["Metadata"] == {"owner": "onprem"}


def test_ranged_reads_and_large_objects_do_not_fill(make_connector, local, remote, uid):
    c = caching_connector(make_connector, "cache_max_object_size = 100000")
    s3 = c.client()
    remote.put_object(Bucket="bucket1", Key=f"cache-{uid}/small", Body=b"0123456789")
    remote.put_object(Bucket="bucket1", Key=f"cache-{uid}/big", Body=os.urandom(200000))
    assert s3.get_object(Bucket="bucket1", Key=f"cache-{uid}/small", Range="bytes=2-4")["Body"].read() == b"234"
    assert local_head(local, f"cache-{uid}/small") is None
    s3.get_object(Bucket="bucket1", Key=f"cache-{uid}/big")["Body"].read()
    assert local_head(local, f"cache-{uid}/big") is None
    s3.get_object(Bucket="bucket1", Key=f"cache-{uid}/small")["Body"].read()
    assert wait_for(lambda: local_head(local, f"cache-{uid}/small") is not None)
    # Fills finish in the order they start: by now neither earlier read has left a copy.
    assert local_head(local, f"cache-{uid}/big") is None


def test_per_mapping_override(make_connector, local, remote, uid):
    entries = mapping_entries()
    entries[0]["cc_cache_on_read"] = False          # bucket1 opts out
    c = caching_connector(make_connector, entries=entries)
    remote.put_object(Bucket="bucket1", Key=f"cache-{uid}/x", Body=b"x")
    c.client().get_object(Bucket="bucket1", Key=f"cache-{uid}/x")["Body"].read()
    assert local_head(local, f"cache-{uid}/x") is None


def test_failed_fill_leaves_nothing_and_the_client_is_served(make_connector, local, remote, uid):
    # The local store answers reads (a miss) but every upload to it breaks: the fill
    # fails, the client still gets every byte, and no partial object is left.
    proxy = BreakUploads("127.0.0.1", int(LOCAL_URL.rsplit(":", 1)[1])).start()
    try:
        c = caching_connector(make_connector, entries=mapping_entries(proxy.url))
        s3 = c.client()
        key = f"cache-{uid}/unlucky"
        data = os.urandom(3 * 1024 * 1024)
        remote.put_object(Bucket="bucket1", Key=key, Body=data)
        got = s3.get_object(Bucket="bucket1", Key=key)["Body"].read()
        assert hashlib.md5(got).digest() == hashlib.md5(data).digest()
        assert proxy.broken_uploads >= 1
        assert local_head(local, key) is None
        assert wait_for(lambda: 'cc_cache_fills_total{result="abandoned"} 1' in requests.get(c.url + "/metrics").text)
        assert local_head(local, key) is None
    finally:
        proxy.stop()


class BreakUploads(FaultProxy):
    """Passes every request through, but resets connections that carry a PUT."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.broken_uploads = 0

    def _serve(self, client, mode):
        first = client.recv(65536, socket.MSG_PEEK)
        if first.startswith(b"PUT "):
            self.broken_uploads += 1
            client.recv(65536)
            client.close()
            return
        super()._serve(client, mode)


def test_stale_cached_copies_are_revalidated(make_connector, local, remote, uid):
    c = caching_connector(make_connector, "cache_revalidate_after = 1")
    s3 = c.client()
    key = f"cache-{uid}/changing"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"version 1")
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"version 1"
    assert wait_for(lambda: local_head(local, key) is not None)
    remote.put_object(Bucket="bucket1", Key=key, Body=b"version 2")
    time.sleep(2.1)                                      # older than cache_revalidate_after
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"version 2"
    # ... and the new version is what is cached now.
    assert wait_for(lambda: local_head(local, key) is not None)
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read() == b"version 2"
    remote.delete_object(Bucket="bucket1", Key=key)
    time.sleep(2.1)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="bucket1", Key=key)
    assert e.value.response["Error"]["Code"] in ("404", "NoSuchKey")
    assert local_head(local, key) is None


def test_copies_the_client_wrote_are_never_revalidated(make_connector, local, remote, uid):
    c = caching_connector(make_connector, "cache_revalidate_after = 1")
    s3 = c.client()
    key = f"cache-{uid}/mine"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"written in the cloud")
    remote.put_object(Bucket="bucket1", Key=key, Body=b"different on-prem")
    time.sleep(1.5)
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"written in the cloud"


@pytest.mark.parametrize("write", ["put", "delete"])
@pytest.mark.parametrize("routing", ["local-first", "index"])
def test_a_write_during_a_fill_is_never_overwritten_by_it(make_connector, local, remote, uid, write, routing):
    # A client streams an on-prem object slowly (its fill runs alongside), and the
    # key is written or deleted through the same instance meanwhile: the fill is
    # abandoned, so the acknowledged write stays, in the store and in the index.
    key = f"race-{uid}/big"
    data = os.urandom(24 * 1024 * 1024)
    remote.put_object(Bucket="bucket1", Key=key, Body=data)
    extra = f"listing = auto\nread_routing = {routing}\nindex_refresh_interval = 3600\nindex_max_staleness = 7200\n"
    c = make_connector(listing="auto", extra_conf="cache_on_read = true\n" + extra).start()
    s3 = c.client()
    assert wait_for(lambda: s3.list_objects_v2(Bucket="bucket1", MaxKeys=1)["ResponseMetadata"]
                    ["HTTPHeaders"].get("x-cc-listing-source") == "index")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": key})
    with requests.get(url, stream=True, timeout=60) as slow:
        pieces = slow.iter_content(65536)
        got = [next(pieces)]
        time.sleep(0.5)                              # the connector blocks on the client; the fill waits
        if write == "put":
            s3.put_object(Bucket="bucket1", Key=key, Body=b"own v2")
        else:
            s3.delete_object(Bucket="bucket1", Key=key)
        got.extend(pieces)                           # the slow client still gets every on-prem byte
    assert hashlib.md5(b"".join(got)).digest() == hashlib.md5(data).digest()
    listed = s3.list_objects_v2(Bucket="bucket1", Prefix=key).get("Contents", [])
    if write == "put":
        assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read() == b"own v2"
        assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"own v2"
        assert [(o["Key"], o["Size"]) for o in listed] == [(key, 6)]
    else:
        assert local_head(local, key) is None        # no cached copy came back
        assert [(o["Key"], o["Size"]) for o in listed] == [(key, len(data))]   # the on-prem object
    assert "abandoned: the key is being written" in c.log_text()
