"""Multipart upload through the connector: parts land in the local store under
the object's 1space name, the S3 rules (EntityTooSmall, InvalidPart,
InvalidPartOrder, NoSuchUpload) hold, and the ETag is md5-of-part-md5s-N
everywhere (Complete, HEAD, GET, listings)."""
import hashlib
import os

import botocore
import pytest
from boto3.s3.transfer import TransferConfig
from conftest import LOCAL_BUCKET, local_name

MiB = 1024 * 1024


def multipart_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


def test_multipart_round_trip_etag_and_metadata(s3, local, remote, uid):
    key = f"mpu-{uid}/big.bin"
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123)]
    up = s3.create_multipart_upload(Bucket="bucket1", Key=key, ContentType="application/x-test",
                                    Metadata={"origin": "multipart"})
    uploaded = []
    for n, data in enumerate(parts, 1):
        r = s3.upload_part(Bucket="bucket1", Key=key, UploadId=up["UploadId"], PartNumber=n, Body=data)
        assert r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
        uploaded.append({"PartNumber": n, "ETag": r["ETag"]})
    listed = s3.list_parts(Bucket="bucket1", Key=key, UploadId=up["UploadId"])
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    uploads = s3.list_multipart_uploads(Bucket="bucket1", Prefix=f"mpu-{uid}/")
    assert [u["Key"] for u in uploads["Uploads"]] == [key]

    done = s3.complete_multipart_upload(Bucket="bucket1", Key=key, UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": uploaded})
    expected = multipart_etag(parts)
    assert done["ETag"] == expected
    head = s3.head_object(Bucket="bucket1", Key=key)
    assert head["ETag"] == expected
    assert head["ContentLength"] == sum(map(len, parts))
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"origin": "multipart"}
    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["ETag"] == expected
    assert hashlib.md5(got["Body"].read()).digest() == hashlib.md5(b"".join(parts)).digest()
    listing = s3.list_objects_v2(Bucket="bucket1", Prefix=f"mpu-{uid}/")
    assert [(o["Key"], o["ETag"]) for o in listing["Contents"]] == [(key, expected)]
    # On the backends: a local object under the 1space name, nothing on-prem.
    stored = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert stored["ContentLength"] == sum(map(len, parts))
    assert remote.list_objects_v2(Bucket="bucket1", Prefix=f"mpu-{uid}/")["KeyCount"] == 0
    assert s3.list_multipart_uploads(Bucket="bucket1", Prefix=f"mpu-{uid}/").get("Uploads", []) == []


def error_code(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_multipart_errors(s3, local, uid):
    key = f"mpu-{uid}/errors.bin"
    up = s3.create_multipart_upload(Bucket="bucket1", Key=key)["UploadId"]
    small = [s3.upload_part(Bucket="bucket1", Key=key, UploadId=up, PartNumber=n, Body=b"x" * 100)["ETag"]
             for n in (1, 2)]
    assert error_code(lambda: s3.complete_multipart_upload(
        Bucket="bucket1", Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": small[0]}, {"PartNumber": 2, "ETag": small[1]}]}
    )) == "EntityTooSmall"
    assert error_code(lambda: s3.complete_multipart_upload(
        Bucket="bucket1", Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]})) == "InvalidPart"
    assert error_code(lambda: s3.complete_multipart_upload(
        Bucket="bucket1", Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": small[1]}, {"PartNumber": 1, "ETag": small[0]}]}
    )) == "InvalidPartOrder"
    s3.abort_multipart_upload(Bucket="bucket1", Key=key, UploadId=up)
    assert error_code(lambda: s3.list_parts(Bucket="bucket1", Key=key, UploadId=up)) == "NoSuchUpload"
    assert error_code(lambda: s3.upload_part(Bucket="bucket1", Key=key, UploadId="no-such-upload",
                                             PartNumber=1, Body=b"x")) == "NoSuchUpload"
    assert error_code(lambda: s3.upload_part(Bucket="bucket1", Key=key, UploadId=up,
                                             PartNumber=10001, Body=b"x")) == "InvalidArgument"
    # Nothing was completed: no object, locally or through the connector.
    assert error_code(lambda: local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))) == "404"


def test_transfer_manager_threaded_up_and_down(s3, local, tmp_path, uid):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(23 * MiB + 17))
    cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    key = f"mpu-{uid}/transfer.bin"
    s3.upload_file(str(src), "bucket1", key, Config=cfg)
    dst = tmp_path / "dst.bin"
    s3.download_file("bucket1", key, str(dst), Config=cfg)
    assert hashlib.md5(dst.read_bytes()).digest() == hashlib.md5(src.read_bytes()).digest()
    assert s3.head_object(Bucket="bucket1", Key=key)["ETag"].endswith('-3"')
    assert local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["ContentLength"] == 23 * MiB + 17


def test_delete_objects_quiet_and_verbose_local_only(s3, local, remote, uid):
    keys = [f"del-{uid}/{n}" for n in range(3)]
    for k in keys:
        s3.put_object(Bucket="bucket1", Key=k, Body=b"local")
    remote.put_object(Bucket="bucket1", Key=keys[0], Body=b"on-prem")
    r = s3.delete_objects(Bucket="bucket1", Delete={"Objects": [{"Key": k} for k in keys[:2]]})
    assert sorted(d["Key"] for d in r["Deleted"]) == keys[:2]
    r = s3.delete_objects(Bucket="bucket1", Delete={"Objects": [{"Key": keys[2]}, {"Key": f"del-{uid}/none"}],
                                                    "Quiet": True})
    assert "Deleted" not in r and "Errors" not in r
    for k in keys:
        assert error_code(lambda: local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(k))) == "404"
    # The on-prem copy is untouched and now serves the key again.
    assert remote.get_object(Bucket="bucket1", Key=keys[0])["Body"].read() == b"on-prem"
    assert s3.get_object(Bucket="bucket1", Key=keys[0])["Body"].read() == b"on-prem"
