"""Details real clients depend on: ranges (suffix, clamped, unsatisfiable,
multiple), conditional precedence, error documents, ListObjects paging fields."""
import datetime

import botocore
import pytest
import requests

from conftest import local_name


def raw_get(connector, key, headers):
    c = connector.client()
    url = c.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": key}, ExpiresIn=300)
    return requests.get(url, headers=headers)


@pytest.fixture(params=["local", "remote"])
def placed(request, connector, remote, uid):
    key = f"details-{uid}/{request.param}"
    if request.param == "local":
        connector.client().put_object(Bucket="bucket1", Key=key, Body=b"0123456789")
    else:
        remote.put_object(Bucket="bucket1", Key=key, Body=b"0123456789")
    return key


def test_ranges(connector, placed):
    r = raw_get(connector, placed, {"Range": "bytes=-3"})
    assert (r.status_code, r.headers["Content-Range"], r.content) == (206, "bytes 7-9/10", b"789")
    r = raw_get(connector, placed, {"Range": "bytes=4-1000"})
    assert (r.status_code, r.headers["Content-Range"], r.content) == (206, "bytes 4-9/10", b"456789")
    r = raw_get(connector, placed, {"Range": "bytes=20-30"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */10"
    assert "<Code>InvalidRange</Code>" in r.text
    r = raw_get(connector, placed, {"Range": "bytes=0-0,2-3"})   # S3 answers one range or the whole object
    assert (r.status_code, r.content) == (200, b"0123456789")


def test_conditional_precedence(connector, placed):
    etag = raw_get(connector, placed, {}).headers["ETag"]
    past = "Thu, 01 Jan 2004 00:00:00 GMT"
    future = (datetime.datetime.utcnow() + datetime.timedelta(days=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    # If-Match true wins over If-Unmodified-Since false.
    assert raw_get(connector, placed, {"If-Match": etag, "If-Unmodified-Since": past}).status_code == 200
    # If-None-Match false (it matches) wins over If-Modified-Since true: 304 with ETag, no body.
    r = raw_get(connector, placed, {"If-None-Match": etag, "If-Modified-Since": past})
    assert (r.status_code, r.headers["ETag"], r.content) == (304, etag, b"")
    assert "Last-Modified" in r.headers
    r = raw_get(connector, placed, {"If-Match": '"nope"'})
    assert r.status_code == 412 and "<Code>PreconditionFailed</Code>" in r.text
    assert raw_get(connector, placed, {"If-Modified-Since": future}).status_code == 304


def test_error_document_shape(connector, uid):
    r = raw_get(connector, f"details-{uid}/missing", {})
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/xml"
    for tag in ("<Code>NoSuchKey</Code>", "<Resource>", "<HostId>", f"<Key>details-{uid}/missing</Key>"):
        assert tag in r.text
    assert f"<RequestId>{r.headers['x-amz-request-id']}</RequestId>" in r.text
    assert "<Message></Message>" not in r.text


def test_list_v2_fields_and_v1_next_marker(s3, remote, uid):
    for n in range(3):
        s3.put_object(Bucket="bucket1", Key=f"lf-{uid}/a{n}", Body=b"x")
        remote.put_object(Bucket="bucket1", Key=f"lf-{uid}/d{n}/x", Body=b"x")
    p1 = s3.list_objects_v2(Bucket="bucket1", Prefix=f"lf-{uid}/", Delimiter="/", MaxKeys=4)
    assert p1["KeyCount"] == 4 and p1["IsTruncated"] and "NextContinuationToken" in p1
    assert "NextMarker" not in p1
    p2 = s3.list_objects_v2(Bucket="bucket1", Prefix=f"lf-{uid}/", Delimiter="/", MaxKeys=4,
                            ContinuationToken=p1["NextContinuationToken"])
    assert p2["ContinuationToken"] == p1["NextContinuationToken"]
    assert p2["KeyCount"] == 2 and not p2["IsTruncated"] and "NextContinuationToken" not in p2
    names = [o["Key"] for o in p1.get("Contents", []) + p2.get("Contents", [])] + \
            [p["Prefix"] for p in p1.get("CommonPrefixes", []) + p2.get("CommonPrefixes", [])]
    assert sorted(names) == [f"lf-{uid}/a{n}" for n in range(3)] + [f"lf-{uid}/d{n}/" for n in range(3)]
    after = s3.list_objects_v2(Bucket="bucket1", Prefix=f"lf-{uid}/", Delimiter="/", StartAfter=f"lf-{uid}/d0/")
    assert [p["Prefix"] for p in after["CommonPrefixes"]] == [f"lf-{uid}/d1/", f"lf-{uid}/d2/"]
    v1 = s3.list_objects(Bucket="bucket1", Prefix=f"lf-{uid}/", Delimiter="/", MaxKeys=2)
    assert v1["IsTruncated"] and v1["NextMarker"] == f"lf-{uid}/a1"
    nodelim = s3.list_objects(Bucket="bucket1", Prefix=f"lf-{uid}/", MaxKeys=2)
    assert nodelim["IsTruncated"] and "NextMarker" not in nodelim


def test_unsupported_operations_are_501(s3, uid):
    s3.put_object(Bucket="bucket1", Key=f"ns-{uid}", Body=b"x")
    for call in (lambda: s3.get_object_acl(Bucket="bucket1", Key=f"ns-{uid}"),
                 lambda: s3.put_object_tagging(Bucket="bucket1", Key=f"ns-{uid}",
                                               Tagging={"TagSet": [{"Key": "a", "Value": "b"}]}),
                 lambda: s3.get_bucket_versioning(Bucket="bucket1"),
                 lambda: s3.get_bucket_lifecycle_configuration(Bucket="bucket1"),
                 lambda: s3.get_bucket_policy(Bucket="bucket1")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "NotImplemented"
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert e.value.response["Error"]["Message"]


def test_list_buckets_includes_wildcard_containers(s3, backends):
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    # Exact entries of AUTH_test, plus every on-prem container of AUTH_test through its "/*" entry.
    for expected in ("bucket1", "prefixed", "noprefix", "wild1"):
        assert expected in names
    assert "other2" not in names          # AUTH_test2's container
    assert names == sorted(set(names))


def test_object_tagging_reads_as_empty(s3, uid):
    # aws-cli reads tags before a multipart copy; tags are never stored here.
    s3.put_object(Bucket="bucket1", Key=f"tags-{uid}", Body=b"x")
    assert s3.get_object_tagging(Bucket="bucket1", Key=f"tags-{uid}")["TagSet"] == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object_tagging(Bucket="bucket1", Key=f"tags-{uid}-missing")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"


def test_directory_markers_as_hadoop_s3a_makes_them(connector, local, remote, uid):
    """s3a (and the S3 consoles) create "directories" as empty keys ending in "/", probe them
    with HEAD, list them with a delimiter and delete them after writing a child. Such keys
    are ordinary objects here, on either side."""
    s3 = connector.client()
    base = f"s3a-{uid}/"
    s3.put_object(Bucket="bucket1", Key=base + "table/", Body=b"")                 # mkdirs, local
    remote.put_object(Bucket="bucket1", Key=base + "onprem-dir/", Body=b"")         # an on-prem marker
    head = s3.head_object(Bucket="bucket1", Key=base + "table/")
    assert head["ContentLength"] == 0
    assert s3.head_object(Bucket="bucket1", Key=base + "onprem-dir/")["ContentLength"] == 0
    assert local.head_object(Bucket="cloud-data", Key=local_name(base + "table/"))["ContentLength"] == 0
    # A probe for the file first, then the directory: 404 then a listing with max-keys 2.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket="bucket1", Key=base + "table")
    assert e.value.response["Error"]["Code"] == "404"
    probe = s3.list_objects_v2(Bucket="bucket1", Prefix=base + "table/", Delimiter="/", MaxKeys=2)
    assert [o["Key"] for o in probe["Contents"]] == [base + "table/"]
    # A file under it, then the listing of the parent with a delimiter shows both directories once.
    s3.put_object(Bucket="bucket1", Key=base + "table/part-00000", Body=b"row\n")
    top = s3.list_objects_v2(Bucket="bucket1", Prefix=base, Delimiter="/")
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == [base + "onprem-dir/", base + "table/"]
    assert "Contents" not in top
    inside = s3.list_objects_v2(Bucket="bucket1", Prefix=base + "table/", Delimiter="/")
    assert [o["Key"] for o in inside["Contents"]] == [base + "table/", base + "table/part-00000"]
    # s3a deletes the now redundant parent marker; the child stays.
    s3.delete_objects(Bucket="bucket1", Delete={"Objects": [{"Key": base + "table/"}], "Quiet": True})
    inside = s3.list_objects_v2(Bucket="bucket1", Prefix=base + "table/")
    assert [o["Key"] for o in inside["Contents"]] == [base + "table/part-00000"]
