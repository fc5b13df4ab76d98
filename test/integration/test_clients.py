"""Real command-line clients against the real connector: aws-cli v2 (Debian's
/usr/bin/aws), s3cmd (SigV2 and SigV4), and boto3 with SigV2. Every result is
checked on the backends directly (the cloud bucket and the on-prem cluster)."""
import hashlib
import json
import os
import re

import botocore
import pytest

from conftest import LOCAL_BUCKET, aws_cli, local_name, s3cmd_cli
from objects_helpers import local_exists


def payload(n, seed):
    """n deterministic, non-repeating-looking bytes."""
    blocks, block = [], seed.encode()
    for _ in range(n // 32 + 1):
        block = hashlib.sha256(block).digest()
        blocks.append(block)
    return b"".join(blocks)[:n]


def local_bytes(local, key):
    return local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read()


# --------------------------------------------------------------------------- aws-cli

@pytest.fixture
def aws(connector, tmp_path):
    return aws_cli(connector.url, tmp_path)


def test_awscli_version_is_v2(aws):
    # The brief is about Debian's aws-cli v2, not the v1 a Python environment may shadow it with.
    out = aws("--version").stdout.decode() or ""
    assert out.startswith("aws-cli/2."), out


def test_awscli_cp_up_and_down(aws, local, remote, uid, tmp_path):
    key = f"cli-{uid}/up.bin"
    data = payload(300 * 1024, uid)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    aws("s3", "cp", str(src), f"s3://bucket1/{key}")
    # Stored in the cloud bucket under its 1space name, nothing on-prem.
    assert local_bytes(local, key) == data
    assert remote.list_objects_v2(Bucket="bucket1", Prefix=f"cli-{uid}/")["KeyCount"] == 0
    # ... and back down, byte for byte.
    dst = tmp_path / "down.bin"
    aws("s3", "cp", f"s3://bucket1/{key}", str(dst))
    assert dst.read_bytes() == data

    # An object only on-prem downloads through the connector too.
    onprem = payload(5000, uid + "r")
    remote.put_object(Bucket="bucket1", Key=f"cli-{uid}/onprem.bin", Body=onprem)
    dst2 = tmp_path / "onprem.bin"
    aws("s3", "cp", f"s3://bucket1/cli-{uid}/onprem.bin", str(dst2))
    assert dst2.read_bytes() == onprem


def test_awscli_upload_is_not_streaming(aws, local, uid, tmp_path):
    """What aws-cli 2.9 sends for an upload: a plain signed payload (the hex SHA-256
    of the body), no aws-chunked encoding, which the connector does not take yet."""
    data = b"payload signing check " + uid.encode()
    src = tmp_path / "sig.txt"
    src.write_bytes(data)
    p = aws("--debug", "s3", "cp", str(src), f"s3://bucket1/cli-{uid}/sig.txt")
    log = p.stderr.decode(errors="replace")
    sent = [line for line in log.splitlines() if "Sending http request" in line and "method=PUT" in line]
    assert len(sent) == 1, sent
    m = re.search(r"'X-Amz-Content-SHA256': b'([^']*)'", sent[0])
    assert m and m.group(1) == hashlib.sha256(data).hexdigest(), sent[0]
    assert "aws-chunked" not in sent[0] and "Content-Encoding" not in sent[0], sent[0]
    assert local_bytes(local, f"cli-{uid}/sig.txt") == data


def test_awscli_cp_from_stdin(aws, local, uid):
    key = f"cli-{uid}/stdin.txt"
    aws("s3", "cp", "-", f"s3://bucket1/{key}", input=b"piped through aws-cli\n")
    assert local_bytes(local, key) == b"piped through aws-cli\n"
    assert aws("s3", "cp", f"s3://bucket1/{key}", "-").stdout == b"piped through aws-cli\n"


def test_awscli_ls_merges_local_and_remote(aws, local, remote, uid):
    p = f"cli-{uid}/"
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(p + "a-local.txt"), Body=b"1")
    remote.put_object(Bucket="bucket1", Key=p + "b-remote.txt", Body=b"22")
    remote.put_object(Bucket="bucket1", Key=p + "c-both.txt", Body=b"on-prem, older and longer")
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(p + "c-both.txt"), Body=b"cloud")
    remote.put_object(Bucket="bucket1", Key=p + "sub/deep.txt", Body=b"d")
    out = aws("s3", "ls", f"s3://bucket1/{p}").stdout.decode()
    files, dirs = {}, []
    for line in out.splitlines():
        m = re.match(r"^\s*PRE (\S+)$", line)
        if m:
            dirs.append(m.group(1))
            continue
        m = re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+(\d+) (.+)$", line)
        assert m, f"unexpected line {line!r} in:\n{out}"
        files[m.group(2)] = int(m.group(1))
    # one entry per key; the key in both stores shows the cloud copy's size
    assert files == {"a-local.txt": 1, "b-remote.txt": 2, "c-both.txt": 5}
    assert dirs == ["sub/"]
    rec = aws("s3", "ls", "--recursive", f"s3://bucket1/{p}").stdout.decode()
    assert [line.split()[-1] for line in rec.splitlines()] == [
        p + "a-local.txt", p + "b-remote.txt", p + "c-both.txt", p + "sub/deep.txt"]


def test_awscli_head_object(aws, local, remote, uid, tmp_path):
    key = f"cli-{uid}/head.txt"
    (tmp_path / "empty").write_bytes(b"")
    aws("s3api", "put-object", "--bucket", "bucket1", "--key", key, "--body", str(tmp_path / "empty"),
        "--metadata", "colour=blue", "--content-type", "text/x-test")
    info = json.loads(aws("s3api", "head-object", "--bucket", "bucket1", "--key", key).stdout)
    stored = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert info["ContentLength"] == stored["ContentLength"] == 0
    assert info["ETag"] == stored["ETag"]
    assert info["Metadata"] == stored["Metadata"] == {"colour": "blue"}
    assert info["ContentType"] == "text/x-test"

    remote.put_object(Bucket="bucket1", Key=f"cli-{uid}/onprem.txt", Body=b"on-prem")
    info = json.loads(aws("s3api", "head-object", "--bucket", "bucket1", "--key", f"cli-{uid}/onprem.txt").stdout)
    assert info["ETag"] == remote.head_object(Bucket="bucket1", Key=f"cli-{uid}/onprem.txt")["ETag"]
    assert info["ContentLength"] == 7

    missing = aws("s3api", "head-object", "--bucket", "bucket1", "--key", f"cli-{uid}/nope", check=False)
    assert missing.returncode != 0
    assert b"404" in missing.stderr or b"Not Found" in missing.stderr, missing.stderr


def test_awscli_rm(aws, local, remote, uid, tmp_path):
    key = f"cli-{uid}/gone.txt"
    src = tmp_path / "gone.txt"
    src.write_bytes(b"delete me")
    aws("s3", "cp", str(src), f"s3://bucket1/{key}")
    remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem copy")
    assert local_bytes(local, key) == b"delete me"
    aws("s3", "rm", f"s3://bucket1/{key}")
    assert not local_exists(local, local_name(key))
    # The on-prem copy is never deleted through the connector; it shows again.
    assert remote.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"on-prem copy"
    dst = tmp_path / "again.txt"
    aws("s3", "cp", f"s3://bucket1/{key}", str(dst))
    assert dst.read_bytes() == b"on-prem copy"


# --------------------------------------------------------------------------- s3cmd

@pytest.fixture(params=[True, False], ids=["sigv2", "sigv4"])
def s3cmd(request, connector, tmp_path):
    return s3cmd_cli(connector.port, tmp_path, request.param, 15)


def test_s3cmd_put_get_ls_info_del(s3cmd, local, remote, uid, tmp_path):
    p = f"s3cmd-{uid}/"
    data = payload(2 * 1024 * 1024 + 17, uid)        # a few MiB: single PUT (< 15 MiB chunk)
    src = tmp_path / "up.bin"
    src.write_bytes(data)
    s3cmd("put", str(src), f"s3://bucket1/{p}up.bin")
    assert local_bytes(local, p + "up.bin") == data
    assert remote.list_objects_v2(Bucket="bucket1", Prefix=p)["KeyCount"] == 0

    dst = tmp_path / "down.bin"
    s3cmd("get", "--force", f"s3://bucket1/{p}up.bin", str(dst))
    assert dst.read_bytes() == data

    remote.put_object(Bucket="bucket1", Key=p + "remote.txt", Body=b"from on-prem")
    out = s3cmd("ls", f"s3://bucket1/{p}").stdout.decode()
    listed = {}
    for line in out.splitlines():
        parts = line.split()
        listed[parts[-1]] = int(parts[-2])
    assert listed == {f"s3://bucket1/{p}up.bin": len(data), f"s3://bucket1/{p}remote.txt": 12}

    info = s3cmd("info", f"s3://bucket1/{p}up.bin").stdout.decode()
    assert re.search(rf"File size:\s+{len(data)}\b", info), info
    assert re.search(rf"MD5 sum:\s+{hashlib.md5(data).hexdigest()}\b", info), info

    dst2 = tmp_path / "remote.txt"
    s3cmd("get", "--force", f"s3://bucket1/{p}remote.txt", str(dst2))
    assert dst2.read_bytes() == b"from on-prem"

    s3cmd("del", f"s3://bucket1/{p}up.bin")
    assert not local_exists(local, local_name(p + "up.bin"))
    out = s3cmd("ls", f"s3://bucket1/{p}").stdout.decode()
    assert [line.split()[-1] for line in out.splitlines()] == [f"s3://bucket1/{p}remote.txt"]


# --------------------------------------------------------------------------- boto3, SigV2

def test_boto3_sigv2_round_trip(connector, local, remote, uid):
    s3 = connector.client(sig="s3")
    p = f"v2-{uid}/"
    key = p + "file with spaces+plus.txt"
    put = s3.put_object(Bucket="bucket1", Key=key, Body=b"signed with v2", Metadata={"k": "v"},
                        ContentType="text/plain")
    stored = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert stored["Body"].read() == b"signed with v2"
    assert stored["Metadata"] == {"k": "v"}
    assert stored["ETag"] == put["ETag"]

    got = s3.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == b"signed with v2"
    assert got["ContentType"] == "text/plain"

    remote.put_object(Bucket="bucket1", Key=p + "onprem.txt", Body=b"on-prem")
    assert s3.get_object(Bucket="bucket1", Key=p + "onprem.txt")["Body"].read() == b"on-prem"
    keys = [o["Key"] for o in s3.list_objects(Bucket="bucket1", Prefix=p)["Contents"]]
    assert keys == [key, p + "onprem.txt"]

    s3.delete_object(Bucket="bucket1", Key=key)
    assert not local_exists(local, local_name(key))
    assert [o["Key"] for o in s3.list_objects(Bucket="bucket1", Prefix=p)["Contents"]] == [p + "onprem.txt"]

    # A SigV2 request signed with the wrong secret is refused, and stores nothing.
    bad = connector.client(secret="wrong", sig="s3")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.put_object(Bucket="bucket1", Key=p + "forged.txt", Body=b"x")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert not local_exists(local, local_name(p + "forged.txt"))


def test_boto3_sigv2_list_objects_v2(connector, local, remote, uid):
    """botocore 1.29 signs ListObjectsV2 under SigV2 as "/bucket1?list-type=2"
    (boto/boto3#4433); the connector accepts that form, so the merged listing works."""
    p = f"v2l-{uid}/"
    remote.put_object(Bucket="bucket1", Key=p + "onprem.txt", Body=b"x")
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(p + "cloud.txt"), Body=b"y")
    s3 = connector.client(sig="s3")
    got = s3.list_objects_v2(Bucket="bucket1", Prefix=p)
    assert [o["Key"] for o in got["Contents"]] == [p + "cloud.txt", p + "onprem.txt"]
    # the signature still covers the request: a wrong secret is refused
    with pytest.raises(botocore.exceptions.ClientError) as e:
        connector.client(secret="wrong", sig="s3").list_objects_v2(Bucket="bucket1", Prefix=p)
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
