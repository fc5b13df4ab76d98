"""Acceptance suite: the real tools against the real connector and the two Swift
clusters, with bytes and metadata checked on the backends directly.

  aws-cli v2 (Debian's /usr/bin/aws): a 50 MiB `s3 cp` that goes multipart, `s3 sync` up
      (twice: the second transfers nothing) and down, a merged listing synced down, `s3api` calls;
  s3cmd (SigV2 and SigV4): multipart put, get, ls, sync twice, del;
  rclone (S3 remote): copy, sync, check, lsjson, server-side copy (CopyObject and UploadPartCopy);
  SigV4/SigV2 canonicalisation over the path as sent: keys with spaces, `+`, `~`, `%`, `=`,
      unicode and emoji through put, head, get, list, copy, delete and multipart, with boto3
      (both signatures), aws-cli and rclone.

(boto3's transfer manager is in test_multipart.py, streaming uploads in test_streaming.py, small
aws-cli/s3cmd/SigV2 round trips in test_clients.py.)"""
import base64
import hashlib
import json
import os
import shutil
import subprocess

import botocore
import pytest
from conftest import LOCAL_BUCKET, aws_cli, local_name, s3cmd_cli
from objects_helpers import local_exists

MiB = 1024 * 1024
RCLONE = shutil.which("rclone") or "/usr/bin/rclone"

# Keys whose path needs care in every signer: the S3 rules say canonicalise the path exactly as sent.
ODD_NAMES = [
    "with space.txt",
    "plus+sign+",
    "tilde~name~",
    "percent%41%zz%",
    "literal%2Fslash",
    "eq=a=b==",
    "uni/é ü ß 中文",
    "emoji 😀🎉",
    "all +~%=é😀 mixed&$@,;:!'()*",
]


def md5(data):
    return hashlib.md5(data).hexdigest()


def multipart_etag(data, chunk):
    parts = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


def local_get(local, key, container="bucket1"):
    return local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key, container))


def local_keys(local, prefix):
    """Client keys stored in the cloud bucket under `prefix` (bucket1's 1space layout)."""
    base = local_name("")
    keys = []
    for page in local.get_paginator("list_objects_v2").paginate(Bucket=LOCAL_BUCKET, Prefix=base + prefix):
        keys += [o["Key"][len(base):] for o in page.get("Contents", [])]
    return sorted(keys)


def remote_keys(remote, prefix):
    return sorted(o["Key"] for o in remote.list_objects_v2(Bucket="bucket1", Prefix=prefix).get("Contents", []))


def tree(root):
    """relative path -> bytes, for every file under root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def make_tree(root, files):
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def sample_files():
    return {
        "a.txt": os.urandom(10),
        "empty": b"",
        "with space.bin": os.urandom(3000),
        "plus+and=eq.dat": os.urandom(70000),
        "sub/ünïcödé 中文.txt": os.urandom(1234),
        "sub/emoji 😀.bin": os.urandom(99),
        "sub/deeper/tilde~%.bin": os.urandom(512 * 1024),
        "big.bin": os.urandom(9 * MiB + 5),
        "mid.bin": os.urandom(2 * MiB),
        "z/last": os.urandom(1),
    }


def run_tool(cmd, env=None, check=True, timeout=120, input=None):
    p = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout, input=input)
    if check:
        assert p.returncode == 0, f"{cmd} -> {p.returncode}\n{p.stdout.decode(errors='replace')}\n" \
                                  f"{p.stderr.decode(errors='replace')}"
    return p


# --------------------------------------------------------------------------- aws-cli

@pytest.fixture
def aws(connector, tmp_path):
    return aws_cli(connector.url, tmp_path, "  multipart_threshold = 8MB\n  multipart_chunksize = 8MB\n")


def upload_lines(out):
    return [line for line in out.decode().splitlines() if line.startswith("upload:")]


def test_awscli_cp_50mib_goes_multipart(aws, local, remote, uid, tmp_path):
    data = os.urandom(50 * MiB)
    src = tmp_path / "fifty.bin"
    src.write_bytes(data)
    key = f"tools-{uid}/fifty.bin"
    aws("s3", "cp", str(src), f"s3://bucket1/{key}")
    stored = local_get(local, key)
    assert md5(stored["Body"].read()) == md5(data)
    # 8 MiB parts: the stored object is the multipart upload aws-cli made, not a re-upload.
    assert stored["ETag"] == multipart_etag(data, 8 * MiB)
    assert stored["ETag"].endswith('-7"')
    assert remote_keys(remote, f"tools-{uid}/") == []
    head = json.loads(aws("s3api", "head-object", "--bucket", "bucket1", "--key", key).stdout)
    assert head["ETag"] == stored["ETag"] and head["ContentLength"] == len(data)
    dst = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://bucket1/{key}", str(dst))
    assert md5(dst.read_bytes()) == md5(data)
    # No multipart upload is left behind.
    ups = json.loads(aws("s3api", "list-multipart-uploads", "--bucket", "bucket1",
                         "--prefix", f"tools-{uid}/").stdout or "{}")
    assert ups.get("Uploads", []) == []


def test_awscli_sync_up_twice_and_down(aws, local, remote, uid, tmp_path):
    files = sample_files()
    src = tmp_path / "src"
    make_tree(src, files)
    p = f"tools-{uid}/sync/"
    first = aws("s3", "sync", str(src), f"s3://bucket1/{p}")
    assert len(upload_lines(first.stdout)) == len(files), first.stdout.decode()
    # Every file is in the cloud bucket under its 1space name, byte for byte; nothing on-prem.
    assert local_keys(local, p) == sorted(p + rel for rel in files)
    for rel, data in files.items():
        assert local_get(local, p + rel)["Body"].read() == data, rel
    assert local_get(local, p + "big.bin")["ETag"] == multipart_etag(files["big.bin"], 8 * MiB)
    assert remote_keys(remote, f"tools-{uid}/") == []

    second = aws("s3", "sync", str(src), f"s3://bucket1/{p}")
    assert upload_lines(second.stdout) == [], second.stdout.decode()

    # A changed file (other size) is the only one sent again.
    files["mid.bin"] = os.urandom(2 * MiB + 1)
    (src / "mid.bin").write_bytes(files["mid.bin"])
    third = aws("s3", "sync", str(src), f"s3://bucket1/{p}")
    assert len(upload_lines(third.stdout)) == 1 and "mid.bin" in third.stdout.decode(), third.stdout.decode()
    assert local_get(local, p + "mid.bin")["Body"].read() == files["mid.bin"]

    down = tmp_path / "down"
    down.mkdir()
    aws("s3", "sync", f"s3://bucket1/{p}", str(down))
    assert tree(down) == files


def test_awscli_merged_listing_synced_down(aws, local, remote, s3, uid, tmp_path):
    p = f"tools-{uid}/merged/"
    onprem = {"a-onprem.txt": os.urandom(100), "sub/b onprem ü.bin": os.urandom(70000), "both.txt": b"on-prem old"}
    cloud = {"c-cloud.txt": os.urandom(33), "both.txt": b"cloud copy wins"}
    for rel, data in onprem.items():
        remote.put_object(Bucket="bucket1", Key=p + rel, Body=data)
    for rel, data in cloud.items():
        s3.put_object(Bucket="bucket1", Key=p + rel, Body=data)
    assert local_keys(local, p) == sorted(p + rel for rel in cloud)

    out = aws("s3", "ls", "--recursive", f"s3://bucket1/{p}").stdout.decode()
    listed = {}
    for line in out.splitlines():
        _, _, size, name = line.split(None, 3)
        listed[name] = int(size)
    expected = {**onprem, **cloud}
    assert listed == {p + rel: len(data) for rel, data in expected.items()}

    down = tmp_path / "down"
    down.mkdir()
    aws("s3", "sync", f"s3://bucket1/{p}", str(down))
    assert tree(down) == expected
    # Downloading wrote nothing anywhere.
    assert local_keys(local, p) == sorted(p + rel for rel in cloud)
    assert remote_keys(remote, p) == sorted(p + rel for rel in onprem)


def test_awscli_s3api_calls(aws, s3, local, remote, uid, tmp_path):
    p = f"tools-{uid}/api/"
    body = tmp_path / "body"
    body.write_bytes(os.urandom(4096))
    put = json.loads(aws("s3api", "put-object", "--bucket", "bucket1", "--key", p + "obj",
                         "--body", str(body), "--metadata", "colour=blue,shape=round",
                         "--content-type", "application/x-tools", "--cache-control", "no-cache").stdout)
    stored = local_get(local, p + "obj")
    assert stored["Body"].read() == body.read_bytes()
    assert stored["ETag"] == put["ETag"] == '"%s"' % md5(body.read_bytes())
    assert stored["Metadata"] == {"colour": "blue", "shape": "round"}
    assert stored["ContentType"] == "application/x-tools"

    # Copy between keys, replacing the metadata.
    aws("s3api", "copy-object", "--bucket", "bucket1", "--key", p + "copy", "--copy-source", f"bucket1/{p}obj",
        "--metadata-directive", "REPLACE", "--metadata", "colour=red", "--content-type", "text/x-copied")
    copied = local_get(local, p + "copy")
    assert copied["Body"].read() == body.read_bytes()
    assert copied["Metadata"] == {"colour": "red"}
    assert copied["ContentType"] == "text/x-copied"

    # Metadata update in place of an object that is only on-prem: applied on-prem.
    remote.put_object(Bucket="bucket1", Key=p + "onprem", Body=b"on-prem bytes", Metadata={"old": "1"})
    aws("s3api", "copy-object", "--bucket", "bucket1", "--key", p + "onprem", "--copy-source",
        f"bucket1/{p}onprem", "--metadata-directive", "REPLACE", "--metadata", "new=2")
    assert remote.head_object(Bucket="bucket1", Key=p + "onprem")["Metadata"] == {"new": "2"}
    assert not local_exists(local, local_name(p + "onprem"))

    # Multipart by hand, one part copied from an object (UploadPartCopy) and one uploaded.
    part2 = tmp_path / "part2"
    part2.write_bytes(os.urandom(1000))
    big = os.urandom(5 * MiB)
    s3.put_object(Bucket="bucket1", Key=p + "big", Body=big)
    up = json.loads(aws("s3api", "create-multipart-upload", "--bucket", "bucket1", "--key", p + "mpu",
                        "--metadata", "via=s3api").stdout)["UploadId"]
    pc = json.loads(aws("s3api", "upload-part-copy", "--bucket", "bucket1", "--key", p + "mpu", "--upload-id", up,
                        "--part-number", "1", "--copy-source", f"bucket1/{p}big").stdout)
    pu = json.loads(aws("s3api", "upload-part", "--bucket", "bucket1", "--key", p + "mpu", "--upload-id", up,
                        "--part-number", "2", "--body", str(part2)).stdout)
    listed = json.loads(aws("s3api", "list-parts", "--bucket", "bucket1", "--key", p + "mpu",
                            "--upload-id", up).stdout)
    assert [(x["PartNumber"], x["Size"]) for x in listed["Parts"]] == [(1, 5 * MiB), (2, 1000)]
    parts = {"Parts": [{"PartNumber": 1, "ETag": pc["CopyPartResult"]["ETag"]},
                       {"PartNumber": 2, "ETag": pu["ETag"]}]}
    done = json.loads(aws("s3api", "complete-multipart-upload", "--bucket", "bucket1", "--key", p + "mpu",
                          "--upload-id", up, "--multipart-upload", json.dumps(parts)).stdout)
    whole = big + part2.read_bytes()
    mpu = local_get(local, p + "mpu")
    assert mpu["Body"].read() == whole
    assert mpu["ETag"] == done["ETag"] == multipart_etag(whole, 5 * MiB)
    assert mpu["Metadata"] == {"via": "s3api"}

    # ListObjectsV2 (paginated by aws-cli with a tiny page size) sees the merged namespace.
    v2 = json.loads(aws("s3api", "list-objects-v2", "--bucket", "bucket1", "--prefix", p,
                        "--page-size", "2").stdout)
    expected = sorted(p + k for k in ("obj", "copy", "onprem", "big", "mpu"))
    assert [o["Key"] for o in v2["Contents"]] == expected
    assert {o["Key"]: o["ETag"] for o in v2["Contents"]}[p + "mpu"] == mpu["ETag"]

    # get-object with a range.
    out = tmp_path / "range"
    aws("s3api", "get-object", "--bucket", "bucket1", "--key", p + "mpu", "--range", f"bytes={5 * MiB - 10}-",
        str(out))
    assert out.read_bytes() == whole[5 * MiB - 10:]

    # DeleteObjects removes the local copies only.
    dele = {"Objects": [{"Key": p + k} for k in ("obj", "copy", "onprem", "big", "mpu")]}
    r = json.loads(aws("s3api", "delete-objects", "--bucket", "bucket1", "--delete", json.dumps(dele)).stdout)
    assert sorted(d["Key"] for d in r["Deleted"]) == expected
    assert local_keys(local, p) == []
    assert remote_keys(remote, p) == [p + "onprem"]

    buckets = json.loads(aws("s3api", "list-buckets").stdout)
    assert "bucket1" in [b["Name"] for b in buckets["Buckets"]]


def test_awscli_odd_keys(aws, local, uid, tmp_path):
    p = f"tools-{uid}/odd/"
    files = {name: os.urandom(100 + n) for n, name in enumerate(ODD_NAMES)}
    files["big " + ODD_NAMES[-1]] = os.urandom(9 * MiB)            # multipart under an odd name
    src = tmp_path / "src"
    make_tree(src, files)
    aws("s3", "cp", "--recursive", str(src), f"s3://bucket1/{p}")   # PutObject, multipart
    for rel, data in files.items():
        assert local_get(local, p + rel)["Body"].read() == data, rel
    assert local_get(local, p + "big " + ODD_NAMES[-1])["ETag"].endswith('-2"')
    for name in (ODD_NAMES[3], ODD_NAMES[-1]):
        head = json.loads(aws("s3api", "head-object", "--bucket", "bucket1", "--key", p + name).stdout)
        assert head["ContentLength"] == len(files[name]), name
    # CopyObject, and UploadPartCopy for the big one (`--copy-props metadata-directive`; the default is tested below)
    aws("s3", "cp", "--recursive", "--copy-props", "metadata-directive", f"s3://bucket1/{p}", f"s3://bucket1/{p}copy/")
    for rel, data in files.items():
        assert local_get(local, f"{p}copy/{rel}")["Body"].read() == data, rel
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", "bucket1", "--prefix", p).stdout)
    assert [o["Key"] for o in listed["Contents"]] == sorted([p + n for n in files] + [f"{p}copy/{n}" for n in files])
    down = tmp_path / "down"
    aws("s3", "cp", "--recursive", f"s3://bucket1/{p}copy/", str(down))   # GetObject
    assert tree(down) == files
    aws("s3", "rm", "--recursive", f"s3://bucket1/{p}")                   # DeleteObjects
    assert local_keys(local, p) == []


# aws-cli's default --copy-props reads the source's tags (GetObjectTagging) before every multipart
# S3-to-S3 copy and fails the copy on any error: the connector answers with an empty tag set.
def test_awscli_multipart_copy_with_default_copy_props(aws, local, uid, tmp_path):
    src = tmp_path / "nine.bin"
    src.write_bytes(os.urandom(9 * MiB))
    aws("s3", "cp", str(src), f"s3://bucket1/tools-{uid}/nine.bin")
    aws("s3", "cp", f"s3://bucket1/tools-{uid}/nine.bin", f"s3://bucket1/tools-{uid}/nine-copy.bin")
    assert md5(local_get(local, f"tools-{uid}/nine-copy.bin")["Body"].read()) == md5(src.read_bytes())


# --------------------------------------------------------------------------- s3cmd

@pytest.fixture(params=[False, True], ids=["sigv4", "sigv2"])
def s3cmd(request, connector, tmp_path):
    return s3cmd_cli(connector.port, tmp_path, request.param, 5, "--no-progress")


def test_s3cmd_multipart_put_get_ls_sync_del(s3cmd, local, remote, uid, tmp_path):
    p = f"tools-{uid}/s3cmd/"
    files = sample_files()
    del files["big.bin"]
    files["twelve.bin"] = data = os.urandom(12 * MiB)
    src = tmp_path / "tree"
    make_tree(src, files)
    s3cmd("put", str(src / "twelve.bin"), f"s3://bucket1/{p}twelve.bin")
    stored = local_get(local, p + "twelve.bin")
    assert md5(stored["Body"].read()) == md5(data)
    assert stored["ETag"] == multipart_etag(data, 5 * MiB)          # 3 parts of 5 MiB
    assert md5(data) in stored["Metadata"].get("s3cmd-attrs", "")     # s3cmd's own md5, kept as metadata
    assert remote_keys(remote, f"tools-{uid}/") == []

    dst = tmp_path / "back.bin"
    s3cmd("get", "--force", f"s3://bucket1/{p}twelve.bin", str(dst))
    assert md5(dst.read_bytes()) == md5(data)

    out = s3cmd("ls", f"s3://bucket1/{p}").stdout.decode()
    assert [(line.split()[-1], int(line.split()[-2])) for line in out.splitlines()] == [
        (f"s3://bucket1/{p}twelve.bin", len(data))]
    buckets = s3cmd("ls").stdout.decode()
    assert "s3://bucket1" in buckets.split(), buckets

    # The multipart object is already there: s3cmd finds its md5 in the metadata (the ETag is no md5)
    # and uploads only the other files.
    first = s3cmd("sync", str(src) + "/", f"s3://bucket1/{p}").stdout.decode()
    uploads = [line for line in first.splitlines() if line.startswith("upload:")]
    assert len(uploads) == len(files) - 1 and not any("twelve.bin" in u for u in uploads), first
    for rel, d in files.items():
        assert local_get(local, p + rel)["Body"].read() == d, rel
    second = s3cmd("sync", str(src) + "/", f"s3://bucket1/{p}").stdout.decode()
    assert [line for line in second.splitlines() if line.startswith("upload:")] == [], second
    down = tmp_path / "down"
    down.mkdir()
    s3cmd("sync", f"s3://bucket1/{p}", str(down) + "/")
    assert tree(down) == files

    s3cmd("del", f"s3://bucket1/{p}twelve.bin")
    assert not local_exists(local, local_name(p + "twelve.bin"))
    s3cmd("del", "--recursive", "--force", f"s3://bucket1/{p}")
    assert local_keys(local, p) == []
    assert s3cmd("ls", "--recursive", f"s3://bucket1/{p}").stdout.decode().strip() == ""


# --------------------------------------------------------------------------- rclone

def rclone_runner(connector, tmp_path, extra="no_check_bucket = true\n"):
    if not os.access(RCLONE, os.X_OK):
        pytest.skip("rclone is not installed")
    cfg = tmp_path / "rclone.conf"
    cfg.write_text(f"""[cc]
type = s3
provider = Other
access_key_id = test:tester
secret_access_key = testing
endpoint = {connector.url}
region = us-east-1
force_path_style = true
chunk_size = 5M
upload_cutoff = 5M
copy_cutoff = 5M
""" + extra)

    def run(*args, check=True):
        return run_tool([RCLONE, "--config", str(cfg), "--retries", "1", "--low-level-retries", "1", *args],
                        check=check, env=env)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    env["HOME"] = str(tmp_path)
    return run


@pytest.fixture
def rclone(connector, tmp_path):
    # The connector serves existing buckets only and refuses CreateBucket, so the remote is configured
    # as rclone documents for users without bucket-creation rights (the default config is tested below).
    return rclone_runner(connector, tmp_path)


def lsjson(rclone, path):
    return {e["Path"]: e["Size"] for e in json.loads(rclone("lsjson", "-R", "--files-only", path).stdout)}


def test_rclone_copy_sync_check_lsjson(rclone, local, remote, uid, tmp_path):
    p = f"tools-{uid}/rclone"
    files = sample_files()
    files["big.bin"] = os.urandom(7 * MiB + 3)       # > upload_cutoff: multipart, 5 MiB chunks
    src = tmp_path / "src"
    make_tree(src, files)
    rclone("copy", str(src), f"cc:bucket1/{p}")
    for rel, data in files.items():
        assert local_get(local, f"{p}/{rel}")["Body"].read() == data, rel
    big = local_get(local, f"{p}/big.bin")
    assert big["ETag"] == multipart_etag(files["big.bin"], 5 * MiB)
    # rclone keeps the md5 of a multipart object in its metadata, and `check` relies on it.
    assert big["Metadata"].get("md5chksum") == base64.b64encode(hashlib.md5(files["big.bin"]).digest()).decode()
    assert remote_keys(remote, f"tools-{uid}/") == []
    assert lsjson(rclone, f"cc:bucket1/{p}") == {rel: len(d) for rel, d in files.items()}

    rclone("check", str(src), f"cc:bucket1/{p}")
    # Change a file on one side: check must fail, sync repairs it and removes extra files.
    files["mid.bin"] = os.urandom(2 * MiB)
    (src / "mid.bin").write_bytes(files["mid.bin"])
    assert rclone("check", str(src), f"cc:bucket1/{p}", check=False).returncode != 0
    os.remove(src / "z" / "last")
    del files["z/last"]
    synced = rclone("sync", "-v", str(src), f"cc:bucket1/{p}").stderr.decode()
    assert "mid.bin: Copied" in synced and "last: Deleted" in synced, synced
    assert local_get(local, f"{p}/mid.bin")["Body"].read() == files["mid.bin"]
    assert not local_exists(local, local_name(f"{p}/z/last")), synced
    rclone("check", str(src), f"cc:bucket1/{p}")
    again = rclone("sync", "-v", str(src), f"cc:bucket1/{p}").stderr.decode()
    assert "Copied" not in again and "Deleted" not in again, again
    assert lsjson(rclone, f"cc:bucket1/{p}") == {rel: len(d) for rel, d in files.items()}

    # Server-side copies: CopyObject below copy_cutoff, UploadPartCopy above it.
    rclone("copyto", f"cc:bucket1/{p}/a.txt", f"cc:bucket1/{p}-copy/a.txt")
    rclone("copyto", f"cc:bucket1/{p}/big.bin", f"cc:bucket1/{p}-copy/big.bin")
    assert local_get(local, f"{p}-copy/a.txt")["Body"].read() == files["a.txt"]
    big_copy = local_get(local, f"{p}-copy/big.bin")
    assert md5(big_copy["Body"].read()) == md5(files["big.bin"])
    assert big_copy["ETag"].endswith('-2"')
    rclone("check", f"cc:bucket1/{p}-copy", str(src), "--one-way")

    down = tmp_path / "down"
    rclone("copy", f"cc:bucket1/{p}", str(down))
    assert tree(down) == files
    rclone("purge", f"cc:bucket1/{p}-copy")
    assert local_keys(local, f"{p}-copy/") == []


def test_rclone_sees_merged_namespace(rclone, local, remote, uid, tmp_path):
    p = f"tools-{uid}/rmerge"
    remote.put_object(Bucket="bucket1", Key=f"{p}/onprem ü.txt", Body=b"from on-prem")
    (tmp_path / "c").write_bytes(b"cloud")
    rclone("copyto", str(tmp_path / "c"), f"cc:bucket1/{p}/cloud.txt")
    assert lsjson(rclone, f"cc:bucket1/{p}") == {"onprem ü.txt": 12, "cloud.txt": 5}
    down = tmp_path / "down"
    rclone("copy", f"cc:bucket1/{p}", str(down))
    assert tree(down) == {"onprem ü.txt": b"from on-prem", "cloud.txt": b"cloud"}
    assert local_keys(local, f"{p}/") == [f"{p}/cloud.txt"]


def test_rclone_odd_keys(rclone, local, uid, tmp_path):
    p = f"tools-{uid}/rodd"
    files = {name: os.urandom(50 + n) for n, name in enumerate(ODD_NAMES)}
    files["big " + ODD_NAMES[-1]] = os.urandom(6 * MiB)             # multipart under an odd name
    src = tmp_path / "src"
    make_tree(src, files)
    rclone("copy", str(src), f"cc:bucket1/{p}")
    for rel, data in files.items():
        assert local_get(local, f"{p}/{rel}")["Body"].read() == data, rel
    assert lsjson(rclone, f"cc:bucket1/{p}") == {rel: len(d) for rel, d in files.items()}
    rclone("check", str(src), f"cc:bucket1/{p}")
    rclone("copy", f"cc:bucket1/{p}", f"cc:bucket1/{p}-copy")           # server-side, odd source and target
    for rel, data in files.items():
        assert local_get(local, f"{p}-copy/{rel}")["Body"].read() == data, rel
    rclone("purge", f"cc:bucket1/{p}")
    rclone("purge", f"cc:bucket1/{p}-copy")
    assert local_keys(local, f"tools-{uid}/") == []


# rclone's default (no_check_bucket = false) sends CreateBucket before a copyto into a bucket it has
# not listed, and accepts success or 409 BucketAlreadyOwnedByYou: the connector answers 409 for a mapped bucket.
def test_rclone_default_config_copyto(connector, local, uid, tmp_path):
    rclone = rclone_runner(connector, tmp_path, extra="")
    (tmp_path / "one").write_bytes(b"one file")
    rclone("copyto", str(tmp_path / "one"), f"cc:bucket1/tools-{uid}/default/one")
    assert local_get(local, f"tools-{uid}/default/one")["Body"].read() == b"one file"


# --------------------------------------------------------------------------- boto3, odd keys

@pytest.mark.parametrize("sig", ["s3v4", "s3"], ids=["sigv4", "sigv2"])
def test_boto3_odd_keys_every_operation(connector, local, remote, uid, sig):
    s3 = connector.client(sig=sig)
    p = f"tools-{uid}/{sig}/"
    part1 = os.urandom(5 * MiB)
    for n, name in enumerate(ODD_NAMES):
        key = p + name
        data = os.urandom(200 + n)
        s3.put_object(Bucket="bucket1", Key=key, Body=data, Metadata={"n": str(n)})
        stored = local_get(local, key)
        assert stored["Body"].read() == data, name
        assert stored["Metadata"] == {"n": str(n)}
        head = s3.head_object(Bucket="bucket1", Key=key)
        assert head["ContentLength"] == len(data) and head["ETag"] == '"%s"' % md5(data)
        assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == data

        s3.copy_object(Bucket="bucket1", Key=key + " copy", CopySource={"Bucket": "bucket1", "Key": key})
        assert local_get(local, key + " copy")["Body"].read() == data, name

        # Multipart: one part uploaded; for the key with every odd character, a 5 MiB part and a part
        # copied from the object (UploadPartCopy).
        mkey = key + " multipart"
        parts = [part1, data] if name == ODD_NAMES[-1] else [data]
        # botocore cannot sign CreateMultipartUpload with SigV2 (it signs "?uploads?uploads", refused by
        # Swift's s3api too): that one call is SigV4; the parts, listing and completion use `sig`.
        up = connector.client().create_multipart_upload(Bucket="bucket1", Key=mkey)["UploadId"]
        etags = [s3.upload_part(Bucket="bucket1", Key=mkey, UploadId=up, PartNumber=1, Body=parts[0])["ETag"]]
        if len(parts) == 2:
            etags.append(s3.upload_part_copy(Bucket="bucket1", Key=mkey, UploadId=up, PartNumber=2,
                                             CopySource={"Bucket": "bucket1", "Key": key})["CopyPartResult"]["ETag"])
        listed = s3.list_parts(Bucket="bucket1", Key=mkey, UploadId=up)["Parts"]
        assert [(x["PartNumber"], x["ETag"]) for x in listed] == list(zip(range(1, 3), etags))
        s3.complete_multipart_upload(Bucket="bucket1", Key=mkey, UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, 1)]})
        mstored = local_get(local, mkey)
        assert mstored["Body"].read() == b"".join(parts), name
        assert mstored["ETag"] == multipart_etag(b"".join(parts), 5 * MiB if len(parts) == 2 else len(data))

    # An odd key only on-prem: read through the connector (signed again towards the on-prem cluster).
    onprem = p + "on-prem +~%=é😀"
    remote.put_object(Bucket="bucket1", Key=onprem, Body=b"on-prem odd")
    assert s3.head_object(Bucket="bucket1", Key=onprem)["ContentLength"] == 11
    assert s3.get_object(Bucket="bucket1", Key=onprem)["Body"].read() == b"on-prem odd"
    s3.copy_object(Bucket="bucket1", Key=onprem + " copy", CopySource={"Bucket": "bucket1", "Key": onprem})
    assert local_get(local, onprem + " copy")["Body"].read() == b"on-prem odd"

    expected = sorted([p + n + s for n in ODD_NAMES for s in ("", " copy", " multipart")]
                      + [onprem, onprem + " copy"])
    # boto3 cannot sign ListObjectsV2 with SigV2 (see test_clients.py); v1 for both, v2 for SigV4.
    listed = [o["Key"] for o in s3.list_objects(Bucket="bucket1", Prefix=p)["Contents"]]
    assert listed == expected
    if sig == "s3v4":
        listed = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bucket1", Prefix=p,
                                                                 PaginationConfig={"PageSize": 4}):
            listed += [o["Key"] for o in page["Contents"]]
        assert listed == expected
        # Prefix and delimiter with odd characters.
        sub = s3.list_objects_v2(Bucket="bucket1", Prefix=p + "uni/é", Delimiter=" ")
        assert [c["Prefix"] for c in sub.get("CommonPrefixes", [])] == [p + "uni/é "]

    for n, name in enumerate(ODD_NAMES):
        s3.delete_object(Bucket="bucket1", Key=p + name)
        assert not local_exists(local, local_name(p + name)), name
    left = [k for k in expected if k[len(p):] not in ODD_NAMES]
    # botocore signs DeleteObjects with SigV2 over "/bucket1?delete?delete" (refused by Swift too): SigV4 here.
    r = connector.client().delete_objects(Bucket="bucket1", Delete={"Objects": [{"Key": k} for k in left]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(left)
    assert r.get("Errors", []) == []
    assert local_keys(local, p) == []
    assert remote_keys(remote, p) == [onprem]
