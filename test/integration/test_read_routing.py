"""read_routing = index: a key the fresh presence index has no local copy of is
read from the on-prem cluster first, without the local lookup that would miss.
The local store is still asked whenever the on-prem cluster has no answer, own
writes are routed local at once, and the one documented window (another
writer overwrites an on-prem key locally: the on-prem copy is served until the
next refresh) closes with the refresh. docs/consistency.md, "Read routing"."""
import json
import time

import botocore
import pytest
import requests

from conftest import LOCAL_BUCKET, LOCAL_PORT, local_name, mapping_entries, wait_for
from fault_proxy import FaultProxy
from objects_helpers import local_exists
from test_operations import scrape

ROUTED = "read_routing = index\nindex_refresh_interval = 3600\nindex_max_staleness = 7200\n"


def routed_connector(make_connector, entries=None, extra=""):
    """A connector with read_routing = index whose index has completed its first refresh."""
    c = make_connector(listing="auto", entries=entries, extra_conf=ROUTED + extra).start()
    s3 = c.client()
    assert wait_for(lambda: s3.list_objects_v2(Bucket="bucket1", MaxKeys=1)["ResponseMetadata"]
                    ["HTTPHeaders"].get("x-cc-listing-source") == "index")
    return c


def body(s3, key):
    return s3.get_object(Bucket="bucket1", Key=key)["Body"].read()


def status_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def routed(c, answered_by):
    return scrape(c.url).get(f'cc_index_routed_reads_total{{answered_by="{answered_by}"}}', 0)


@pytest.mark.s3_local_store("the local store fails on the network, behind a fault proxy")
def test_on_prem_keys_are_read_without_a_local_lookup(make_connector, remote, uid):
    # The cloud store behind a proxy that answers every request 503: a read that
    # looked there first would fail; a routed one never asks it.
    proxy = FaultProxy("127.0.0.1", LOCAL_PORT).start()
    try:
        remote.put_object(Bucket="bucket1", Key=f"rr-{uid}/onprem", Body=b"on-prem bytes")
        entries = mapping_entries(proxy.url)
        routed_c = routed_connector(make_connector, entries)
        plain = make_connector(entries=entries).start()        # read_routing = local-first (the default)
        routed_c.client().put_object(Bucket="bucket1", Key=f"rr-{uid}/cloud", Body=b"cloud bytes")
        proxy.set_mode(503)
        s3 = routed_c.client()
        assert body(s3, f"rr-{uid}/onprem") == b"on-prem bytes"
        assert s3.head_object(Bucket="bucket1", Key=f"rr-{uid}/onprem")["ContentLength"] == 13
        assert routed(routed_c, "remote") == 2
        # The default asks the failing cloud store first, and says so.
        assert status_of(lambda: body(plain.client(), f"rr-{uid}/onprem")) == 503
        # A key the index knows locally is still read locally first: the local
        # store's failure is a 503, never a silent fallback to an older on-prem copy.
        assert status_of(lambda: body(s3, f"rr-{uid}/cloud")) == 503
    finally:
        proxy.stop()


@pytest.mark.s3_local_store("another instance shares the cloud bucket; a file store has one owner")
def test_keys_written_locally_since_the_refresh_are_found(make_connector, local, uid):
    c = routed_connector(make_connector)
    s3 = c.client()
    # Another instance (or any writer of the cloud bucket) adds a key the index has not seen.
    other = make_connector().start()
    other.client().put_object(Bucket="bucket1", Key=f"rr-{uid}/new", Body=b"from another instance")
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(f"rr-{uid}/new"))["Body"].read() == \
        b"from another instance"
    before = routed(c, "local")
    assert body(s3, f"rr-{uid}/new") == b"from another instance"        # on-prem 404, then the local copy
    assert s3.head_object(Bucket="bucket1", Key=f"rr-{uid}/new")["ContentLength"] == 21
    assert routed(c, "local") - before == 2
    assert status_of(lambda: body(s3, f"rr-{uid}/nowhere")) == 404
    assert status_of(lambda: s3.head_object(Bucket="bucket1", Key=f"rr-{uid}/nowhere")) == 404


def test_own_writes_route_local_at_once(make_connector, local, remote, uid):
    key = f"rr-{uid}/overwritten"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem v1")
    c = routed_connector(make_connector)
    s3 = c.client()
    assert body(s3, key) == b"on-prem v1"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"local v2")
    assert body(s3, key) == b"local v2"            # the index learned the write synchronously
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read() == b"local v2"
    assert remote.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"on-prem v1"
    s3.delete_object(Bucket="bucket1", Key=key)    # local copy gone: the on-prem one shows again
    assert body(s3, key) == b"on-prem v1"


@pytest.mark.s3_local_store("another instance shares the cloud bucket; a file store has one owner")
def test_another_instances_overwrite_shows_after_the_next_refresh(make_connector, remote, uid):
    # The documented window: the index said "on-prem only", so the on-prem copy is
    # served until a refresh pass sees the local one (here: the refresh a config reload starts).
    key = f"rr-{uid}/shared"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem v1")
    c = routed_connector(make_connector)
    s3 = c.client()
    other = make_connector().start()
    other.client().put_object(Bucket="bucket1", Key=key, Body=b"cloud v2")
    assert body(other.client(), key) == b"cloud v2"     # local first: the other instance sees it
    assert body(s3, key) == b"on-prem v1"               # routed: the window
    entries = mapping_entries() + [dict(mapping_entries()[0], container="rr-unused")]
    (c.dir / "sync-config.json").write_text(json.dumps({"containers": entries, "devices": "/srv/node"}))
    assert wait_for(lambda: body(s3, key) == b"cloud v2", timeout=30)


def test_routed_reads_fill_the_cache_and_then_read_locally(make_connector, local, remote, uid):
    key = f"rr-{uid}/cached"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"z" * 5000)
    c = routed_connector(make_connector, extra="cache_on_read = true\n")
    s3 = c.client()
    assert body(s3, key) == b"z" * 5000
    assert routed(c, "remote") == 1
    assert wait_for(lambda: local_exists(local, local_name(key)))     # the fill runs beside the client's stream
    before = scrape(c.url).get('cc_answered_by_total{side="local"}', 0)
    assert body(s3, key) == b"z" * 5000
    # A request is counted once its response is out: the client can be faster than that.
    local_reads = lambda: scrape(c.url).get('cc_answered_by_total{side="local"}', 0) - before
    assert wait_for(lambda: local_reads() >= 1) and local_reads() == 1
    assert routed(c, "remote") == 1                     # the index knows the cached copy: not routed


def test_read_routing_is_validated(make_connector):
    c = make_connector(listing="live", extra_conf="read_routing = index\n")
    with pytest.raises(RuntimeError, match="read_routing"):
        c.start()
    entries = mapping_entries()
    entries[0]["cc_read_routing"] = "remote-first"
    c = make_connector(entries=entries)
    with pytest.raises(RuntimeError, match="cc_read_routing"):
        c.start()


@pytest.mark.s3_local_store("another instance shares the cloud bucket; a file store has one owner")
def test_a_routed_read_never_fills_over_a_newer_local_copy(make_connector, local, remote, uid):
    # In the window (another instance wrote a local copy the index has not seen yet),
    # the routed read streams the on-prem copy; its cache fill must not replace the
    # newer local copy with it, or that version would be lost.
    key = f"rr-{uid}/nofill"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem v1")
    c = routed_connector(make_connector, extra="cache_on_read = true\n")
    s3 = c.client()
    other = make_connector().start()
    other.client().put_object(Bucket="bucket1", Key=key, Body=b"cloud v2", Metadata={"who": "other"})
    skipped = 'cc_cache_fills_total{result="skipped"}'
    before = scrape(c.url).get(skipped, 0)
    assert body(s3, key) == b"on-prem v1"                 # the documented window
    assert wait_for(lambda: scrape(c.url).get(skipped, 0) == before + 1)
    copy = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert copy["Body"].read() == b"cloud v2"
    assert copy["Metadata"] == {"who": "other"}           # no cached-copy marker: untouched
    assert body(other.client(), key) == b"cloud v2"


@pytest.mark.s3_local_store("another instance shares the cloud bucket; a file store has one owner")
def test_an_on_prem_refusal_still_finds_a_local_copy(make_connector, uid):
    # This user exists only in the connectors' database: on-prem refuses it (its
    # Swift answers its requests with an error) and it reads local objects only.
    # A local object the index has not seen yet is still served, as local-first
    # would have served it.
    unicode_user = ("tëst:ünïcode", "sécret✓")
    c = routed_connector(make_connector)
    other = make_connector().start()
    other.client(*unicode_user).put_object(Bucket="bucket1", Key=f"rr-{uid}/mine", Body=b"local only")
    s3 = c.client(*unicode_user)
    assert body(s3, f"rr-{uid}/mine") == b"local only"
    assert s3.head_object(Bucket="bucket1", Key=f"rr-{uid}/mine")["ContentLength"] == 10
    # Nothing local: on-prem's answer stands, the very answer local-first gives.
    plain = other.client(*unicode_user)
    refused = status_of(lambda: body(plain, f"rr-{uid}/absent"))
    assert refused >= 400 and refused != 404
    assert status_of(lambda: body(s3, f"rr-{uid}/absent")) == refused


@pytest.mark.parametrize("bucket", ["prefixed", "noprefix"])
def test_names_hidden_from_listings_are_read_local_first(make_connector, remote, uid, bucket):
    # With a custom prefix, ".manifests/..." names are the SLO manifest area: refresh
    # passes never list them, so the index cannot know their local copies, and an own
    # write of such a key must not be read on-prem first once a pass has run.
    key = f".manifests/rr-{uid}"
    remote.put_object(Bucket=bucket, Key=key, Body=b"on-prem v1")
    c = make_connector(listing="auto", extra_conf="read_routing = index\nindex_refresh_interval = 1\n"
                                                  "index_max_staleness = 3600\n").start()
    s3 = c.client()
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"local v2")
        passes = 'cc_index_staleness_seconds'
        assert wait_for(lambda: passes in requests.get(c.url + "/metrics").text)
        time.sleep(3)                                    # a few refresh passes (one per second)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"local v2"
        assert routed(c, "remote") == 0
    finally:
        # Other tests list ".manifests/" of these buckets and expect nothing there.
        s3.delete_object(Bucket=bucket, Key=key)
        remote.delete_object(Bucket=bucket, Key=key)
