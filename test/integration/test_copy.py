"""CopyObject between keys and UploadPartCopy: the source is read local-first
(on-prem if there is no local copy) and streamed into a new local object."""
import hashlib
import os

import botocore
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from conftest import LOCAL_BUCKET, local_name

MiB = 1024 * 1024


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_copy_remote_only_source_lands_locally(s3, local, remote, uid):
    src, dst = f"cp-{uid}/ö src", f"cp-{uid}/dst+1"
    remote.put_object(Bucket="bucket1", Key=src, Body=b"on-prem bytes", ContentType="text/x-onprem",
                      Metadata={"a": "1"})
    r = s3.copy_object(Bucket="bucket1", Key=dst, CopySource={"Bucket": "bucket1", "Key": src})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(b"on-prem bytes").hexdigest()
    stored = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(dst))
    assert stored["Body"].read() == b"on-prem bytes"
    assert stored["ContentType"] == "text/x-onprem"
    assert stored["Metadata"] == {"a": "1"}          # COPY directive keeps the source's metadata
    # The source is untouched on-prem, and no local copy of it was made.
    assert remote.get_object(Bucket="bucket1", Key=src)["Body"].read() == b"on-prem bytes"
    assert error_code(lambda: local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(src))) == "404"


def test_copy_replace_directive_and_cross_bucket(s3, local, uid):
    src = f"cp-{uid}/src"
    s3.put_object(Bucket="bucket1", Key=src, Body=b"local bytes", Metadata={"old": "x"})
    s3.copy_object(Bucket="prefixed", Key=f"cp-{uid}/copy", CopySource=f"bucket1/{src}",
                   MetadataDirective="REPLACE", Metadata={"new": "y"}, ContentType="text/plain")
    stored = local.get_object(Bucket=LOCAL_BUCKET, Key=f"pfx/cp-{uid}/copy")
    assert stored["Body"].read() == b"local bytes"
    assert stored["Metadata"] == {"new": "y"}
    assert stored["ContentType"] == "text/plain"


def test_copy_source_with_leading_slash_and_encoding(connector, local, uid):
    src, dst = f"cp-{uid}/spaced name ✓", f"cp-{uid}/dst"
    s3 = connector.client()
    s3.put_object(Bucket="bucket1", Key=src, Body=b"payload")
    for source in ("/bucket1/" + requests.utils.quote(src), "bucket1/" + requests.utils.quote(src)):
        req = AWSRequest(method="PUT", url=f"{connector.url}/bucket1/{requests.utils.quote(dst)}",
                         headers={"x-amz-copy-source": source, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        SigV4Auth(Credentials("test:tester", "testing"), "s3", "us-east-1").add_auth(req)
        r = requests.put(req.url, headers=dict(req.headers))
        assert r.status_code == 200, r.text
        assert "<CopyObjectResult" in r.text
        assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(dst))["Body"].read() == b"payload"
        local.delete_object(Bucket=LOCAL_BUCKET, Key=local_name(dst))


def test_copy_missing_source_and_failed_condition(s3, uid):
    assert error_code(lambda: s3.copy_object(Bucket="bucket1", Key=f"cp-{uid}/x",
                                             CopySource=f"bucket1/cp-{uid}/none")) == "NoSuchKey"
    s3.put_object(Bucket="bucket1", Key=f"cp-{uid}/s", Body=b"s")
    assert error_code(lambda: s3.copy_object(Bucket="bucket1", Key=f"cp-{uid}/x", CopySource=f"bucket1/cp-{uid}/s",
                                             CopySourceIfMatch='"0123"')) == "PreconditionFailed"
    assert error_code(lambda: s3.head_object(Bucket="bucket1", Key=f"cp-{uid}/x")) == "404"


def test_upload_part_copy_with_range_from_remote_only_source(s3, local, remote, uid):
    data = os.urandom(6 * MiB)
    remote.put_object(Bucket="bucket1", Key=f"upc-{uid}/src", Body=data)
    key = f"upc-{uid}/assembled"
    up = s3.create_multipart_upload(Bucket="bucket1", Key=key)["UploadId"]
    p1 = s3.upload_part_copy(Bucket="bucket1", Key=key, UploadId=up, PartNumber=1,
                             CopySource=f"bucket1/upc-{uid}/src", CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    p2 = s3.upload_part_copy(Bucket="bucket1", Key=key, UploadId=up, PartNumber=2,
                             CopySource=f"bucket1/upc-{uid}/src")
    assert p1["CopyPartResult"]["ETag"] == '"%s"' % hashlib.md5(data[:5 * MiB]).hexdigest()
    s3.complete_multipart_upload(Bucket="bucket1", Key=key, UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["CopyPartResult"]["ETag"]},
        {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
    body = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read()
    assert hashlib.md5(body).digest() == hashlib.md5(data[:5 * MiB] + data).digest()
