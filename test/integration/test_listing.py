"""Listing and bucket-level requests end to end: the merged namespace of the
cloud bucket and the on-prem container, page by page, checked against what
the two backends themselves list.

Most tests write straight to the backends (as the on-prem cluster and 1space's
sync daemon do) and list at once, so they run against a private connector with
`listing = live` (the default, `auto`, may answer from the presence index, which
learns about writes that bypass the connector only at its next refresh pass);
test_default_listing_converges_to_the_union covers the default mode.
"""
import datetime
import hashlib
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import (LOCAL_BUCKET, LOCAL_URL, REMOTE_URL, USERS, Connector, hash_prefix, mapping_entries,
                      s3_client)
from objects_helpers import client_error, layout_name, quote_path, raw_request

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture(scope="module")
def live(backends, connector_bin, tmp_path_factory):
    """A connector that always merges the two live listings."""
    c = Connector(connector_bin, tmp_path_factory.mktemp("live-listing"), extra_conf="listing = live").start()
    yield c
    c.proc.kill()   # nothing to drain: skip the grace period idle keep-alive connections would cost
    c.proc.wait()
    c.log.close()


@pytest.fixture
def s3(live):
    return live.client()


def utf8_sorted(items, key=lambda x: x):
    return sorted(items, key=lambda x: key(x).encode())


def put_local(local, key, body, container="bucket1"):
    local.put_object(Bucket=LOCAL_BUCKET, Key=layout_name(key, container), Body=body)


def put_remote(remote, key, body, container="bucket1"):
    remote.put_object(Bucket=container, Key=key, Body=body)


def backend_union(local, remote, prefix, container="bucket1", delimiter=""):
    """The expected merged listing, built from the two backends' own listings:
    [(name, size, etag) or (prefix, None, None)], a name in both taken from the local side."""
    base = layout_name("", container)
    entries = {}
    for client, bucket, strip in ((remote, container, ""), (local, LOCAL_BUCKET, base)):
        kw = {"Bucket": bucket, "Prefix": strip + prefix}
        if delimiter:
            kw["Delimiter"] = delimiter
        for page in client.get_paginator("list_objects_v2").paginate(**kw):
            for o in page.get("Contents", []):
                entries[o["Key"][len(strip):]] = (o["Size"], o["ETag"])   # local overwrites remote
            for p in page.get("CommonPrefixes", []):
                entries[p["Prefix"][len(strip):]] = (None, None)
    return [(k,) + v for k, v in utf8_sorted(entries.items(), key=lambda kv: kv[0])]


def page_entries(resp):
    out = [(o["Key"], o["Size"], o["ETag"]) for o in resp.get("Contents", [])]
    out += [(p["Prefix"], None, None) for p in resp.get("CommonPrefixes", [])]
    return utf8_sorted(out, key=lambda e: e[0])


def collect_v2(s3, bucket, max_keys, **kw):
    pages, token = [], None
    while True:
        args = dict(Bucket=bucket, MaxKeys=max_keys, **kw)
        if token:
            args["ContinuationToken"] = token
        r = s3.list_objects_v2(**args)
        entries = page_entries(r)
        assert r["KeyCount"] == len(entries)
        assert r["MaxKeys"] == max_keys
        assert r.get("ContinuationToken") == token            # echoed as sent
        assert ("NextContinuationToken" in r) == r["IsTruncated"]
        if r["IsTruncated"]:
            assert len(entries) == max_keys                    # pages are exact
        else:
            assert len(entries) <= max_keys
        pages.append(entries)
        if not r["IsTruncated"]:
            return pages
        token = r["NextContinuationToken"]
        assert len(pages) < 200, "listing does not end"


def collect_v1(s3, bucket, max_keys, **kw):
    pages, marker = [], ""
    with_delimiter = bool(kw.get("Delimiter"))
    while True:
        r = s3.list_objects(Bucket=bucket, MaxKeys=max_keys, Marker=marker, **kw)
        entries = page_entries(r)
        assert r.get("Marker", "") == marker
        assert r["MaxKeys"] == max_keys
        # NextMarker only with a delimiter (as AWS); without one clients use the last key.
        assert ("NextMarker" in r) == (r["IsTruncated"] and with_delimiter)
        if r["IsTruncated"]:
            assert len(entries) == max_keys
        pages.append(entries)
        if not r["IsTruncated"]:
            return pages
        if with_delimiter:
            marker = r["NextMarker"]
            last = max([e[0] for e in entries], key=str.encode)
            assert marker == last
        else:
            marker = r["Contents"][-1]["Key"]
        assert len(pages) < 200, "listing does not end"


def flat(pages):
    return [e for p in pages for e in p]


# ----------------------------------------------------------------- the seam between the stores


@pytest.fixture(scope="module")
def seam(backends, live, local_store):
    """7 keys interleaved local/remote; k3 is in both, with different bytes on each side."""
    local, remote = local_store, backends["remote"]
    prefix = f"seam-{uuid.uuid4().hex[:10]}/"
    for i in (0, 2, 3, 4, 6):
        put_local(local, f"{prefix}k{i}", f"local {i} ".encode() * (i + 1))
    for i in (1, 3, 5):
        put_remote(remote, f"{prefix}k{i}", f"remote {i}".encode())
    return prefix


def test_seam_expected_union_is_what_the_backends_hold(local, remote, seam):
    expected = backend_union(local, remote, seam)
    assert [e[0] for e in expected] == [f"{seam}k{i}" for i in range(7)]
    k3 = dict((e[0], e) for e in expected)[f"{seam}k3"]
    assert k3[1] == len(b"local 3 " * 4)                        # the local copy's size ...
    assert k3[2] == f'"{hashlib.md5(b"local 3 " * 4).hexdigest()}"'   # ... and ETag


@pytest.mark.parametrize("max_keys", [1, 2, 3, 6, 7, 1000])
def test_pages_are_exact_across_the_seam_v2(s3, local, remote, seam, max_keys):
    expected = backend_union(local, remote, seam)
    pages = collect_v2(s3, "bucket1", max_keys, Prefix=seam)
    assert flat(pages) == expected
    assert len(pages) == max(1, -(-len(expected) // max_keys))


@pytest.mark.parametrize("max_keys", [1, 2, 3, 7, 1000])
def test_pages_are_exact_across_the_seam_v1(s3, local, remote, seam, max_keys):
    expected = backend_union(local, remote, seam)
    pages = collect_v1(s3, "bucket1", max_keys, Prefix=seam)
    assert flat(pages) == expected


def test_start_after_and_marker(s3, local, remote, seam):
    expected = [e[0] for e in backend_union(local, remote, seam)]
    # start-after a key that exists on one side only, and one that exists nowhere
    for start in (f"{seam}k1", f"{seam}k3", f"{seam}k3zz", f"{seam}"):
        want = [k for k in expected if k.encode() > start.encode()]
        r = s3.list_objects_v2(Bucket="bucket1", Prefix=seam, StartAfter=start)
        assert [o["Key"] for o in r.get("Contents", [])] == want
        assert r["StartAfter"] == start
        r = s3.list_objects(Bucket="bucket1", Prefix=seam, Marker=start)
        assert [o["Key"] for o in r.get("Contents", [])] == want
    # start-after combined with continuation tokens
    pages = collect_v2(s3, "bucket1", 2, Prefix=seam, StartAfter=f"{seam}k1")
    assert [e[0] for e in flat(pages)] == [k for k in expected if k > f"{seam}k1"]
    # a marker past everything
    assert s3.list_objects_v2(Bucket="bucket1", Prefix=seam, StartAfter=f"{seam}z")["KeyCount"] == 0


def test_invalid_continuation_token(s3, seam):
    assert client_error(s3.list_objects_v2, Bucket="bucket1", Prefix=seam,
                        ContinuationToken="not-a-token-we-made") == (400, "InvalidArgument")


@pytest.mark.parametrize("container", ["prefixed", "noprefix", "wild1"])
def test_merge_in_every_layout(s3, local, remote, uid, container):
    prefix = f"lay-{uid}/"
    for i in (0, 1, 3):
        put_local(local, f"{prefix}n{i}", b"local" * (i + 1), container)
    for i in (1, 2, 4):
        put_remote(remote, f"{prefix}n{i}", b"remote", container)
    expected = backend_union(local, remote, prefix, container)
    assert [e[0] for e in expected] == [f"{prefix}n{i}" for i in range(5)]
    assert flat(collect_v2(s3, container, 2, Prefix=prefix)) == expected
    assert flat(collect_v1(s3, container, 1000, Prefix=prefix)) == expected
    # the key in both shows the local copy
    assert dict((e[0], e[1]) for e in expected)[f"{prefix}n1"] == len(b"local" * 2)


# ----------------------------------------------------------------- delimiter


@pytest.fixture(scope="module")
def tree(backends, live, local_store):
    """CommonPrefixes from both sides, some from both at once, and plain keys between them."""
    local, remote = local_store, backends["remote"]
    prefix = f"tree-{uuid.uuid4().hex[:10]}/"
    for name in ("a/1", "c", "d/1", "e/1", "e/2", "g", "i/x/1"):
        put_local(local, prefix + name, b"L:" + name.encode())
    for name in ("a/2", "b/1", "c", "d/2", "f", "h/1", "i/y/1"):
        put_remote(remote, prefix + name, b"R:" + name.encode() * 2)
    return prefix


def test_delimiter_expected_union(local, remote, tree):
    expected = backend_union(local, remote, tree, delimiter="/")
    assert [e[0][len(tree):] for e in expected] == ["a/", "b/", "c", "d/", "e/", "f", "g", "h/", "i/"]


@pytest.mark.parametrize("max_keys", [1, 2, 3, 1000])
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_common_prefixes_once_across_pages(s3, local, remote, tree, max_keys, version):
    expected = backend_union(local, remote, tree, delimiter="/")
    collect = collect_v2 if version == "v2" else collect_v1
    pages = collect(s3, "bucket1", max_keys, Prefix=tree, Delimiter="/")
    got = flat(pages)
    assert got == expected
    prefixes = [e[0] for e in got if e[1] is None]
    assert len(prefixes) == len(set(prefixes))


def test_delimiter_inside_a_common_prefix(s3, local, remote, tree):
    for sub in ("a/", "i/", "e/"):
        expected = backend_union(local, remote, tree + sub, delimiter="/")
        assert flat(collect_v2(s3, "bucket1", 1, Prefix=tree + sub, Delimiter="/")) == expected
        assert flat(collect_v1(s3, "bucket1", 2, Prefix=tree + sub, Delimiter="/")) == expected
    got = s3.list_objects_v2(Bucket="bucket1", Prefix=tree + "i/", Delimiter="/")
    assert [p["Prefix"] for p in got["CommonPrefixes"]] == [tree + "i/x/", tree + "i/y/"]


def test_start_after_a_common_prefix_skips_it(s3, local, remote, tree):
    expected = backend_union(local, remote, tree, delimiter="/")
    r = s3.list_objects_v2(Bucket="bucket1", Prefix=tree, Delimiter="/", StartAfter=tree + "d/")
    # Everything under "d/" was already shown rolled up into "d/": the listing resumes after all of it.
    assert page_entries(r) == [e for e in expected
                               if e[0].encode() > (tree + "d/").encode() and not e[0].startswith(tree + "d/")]


# ----------------------------------------------------------------- max-keys cap


CAP_PREFIX = "cap-fixture-v1/"   # shared by every run, read-only once filled: see `thousand`


@pytest.fixture(scope="module")
def thousand(backends, live, local_store):
    """1001 keys, alternately remote and local: more than one capped page. Filling and
    deleting that many objects costs far more than the test itself, so they stay between
    runs under one fixed prefix; only what is missing is (re)written."""
    local = s3_client(LOCAL_URL, max_pool_connections=32) if local_store is backends["local"] else local_store
    remote = s3_client(REMOTE_URL, max_pool_connections=32)
    keys = [f"{CAP_PREFIX}{i:05d}" for i in range(1001)]
    want_local = {layout_name(k) for k in keys[1::2]}
    want_remote = set(keys[0::2])

    def present(client, bucket, prefix):
        return {o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
                for o in page.get("Contents", [])}
    have_local = present(local, LOCAL_BUCKET, layout_name(CAP_PREFIX))
    have_remote = present(remote, "bucket1", CAP_PREFIX)
    jobs = [(local, LOCAL_BUCKET, n, b"l") for n in want_local - have_local] + \
           [(remote, "bucket1", n, b"rr") for n in want_remote - have_remote]
    with ThreadPoolExecutor(32) as ex:
        list(ex.map(lambda j: j[0].put_object(Bucket=j[1], Key=j[2], Body=j[3]), jobs))
    # Nothing else may sit under the prefix (e.g. a stray object on the wrong side).
    assert present(local, LOCAL_BUCKET, layout_name(CAP_PREFIX)) == want_local
    assert present(remote, "bucket1", CAP_PREFIX) == want_remote
    return CAP_PREFIX, keys


@pytest.mark.parametrize("asked", [1000, 1001, 5000, 2**31 - 1])
def test_max_keys_is_capped_at_1000(s3, thousand, asked):
    prefix, keys = thousand
    r = s3.list_objects_v2(Bucket="bucket1", Prefix=prefix, MaxKeys=asked)
    assert r["KeyCount"] == 1000 and r["MaxKeys"] == 1000 and r["IsTruncated"]
    assert [o["Key"] for o in r["Contents"]] == keys[:1000]
    rest = s3.list_objects_v2(Bucket="bucket1", Prefix=prefix, MaxKeys=asked,
                              ContinuationToken=r["NextContinuationToken"])
    assert [o["Key"] for o in rest["Contents"]] == keys[1000:] and not rest["IsTruncated"]

    r1 = s3.list_objects(Bucket="bucket1", Prefix=prefix, MaxKeys=asked)
    assert len(r1["Contents"]) == 1000 and r1["IsTruncated"] and r1["MaxKeys"] == 1000
    # The default is 1000 too.
    assert s3.list_objects_v2(Bucket="bucket1", Prefix=prefix)["KeyCount"] == 1000


def test_max_keys_invalid(s3, seam):
    for bad in ("-1", "ten", "12abc"):
        r = raw_request(s3.meta.endpoint_url, "GET", "/bucket1",
                        query=f"list-type=2&max-keys={urllib.parse.quote(bad)}&prefix={urllib.parse.quote(seam, safe='')}")
        assert r.status == 400 and b"<Code>InvalidArgument</Code>" in r.body, (bad, r.body)


# ----------------------------------------------------------------- encoding-type=url


ODD_NAMES = ["sp ace", "plus+sign", "ünïcödé", "東京", "pct%25 and %", "amp&lt<gt>", "eq=tilde~", "line\nbreak\x01"]


@pytest.fixture(scope="module")
def odd(backends, live, local_store):
    local, remote = local_store, backends["remote"]
    prefix = f"enc {uuid.uuid4().hex[:10]} é/"
    for i, name in enumerate(ODD_NAMES):
        (put_local if i % 2 else put_remote)(local if i % 2 else remote, prefix + name, name.encode())
    put_local(local, prefix + "dir ö/inner", b"x")
    put_remote(remote, prefix + "dir ö/other", b"y")
    return prefix


def parse_listing(body):
    root = ET.fromstring(body)
    keys = [c.find(NS + "Key").text for c in root.findall(NS + "Contents")]
    prefixes = [c.find(NS + "Prefix").text for c in root.findall(NS + "CommonPrefixes")]
    return root, keys, prefixes


@pytest.mark.parametrize("list_type", ["", "list-type=2&"])
def test_encoding_type_url(s3, local, remote, odd, list_type):
    expected = backend_union(local, remote, odd, delimiter="/")
    r = raw_request(s3.meta.endpoint_url, "GET", "/bucket1",
                    query=f"{list_type}delimiter=%2F&encoding-type=url&prefix={urllib.parse.quote(odd, safe='')}")
    assert r.status == 200, r.body
    root, keys, prefixes = parse_listing(r.body)
    assert root.find(NS + "EncodingType").text == "url"
    assert root.find(NS + "Prefix").text.isascii()
    assert urllib.parse.unquote_plus(root.find(NS + "Prefix").text) == odd
    for raw in keys + prefixes:
        assert raw.isascii() and " " not in raw and "\n" not in raw and "<" not in raw, raw
    decoded = utf8_sorted([urllib.parse.unquote_plus(k) for k in keys + prefixes])
    assert decoded == [e[0] for e in expected]
    assert decoded == utf8_sorted([odd + n for n in ODD_NAMES] + [odd + "dir ö/"])


def test_paging_with_odd_markers(s3, local, remote, odd):
    """Markers and continuation tokens that need encoding survive the round trip
    (boto3 asks for encoding-type=url and decodes Marker/NextMarker/StartAfter itself)."""
    expected = backend_union(local, remote, odd, delimiter="/")
    assert flat(collect_v1(s3, "bucket1", 1, Prefix=odd, Delimiter="/")) == expected
    assert flat(collect_v2(s3, "bucket1", 2, Prefix=odd, Delimiter="/")) == expected
    flat_expected = backend_union(local, remote, odd)
    assert flat(collect_v1(s3, "bucket1", 1, Prefix=odd)) == flat_expected
    for i, e in enumerate(flat_expected):
        r = s3.list_objects_v2(Bucket="bucket1", Prefix=odd, StartAfter=e[0])
        assert r["StartAfter"] == e[0]
        assert page_entries(r) == flat_expected[i + 1:]


def test_listing_without_encoding_escapes_xml(s3, odd):
    # boto3 asks for encoding-type=url by itself; a raw request without it gets XML-escaped names.
    names = [n for n in ODD_NAMES if "\x01" not in n]
    r = raw_request(s3.meta.endpoint_url, "GET", "/bucket1",
                    query=f"list-type=2&prefix={urllib.parse.quote(odd + 'e', safe='')}")
    assert r.status == 200
    _, keys, _ = parse_listing(r.body)
    assert keys == utf8_sorted([odd + n for n in names if n.startswith("e")])
    r = raw_request(s3.meta.endpoint_url, "GET", "/bucket1",
                    query=f"prefix={urllib.parse.quote(odd + 'amp', safe='')}")
    _, keys, _ = parse_listing(r.body)
    assert keys == [odd + "amp&lt<gt>"]
    # boto3's own (decoded) view agrees
    got = s3.list_objects_v2(Bucket="bucket1", Prefix=odd)
    assert [o["Key"] for o in got["Contents"]] == utf8_sorted(
        [odd + n for n in ODD_NAMES] + [odd + "dir ö/inner", odd + "dir ö/other"])


# ----------------------------------------------------------------- SLO manifests never show


def manifest_name(key):
    return hashlib.sha256(key.encode()).hexdigest() + ".swift_slo_manifest"


def all_keys(s3, bucket, **kw):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kw):
        out += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return out


def test_manifests_hidden_with_custom_prefix(s3, local, remote, uid):
    key = f"lst-{uid}/big-object"
    local.put_object(Bucket=LOCAL_BUCKET, Key="pfx/" + key, Body=b"the large object")
    manifests = [f"pfx/.manifests/{manifest_name(key)}"] + [f"pfx/.manifests/{uid}-{i}.swift_slo_manifest"
                                                            for i in range(3)]
    for m in manifests:
        local.put_object(Bucket=LOCAL_BUCKET, Key=m, Body=b"[]")
    remote.put_object(Bucket="prefixed", Key=f".manifests~{uid}", Body=b"after the manifests")

    assert s3.list_objects_v2(Bucket="prefixed", Prefix=".manifests/")["KeyCount"] == 0
    assert s3.list_objects(Bucket="prefixed", Prefix=".manifests/").get("Contents") is None
    listing = all_keys(s3, "prefixed")
    assert key in listing and f".manifests~{uid}" in listing
    assert not [k for k in listing if k.startswith(".manifests/")]
    root = all_keys(s3, "prefixed", Delimiter="/")
    assert f"lst-{uid}/" in root and ".manifests/" not in root

    # A page whose backend entries are all hidden manifests does not end the listing.
    start = f".manifests/{uid}"
    visible = [k for k in listing if k.encode() > start.encode()]
    for max_keys in (1, 2):
        r = s3.list_objects_v2(Bucket="prefixed", StartAfter=start, MaxKeys=max_keys)
        assert [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])] \
            == visible[:max_keys]


def test_manifests_hidden_with_empty_custom_prefix(s3, local, uid):
    key = f"lst-{uid}/big-noprefix"
    local.put_object(Bucket=LOCAL_BUCKET, Key=key, Body=b"large")
    local.put_object(Bucket=LOCAL_BUCKET, Key=f".manifests/{manifest_name(key)}", Body=b"[]")
    assert s3.list_objects_v2(Bucket="noprefix", Prefix=".manifests/")["KeyCount"] == 0
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="noprefix", Prefix=f"lst-{uid}/")["Contents"]] == [key]


def test_manifests_hidden_with_hash_prefix(s3, local, uid):
    key = f"lst-{uid}/big-bucket1"
    local.put_object(Bucket=LOCAL_BUCKET, Key=layout_name(key), Body=b"large")
    manifest = f"{hash_prefix('AUTH_test', 'bucket1')}/.manifests/AUTH_test/bucket1/{manifest_name(key)}"
    local.put_object(Bucket=LOCAL_BUCKET, Key=manifest, Body=b"[]")
    assert s3.list_objects_v2(Bucket="bucket1", Prefix=".manifests/")["KeyCount"] == 0
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="bucket1", Prefix=f"lst-{uid}/")["Contents"]] == [key]
    root = all_keys(s3, "bucket1", Delimiter="/")
    assert ".manifests/" not in root and f"lst-{uid}/" in root
    assert not [k for k in root if manifest_name(key) in k]


@pytest.mark.s3_local_store("objects written to the cloud bucket behind the connector's back (a file store has one writer)")
def test_default_listing_converges_to_the_union(connector, local, remote, uid):
    """The default mode (`auto`) shows writes made behind the connector's back, at the latest
    once the presence index has refreshed, and its pages are exact across the seam too."""
    prefix = f"auto-{uid}/"
    for i in (0, 2, 3, 5):
        put_local(local, f"{prefix}k{i}", b"local" * (i + 1))
    for i in (1, 3, 4):
        put_remote(remote, f"{prefix}k{i}", b"remote")
    expected = backend_union(local, remote, prefix)
    assert [e[0] for e in expected] == [f"{prefix}k{i}" for i in range(6)]
    s3 = connector.client()
    deadline = time.time() + 30
    while flat(collect_v2(s3, "bucket1", 1000, Prefix=prefix)) != expected:
        assert time.time() < deadline, "the listing never showed what the backends hold"
        time.sleep(0.5)
    assert flat(collect_v2(s3, "bucket1", 2, Prefix=prefix)) == expected
    assert flat(collect_v1(s3, "bucket1", 4, Prefix=prefix)) == expected


# ----------------------------------------------------------------- bucket and account level


def test_head_bucket(connector, s3):
    assert s3.head_bucket(Bucket="bucket1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_bucket(Bucket="wild1")["ResponseMetadata"]["HTTPStatusCode"] == 200   # via "/*"
    # "/*" covers the containers the on-prem cluster has, not every name.
    assert client_error(s3.head_bucket, Bucket="nosuchcontainer")[0] == 404
    other = connector.client("test2:tester2", "testing2")
    assert other.head_bucket(Bucket="other2")["ResponseMetadata"]["HTTPStatusCode"] == 200
    # AUTH_test2 maps only other2: anything else is not a bucket for that user.
    assert client_error(other.head_bucket, Bucket="bucket1")[0] == 404
    assert client_error(other.list_objects_v2, Bucket="bucket1") == (404, "NoSuchBucket")


def test_listing_a_wildcard_bucket_on_prem_does_not_have(s3, remote, uid):
    """Under "/*" a name is a bucket when the on-prem cluster has the container: listing a
    misspelt one is NoSuchBucket (as HeadBucket says), not an empty bucket; an empty page
    of one that exists is an empty listing."""
    missing = f"nosuch-{uid}"
    assert client_error(remote.head_bucket, Bucket=missing)[0] == 404
    assert client_error(s3.list_objects_v2, Bucket=missing) == (404, "NoSuchBucket")
    assert client_error(s3.list_objects, Bucket=missing) == (404, "NoSuchBucket")
    got = s3.list_objects_v2(Bucket="wild1", Prefix=f"nothing-{uid}/")
    assert got["KeyCount"] == 0 and "Contents" not in got
    # What a client wrote there (it lands in the cloud bucket) is still listed.
    s3.put_object(Bucket=missing, Key="k.txt", Body=b"x")
    try:
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=missing)["Contents"]] == ["k.txt"]
        # Empty pages of it are empty, not NoSuchBucket: after the last key, under a prefix
        # nothing has, or none at all (max-keys 0: a probe).
        assert s3.list_objects_v2(Bucket=missing, StartAfter="k.txt")["KeyCount"] == 0
        assert "Contents" not in s3.list_objects(Bucket=missing, Marker="k.txt")
        assert s3.list_objects_v2(Bucket=missing, Prefix="x/")["KeyCount"] == 0
        assert s3.list_objects_v2(Bucket=missing, MaxKeys=0)["KeyCount"] == 0
    finally:
        s3.delete_object(Bucket=missing, Key="k.txt")
    assert client_error(s3.list_objects_v2, Bucket=missing) == (404, "NoSuchBucket")


def test_head_bucket_unmapped_without_wildcard(make_connector):
    c = make_connector(entries=[e for e in mapping_entries() if e["container"] != "/*"]).start()
    s3 = c.client()
    assert s3.head_bucket(Bucket="bucket1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client_error(s3.head_bucket, Bucket="wild1")[0] == 404
    assert client_error(s3.list_objects_v2, Bucket="wild1") == (404, "NoSuchBucket")


def bucket_names(client):
    return sorted(b["Name"] for b in client.list_buckets()["Buckets"])


def test_bucket_level_writes_are_refused(s3, connector, local, remote, uid):
    before_remote, before_local = bucket_names(remote), bucket_names(local)
    new = f"new-{uid}"
    calls = [
        (s3.create_bucket, {"Bucket": new}),
        (s3.create_bucket, {"Bucket": "bucket1"}),
        (s3.delete_bucket, {"Bucket": "bucket1"}),
        (s3.delete_bucket, {"Bucket": "wild1"}),
        (s3.put_bucket_acl, {"Bucket": "bucket1", "ACL": "public-read"}),
        (s3.get_bucket_acl, {"Bucket": "bucket1"}),
        (s3.get_bucket_versioning, {"Bucket": "bucket1"}),
        (s3.put_bucket_versioning, {"Bucket": "bucket1", "VersioningConfiguration": {"Status": "Enabled"}}),
        (s3.list_object_versions, {"Bucket": "bucket1"}),
        (s3.get_bucket_policy, {"Bucket": "bucket1"}),
        (s3.put_bucket_tagging, {"Bucket": "bucket1", "Tagging": {"TagSet": [{"Key": "a", "Value": "b"}]}}),
        (s3.get_bucket_lifecycle_configuration, {"Bucket": "bucket1"}),
    ]
    for fn, kw in calls:
        status, code = client_error(fn, **kw)
        if fn == s3.create_bucket and kw["Bucket"] == "bucket1":
            # A mapped bucket exists and is the user's: S3's answer to a repeated CreateBucket.
            assert (status, code) == (409, "BucketAlreadyOwnedByYou")
            continue
        assert 400 <= status < 600 and code in ("AccessDenied", "MethodNotAllowed", "NotImplemented"), \
            (fn.__name__, status, code)
    # Raw requests: a POST on the bucket without a sub-resource, and account-level writes.
    for method, path in (("POST", "/bucket1"), ("PUT", "/"), ("DELETE", "/"), ("POST", "/")):
        r = raw_request(connector.url, method, path)
        assert r.status in (403, 405, 501), (method, path, r.status)
        assert b"<Code>" in r.body and b"<Message>" in r.body
    # Nothing was created or removed on either backend.
    assert bucket_names(remote) == before_remote and new not in before_remote
    assert bucket_names(local) == before_local
    assert remote.head_bucket(Bucket="bucket1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_bucket(Bucket="bucket1")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_get_bucket_location(s3, remote):
    for bucket in ("bucket1", "wild1"):
        got = s3.get_bucket_location(Bucket=bucket)
        assert got["LocationConstraint"] == remote.get_bucket_location(Bucket=bucket)["LocationConstraint"]


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def test_list_buckets_lists_the_mapped_containers(connector):
    """GET / lists the containers of the user's account that the mapping covers: every exact
    entry, plus, when the account has a "/*" entry, the containers the on-prem cluster has;
    each with the on-prem cluster's creation date (the epoch for one it does not have)."""
    for user in USERS[:2]:   # the third user exists only in the connector's database
        client = connector.client(user["access_key"], user["secret_key"])
        entries = [e for e in mapping_entries() if e["account"] == user["account"]]
        on_prem = {b["Name"]: b["CreationDate"]
                   for b in s3_client(REMOTE_URL, user["access_key"], user["secret_key"]).list_buckets()["Buckets"]}
        want = {e["container"] for e in entries if e["container"] != "/*"}
        if any(e["container"] == "/*" for e in entries):
            want |= set(on_prem)
        got = client.list_buckets()
        assert [b["Name"] for b in got["Buckets"]] == sorted(want)
        assert got["Owner"]["ID"] == user["account"]
        for b in got["Buckets"]:
            assert b["CreationDate"] == on_prem.get(b["Name"], EPOCH), b["Name"]
        assert any(b["Name"] in on_prem for b in got["Buckets"])   # the dates were not all unknown
