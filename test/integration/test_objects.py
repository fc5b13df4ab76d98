"""Object operations end to end: the real connector between the two real Swift
clusters, every outcome checked on the backends themselves.

  GET/HEAD   local copy first, on-prem copy on a local 404; Range and conditional
             headers on both paths; headers as the backend stores them; HEAD never
             carries a body.
  PUT        local store only, 1space layout, ETag = md5, Content-MD5 checked,
             non-ASCII metadata kept RFC 2047-encoded in the cloud bucket.
  DELETE     local copy only, 204 even when nothing was there.
  copy onto itself (REPLACE): metadata update of the local copy if any, else on-prem.
"""
import hashlib
import base64
import datetime
import email.utils
import time

import pytest

from conftest import LOCAL_BUCKET, local_name
from objects_helpers import (client_error, layout_name, local_exists, quote_path, raw_exchange,
                             raw_request, remote_exists, rfc2047_decode)

BODY = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&()*+,-./:;<=>?@[]^_{|}~" * 3


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def put_on(side, local, remote, key, body, container="bucket1", **kw):
    """Puts an object directly on one backend, where the connector looks for it."""
    if side == "local":
        local.put_object(Bucket=LOCAL_BUCKET, Key=layout_name(key, container), Body=body, **kw)
        return local.head_object(Bucket=LOCAL_BUCKET, Key=layout_name(key, container))
    remote.put_object(Bucket=container, Key=key, Body=body, **kw)
    return remote.head_object(Bucket=container, Key=key)


# ----------------------------------------------------------------- GET / HEAD: which copy


def test_remote_only_object_is_served(s3, local, remote, uid):
    key = f"obj-{uid}/only-on-prem.bin"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem bytes", ContentType="text/x-onprem",
                      Metadata={"origin": "swift", "n": "1"})
    assert not local_exists(local, local_name(key))

    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == b"on-prem bytes"
    backend = remote.head_object(Bucket="bucket1", Key=key)
    for field in ("ContentLength", "ETag", "LastModified", "ContentType", "Metadata"):
        assert got[field] == backend[field], field
    head = s3.head_object(Bucket="bucket1", Key=key)
    for field in ("ContentLength", "ETag", "LastModified", "ContentType", "Metadata"):
        assert head[field] == backend[field], field
    # Reading never copies anything into the cloud bucket.
    assert not local_exists(local, local_name(key))


def test_local_copy_wins_until_it_is_gone(s3, local, remote, uid):
    key = f"obj-{uid}/in-both.txt"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"the on-prem version", Metadata={"v": "remote"})
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(key), Body=b"the cloud version!", Metadata={"v": "local"})

    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == b"the cloud version!"
    assert got["ETag"] == f'"{md5_hex(b"the cloud version!")}"'
    assert got["Metadata"] == {"v": "local"}
    assert s3.head_object(Bucket="bucket1", Key=key)["ContentLength"] == len(b"the cloud version!")

    # The local copy disappears behind the connector's back: the on-prem one shows again.
    local.delete_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == b"the on-prem version"
    assert got["ETag"] == remote.head_object(Bucket="bucket1", Key=key)["ETag"]
    assert got["Metadata"] == {"v": "remote"}


def test_missing_everywhere_is_no_such_key(s3, uid):
    assert client_error(s3.get_object, Bucket="bucket1", Key=f"obj-{uid}/nowhere") == (404, "NoSuchKey")
    assert client_error(s3.head_object, Bucket="bucket1", Key=f"obj-{uid}/nowhere")[0] == 404


@pytest.mark.parametrize("side", ["local", "remote"])
def test_headers_come_back_as_stored(s3, local, remote, uid, side):
    key = f"obj-{uid}/stored-{side}.dat"
    backend = put_on(side, local, remote, key, BODY, ContentType="application/x-cc-test",
                     Metadata={"colour": "green", "count": "42", "mixed-case": "Value With Spaces"},
                     CacheControl="max-age=60", ContentDisposition='attachment; filename="x.dat"',
                     ContentLanguage="fr-CH")
    for call in (s3.head_object, s3.get_object):
        got = call(Bucket="bucket1", Key=key)
        if "Body" in got:
            assert got["Body"].read() == BODY
        assert got["ContentLength"] == len(BODY) == backend["ContentLength"]
        assert got["ETag"] == backend["ETag"] == f'"{md5_hex(BODY)}"'
        assert got["LastModified"] == backend["LastModified"]
        assert got["ContentType"] == backend["ContentType"] == "application/x-cc-test"
        assert got["Metadata"] == backend["Metadata"] == {"colour": "green", "count": "42",
                                                          "mixed-case": "Value With Spaces"}
        assert got["CacheControl"] == backend["CacheControl"]
        assert got["ContentDisposition"] == backend["ContentDisposition"]
        assert got["ContentLanguage"] == backend["ContentLanguage"]


# ----------------------------------------------------------------- Range


@pytest.mark.parametrize("side", ["local", "remote"])
@pytest.mark.parametrize("rng, start, end", [
    ("bytes=10-19", 10, 19),
    ("bytes=0-0", 0, 0),
    ("bytes=-7", len(BODY) - 7, len(BODY) - 1),            # suffix range
    ("bytes=200-", 200, len(BODY) - 1),                     # open range
    (f"bytes=250-{len(BODY) + 500}", 250, len(BODY) - 1),   # end past the object: clipped
])
def test_range_reads(s3, local, remote, uid, side, rng, start, end):
    key = f"obj-{uid}/range-{side}"
    put_on(side, local, remote, key, BODY)
    got = s3.get_object(Bucket="bucket1", Key=key, Range=rng)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == BODY[start:end + 1]
    assert got["ContentRange"] == f"bytes {start}-{end}/{len(BODY)}"
    assert got["ContentLength"] == end - start + 1
    assert got["ETag"] == f'"{md5_hex(BODY)}"'


@pytest.mark.parametrize("side", ["local", "remote"])
def test_unsatisfiable_range_is_416(s3, local, remote, uid, side):
    key = f"obj-{uid}/range416-{side}"
    put_on(side, local, remote, key, BODY)
    for rng in (f"bytes={len(BODY)}-", f"bytes={len(BODY) + 10}-{len(BODY) + 20}"):
        assert client_error(s3.get_object, Bucket="bucket1", Key=key, Range=rng) == (416, "InvalidRange")


# ----------------------------------------------------------------- conditional requests


@pytest.mark.parametrize("side", ["local", "remote"])
def test_conditional_reads(s3, local, remote, connector, uid, side):
    key = f"obj-{uid}/cond-{side}"
    backend = put_on(side, local, remote, key, BODY)
    etag = backend["ETag"]
    last_modified = backend["LastModified"].astimezone(datetime.timezone.utc)
    lm_http = email.utils.format_datetime(last_modified, usegmt=True)
    before = email.utils.format_datetime(last_modified - datetime.timedelta(days=1), usegmt=True)
    path = quote_path("bucket1", key)

    # Conditions that hold: the object comes back.
    for cond in ({"IfMatch": etag}, {"IfNoneMatch": '"0123456789abcdef0123456789abcdef"'},
                 {"IfModifiedSince": last_modified - datetime.timedelta(days=1)},
                 {"IfUnmodifiedSince": last_modified}):
        got = s3.get_object(Bucket="bucket1", Key=key, **cond)
        assert got["Body"].read() == BODY, cond

    # Conditions that fail the "match" way: 412 PreconditionFailed.
    assert client_error(s3.get_object, Bucket="bucket1", Key=key,
                        IfMatch='"0123456789abcdef0123456789abcdef"') == (412, "PreconditionFailed")
    assert client_error(s3.get_object, Bucket="bucket1", Key=key,
                        IfUnmodifiedSince=last_modified - datetime.timedelta(days=1)) == (412, "PreconditionFailed")
    assert client_error(s3.head_object, Bucket="bucket1", Key=key,
                        IfMatch='"0123456789abcdef0123456789abcdef"')[0] == 412

    # Conditions that fail the "none match" way: 304 with the ETag and not one body byte,
    # on GET and on HEAD (the last request of the exchange is an ordinary GET).
    answers = raw_exchange(connector.url, [
        ("GET", path, "", {"If-None-Match": etag}),
        ("GET", path, "", {"If-Modified-Since": lm_http}),
        ("HEAD", path, "", {"If-None-Match": etag}),
        ("GET", path, "", {"If-Unmodified-Since": before}),
        ("GET", path, "", {}),
    ])
    for a in answers[:3]:
        assert a.status == 304
        assert a.header("ETag") == etag
        assert a.body == b""
    assert answers[3].status == 412
    assert b"<Code>PreconditionFailed</Code>" in answers[3].body
    assert answers[4].status == 200 and answers[4].body == BODY


def test_conditions_on_missing_local_copy_reach_remote(s3, local, remote, uid):
    """A local 404 stays a 404 whatever the conditions: they are then judged on the on-prem copy."""
    key = f"obj-{uid}/cond-fallback"
    remote.put_object(Bucket="bucket1", Key=key, Body=BODY)
    etag = remote.head_object(Bucket="bucket1", Key=key)["ETag"]
    got = s3.get_object(Bucket="bucket1", Key=key, IfMatch=etag, Range="bytes=1-3")
    assert got["Body"].read() == BODY[1:4]
    assert client_error(s3.get_object, Bucket="bucket1", Key=key, IfNoneMatch=etag)[0] == 304


# ----------------------------------------------------------------- HEAD has no body


def test_head_answers_carry_no_body(connector, local, remote, uid):
    key_local = f"obj-{uid}/head-local"
    key_remote = f"obj-{uid}/head-remote"
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(key_local), Body=BODY)
    remote.put_object(Bucket="bucket1", Key=key_remote, Body=b"remote body")
    answers = raw_exchange(connector.url, [
        ("HEAD", quote_path("bucket1", key_local), "", {}),
        ("HEAD", quote_path("bucket1", key_remote), "", {}),
        ("HEAD", quote_path("bucket1", f"obj-{uid}/missing"), "", {}),
        ("HEAD", quote_path(f"no-such-container-{uid}", "k"), "", {}),
        ("HEAD", quote_path("bucket1"), "", {}),
        ("HEAD", quote_path("bucket1", key_local), "", {"Range": "bytes=0-4"}),
        ("HEAD", quote_path("bucket1", key_remote), "", {"Range": "bytes=500-"}),
        ("HEAD", quote_path("bucket1", key_local), "", {"If-Match": '"0123456789abcdef0123456789abcdef"'}),
        ("GET", quote_path("bucket1", key_remote), "", {}),
    ])
    assert [a.status for a in answers] == [200, 200, 404, 404, 200, 206, 416, 412, 200]
    assert answers[0].header("Content-Length") == str(len(BODY))
    assert answers[1].header("Content-Length") == str(len(b"remote body"))
    for a in answers[:-1]:
        assert a.body == b"", a.status
    assert answers[-1].body == b"remote body"


# ----------------------------------------------------------------- PUT


@pytest.mark.parametrize("container", ["bucket1", "prefixed", "noprefix", "wild1"])
def test_put_lands_locally_under_the_1space_name(s3, local, remote, uid, container):
    key = f"obj-{uid}/put in {container}.txt"
    body = f"payload for {container} {uid}".encode()
    resp = s3.put_object(Bucket=container, Key=key, Body=body, Metadata={"k": "v"})
    assert resp["ETag"] == f'"{md5_hex(body)}"'

    expected_name = {"prefixed": "pfx/" + key, "noprefix": key}.get(container, local_name(key, container))
    stored = local.get_object(Bucket=LOCAL_BUCKET, Key=expected_name)
    assert stored["Body"].read() == body
    assert stored["ETag"] == resp["ETag"]
    assert stored["Metadata"] == {"k": "v"}
    # Exactly one object for this uid in the cloud bucket, and nothing on-prem.
    names = [o["Key"] for o in local.list_objects_v2(Bucket=LOCAL_BUCKET, Prefix=expected_name[:-len(key)] + f"obj-{uid}/")
             .get("Contents", [])]
    assert names == [expected_name]
    assert not remote_exists(remote, container, key)
    assert remote.list_objects_v2(Bucket=container, Prefix=f"obj-{uid}/")["KeyCount"] == 0

    assert s3.get_object(Bucket=container, Key=key)["Body"].read() == body


def test_put_overwrites_only_the_local_copy(s3, local, remote, uid):
    key = f"obj-{uid}/overwrite"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem original")
    s3.put_object(Bucket="bucket1", Key=key, Body=b"first cloud")
    s3.put_object(Bucket="bucket1", Key=key, Body=b"second cloud write")
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read() == b"second cloud write"
    assert remote.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"on-prem original"
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"second cloud write"


def test_put_empty_object(s3, local, remote, uid):
    key = f"obj-{uid}/empty"
    assert s3.put_object(Bucket="bucket1", Key=key, Body=b"")["ETag"] == f'"{md5_hex(b"")}"'
    stored = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert stored["ContentLength"] == 0 and stored["ETag"] == f'"{md5_hex(b"")}"'
    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == b"" and got["ContentLength"] == 0
    assert not remote_exists(remote, "bucket1", key)


def test_put_checks_content_md5(s3, local, remote, uid):
    body = b"checked body " + uid.encode()
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    wrong = base64.b64encode(hashlib.md5(body + b"x").digest()).decode()

    key_ok = f"obj-{uid}/md5-ok"
    assert s3.put_object(Bucket="bucket1", Key=key_ok, Body=body, ContentMD5=good)["ETag"] == f'"{md5_hex(body)}"'
    assert local_exists(local, local_name(key_ok))

    key_bad = f"obj-{uid}/md5-wrong"
    assert client_error(s3.put_object, Bucket="bucket1", Key=key_bad, Body=body, ContentMD5=wrong) == (400, "BadDigest")
    assert not local_exists(local, local_name(key_bad))
    assert not remote_exists(remote, "bucket1", key_bad)

    key_malformed = f"obj-{uid}/md5-malformed"
    for bad in ("not base64 at all!", base64.b64encode(b"short").decode()):
        assert client_error(s3.put_object, Bucket="bucket1", Key=key_malformed, Body=body,
                            ContentMD5=bad) == (400, "InvalidDigest")
    assert not local_exists(local, local_name(key_malformed))
    assert not remote_exists(remote, "bucket1", key_malformed)
    # The connection stays usable after the refusals.
    assert s3.get_object(Bucket="bucket1", Key=key_ok)["Body"].read() == body


def metadata_as_stored(local, name):
    """The user metadata of a local copy exactly as the local store holds it (not decoded)."""
    if hasattr(local, "metadata_as_stored"):          # the embedded file store: its record
        return local.metadata_as_stored(LOCAL_BUCKET, name)
    stored = raw_request(local.meta.endpoint_url, "HEAD", quote_path(LOCAL_BUCKET, name))
    assert stored.status == 200
    return stored.meta()


def test_non_ascii_metadata_is_rfc2047_in_the_cloud_bucket(connector, local, uid):
    key = f"obj-{uid}/méta data"
    meta = {"city": "Zürich", "tower": "東京タワー", "mood": "😀 ok", "plain": "just ascii"}
    put = raw_request(connector.url, "PUT", quote_path("bucket1", key),
                      headers={f"x-amz-meta-{k}": v for k, v in meta.items()}, body=b"unicode meta")
    assert put.status == 200, put.body

    # In the cloud bucket: encoded words for the non-ASCII values, ASCII ones untouched.
    stored_meta = metadata_as_stored(local, local_name(key))
    assert set(stored_meta) == set(meta)
    assert stored_meta["plain"] == "just ascii"
    for k in ("city", "tower", "mood"):
        assert stored_meta[k].startswith("=?UTF-8?") and stored_meta[k].isascii(), stored_meta[k]
        assert rfc2047_decode(stored_meta[k]) == meta[k]

    # Through the connector: decoded again, on HEAD and GET.
    for method in ("HEAD", "GET"):
        got = raw_request(connector.url, method, quote_path("bucket1", key))
        assert got.status == 200
        assert got.meta() == meta


UNICODE_NAMES = ["café déjà vu", "東京/データ", "emoji 😀🎉", "a+b=c~d%41 e", "ключ+%2F", "100% = sure"]


def test_unicode_keys_and_metadata_round_trip(s3, connector, local, uid):
    prefix = f"uni-{uid}/"
    keys = [prefix + n for n in UNICODE_NAMES]
    for i, key in enumerate(keys):
        r = raw_request(connector.url, "PUT", quote_path("bucket1", key),
                        headers={"x-amz-meta-label": f"étiquette №{i} ✓"}, body=key.encode())
        assert r.status == 200, (key, r.body)
        # Stored under the exact 1space name (the key's own UTF-8 bytes).
        assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read() == key.encode()

    for i, key in enumerate(keys):
        head = raw_request(connector.url, "HEAD", quote_path("bucket1", key))
        assert head.status == 200 and head.meta() == {"label": f"étiquette №{i} ✓"}
        assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == key.encode()

    listed = s3.list_objects_v2(Bucket="bucket1", Prefix=prefix)
    assert [o["Key"] for o in listed["Contents"]] == sorted(keys, key=lambda k: k.encode())
    listed_v1 = s3.list_objects(Bucket="bucket1", Prefix=prefix)
    assert [o["Key"] for o in listed_v1["Contents"]] == sorted(keys, key=lambda k: k.encode())

    for key in keys:
        assert s3.delete_object(Bucket="bucket1", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert not local_exists(local, local_name(key))
    assert s3.list_objects_v2(Bucket="bucket1", Prefix=prefix)["KeyCount"] == 0


AWKWARD_NAMES = ["a//b", "trailing/", "dot/./x", "dot/../x", "q?mark#hash", "semi;colon,comma",
                 "back\\slash", "tab\there", "quote\"'`"]


@pytest.mark.parametrize("name", AWKWARD_NAMES)
def test_awkward_keys_round_trip(s3, local, remote, uid, name):
    """Keys that URL handling likes to rewrite (dot segments, '//', '?', '#') reach both
    backends exactly as named: the local copy under its 1space name, the on-prem one as is."""
    key = f"awk-{uid}/{name}"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"cloud:" + name.encode())
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read() == b"cloud:" + name.encode()
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"cloud:" + name.encode()
    remote.put_object(Bucket="bucket1", Key=key + "~r", Body=b"on-prem:" + name.encode())
    assert s3.get_object(Bucket="bucket1", Key=key + "~r")["Body"].read() == b"on-prem:" + name.encode()
    # The on-prem key was written behind the connector's back: in the default listing mode it
    # shows once the presence index has refreshed (test_listing.py checks live listings at once).
    deadline = time.time() + 30
    while [o["Key"] for o in s3.list_objects_v2(Bucket="bucket1", Prefix=key).get("Contents", [])] != [key, key + "~r"]:
        assert time.time() < deadline, "the listing never showed both copies"
        time.sleep(0.5)
    assert s3.delete_object(Bucket="bucket1", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not local_exists(local, local_name(key))
    assert remote_exists(remote, "bucket1", key + "~r")


# ----------------------------------------------------------------- DELETE


def test_delete_removes_only_the_local_copy(s3, local, remote, uid):
    key = f"obj-{uid}/delete-me"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem stays")
    remote_etag = remote.head_object(Bucket="bucket1", Key=key)["ETag"]
    s3.put_object(Bucket="bucket1", Key=key, Body=b"cloud goes")
    assert local_exists(local, local_name(key))

    assert s3.delete_object(Bucket="bucket1", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not local_exists(local, local_name(key))
    on_prem = remote.get_object(Bucket="bucket1", Key=key)
    assert on_prem["Body"].read() == b"on-prem stays" and on_prem["ETag"] == remote_etag
    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == b"on-prem stays" and got["ETag"] == remote_etag

    # Nothing local any more: still 204, and the on-prem copy is still untouched.
    assert s3.delete_object(Bucket="bucket1", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert remote.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"on-prem stays"


def test_delete_of_nothing_is_204(s3, local, remote, uid):
    key = f"obj-{uid}/never-existed"
    assert s3.delete_object(Bucket="bucket1", Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not local_exists(local, local_name(key))
    assert not remote_exists(remote, "bucket1", key)


# ----------------------------------------------------------------- metadata update


def replace_metadata(s3, key, metadata, content_type, bucket="bucket1"):
    return s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                          MetadataDirective="REPLACE", Metadata=metadata, ContentType=content_type)


def test_metadata_update_applies_to_the_local_copy(s3, local, remote, uid):
    key = f"obj-{uid}/meta-local"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem", ContentType="text/plain", Metadata={"r": "1"})
    s3.put_object(Bucket="bucket1", Key=key, Body=b"cloud body", ContentType="text/plain",
                  Metadata={"old": "gone", "keep": "no"})

    resp = replace_metadata(s3, key, {"new": "yes", "keep": "replaced"}, "application/json")
    assert resp["CopyObjectResult"]["ETag"] == f'"{md5_hex(b"cloud body")}"'

    stored = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert stored["Body"].read() == b"cloud body"
    assert stored["Metadata"] == {"new": "yes", "keep": "replaced"}   # replaced, not merged
    assert stored["ContentType"] == "application/json"
    on_prem = remote.head_object(Bucket="bucket1", Key=key)
    assert on_prem["Metadata"] == {"r": "1"} and on_prem["ContentType"] == "text/plain"

    head = s3.head_object(Bucket="bucket1", Key=key)
    assert head["Metadata"] == {"new": "yes", "keep": "replaced"}
    assert head["ContentType"] == "application/json"


def test_metadata_update_applies_on_prem_when_no_local_copy(s3, local, remote, uid):
    key = f"obj-{uid}/meta-remote"
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem only", ContentType="text/plain",
                      Metadata={"old": "gone", "keep": "no"})
    etag = remote.head_object(Bucket="bucket1", Key=key)["ETag"]

    resp = replace_metadata(s3, key, {"new": "yes", "keep": "replaced"}, "application/x-updated")
    assert resp["CopyObjectResult"]["ETag"] == etag

    on_prem = remote.get_object(Bucket="bucket1", Key=key)
    assert on_prem["Body"].read() == b"on-prem only"
    assert on_prem["Metadata"] == {"new": "yes", "keep": "replaced"}
    assert on_prem["ContentType"] == "application/x-updated"
    # Nothing was created in the cloud bucket.
    assert not local_exists(local, local_name(key))
    assert local.list_objects_v2(Bucket=LOCAL_BUCKET, Prefix=local_name(f"obj-{uid}/"))["KeyCount"] == 0

    head = s3.head_object(Bucket="bucket1", Key=key)
    assert head["Metadata"] == {"new": "yes", "keep": "replaced"}
    assert head["ContentType"] == "application/x-updated"


def test_metadata_update_with_non_ascii_values(s3, connector, local, remote, uid):
    key = f"obj-{uid}/meta-unicode"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"body", Metadata={"old": "x"})
    r = raw_request(connector.url, "PUT", quote_path("bucket1", key),
                    headers={"x-amz-copy-source": quote_path("bucket1", key),
                             "x-amz-metadata-directive": "REPLACE", "Content-Type": "text/plain",
                             "x-amz-meta-city": "Zürich", "x-amz-meta-kanji": "東京"})
    assert r.status == 200 and b"<ETag>" in r.body, r.body
    stored = metadata_as_stored(local, local_name(key))
    assert set(stored) == {"city", "kanji"}
    assert all(v.startswith("=?UTF-8?") for v in stored.values())
    assert {k: rfc2047_decode(v) for k, v in stored.items()} == {"city": "Zürich", "kanji": "東京"}
    assert raw_request(connector.url, "HEAD", quote_path("bucket1", key)).meta() == {"city": "Zürich", "kanji": "東京"}
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"body"


def test_metadata_update_of_a_missing_key(s3, local, remote, uid):
    key = f"obj-{uid}/meta-nowhere"
    assert client_error(replace_metadata, s3, key, {"a": "b"}, "text/plain") == (404, "NoSuchKey")
    assert not local_exists(local, local_name(key))
    assert not remote_exists(remote, "bucket1", key)
