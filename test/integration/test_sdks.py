"""Mainstream SDKs against the connector with their default settings, byte for
byte: the AWS SDK for JavaScript v3 (test/sdk/js, from the npm registry; CRC32
flexible checksums by default, streams sent as aws-chunked with
STREAMING-UNSIGNED-PAYLOAD-TRAILER inside Transfer-Encoding: chunked) and the
AWS SDK for Go v1 (test/sdk/go, Debian's golang-github-aws-aws-sdk-go-dev,
built offline in GOPATH mode; signed payloads with Content-MD5). Each
round-trip program checks what it reads back through the connector; this file
then checks the cloud store (and the on-prem one) directly.

Plus two focused regressions of what the JS SDK exposed: an aws-chunked body
inside HTTP chunked framing left HTTP's last chunk unread, so the next request
on the kept-alive connection got a stray 400; and x-amz-checksum-crc64nvme
(header or trailer) was unknown."""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import LOCAL_BUCKET, local_name

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "test" / "sdk" / "js"
GO_SRC = ROOT / "test" / "sdk" / "go" / "roundtrip.go"
DEB_GOPATH = Path("/usr/share/gocode")
PART = 5 * 1024 * 1024   # the part size both round trips use


def run_roundtrip(cmd, cwd, env=None):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    assert lines, f"no result line (exit {r.returncode})\nstdout: {r.stdout}\nstderr: {r.stderr[-3000:]}"
    result = json.loads(lines[-1])
    assert result["failures"] in (None, []), json.dumps(result["failures"], indent=1)
    assert r.returncode == 0, r.stderr[-3000:]
    return result


def multipart_etag(data, part=PART):
    digests = b"".join(hashlib.md5(data[i:i + part]).digest() for i in range(0, len(data), part))
    return f'"{hashlib.md5(digests).hexdigest()}-{(len(data) + part - 1) // part}"'


def check_on_backends(local, remote, result, multipart_key):
    """Every object the SDK stored is in the cloud bucket under its 1space name
    with the same bytes (not on-prem: PUT writes only to local); deleted ones
    are gone; no multipart upload was left behind."""
    objects = result["objects"]
    assert multipart_key in objects and len(objects) >= 4, objects
    for key, want in objects.items():
        got = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
        data = got["Body"].read()
        assert len(data) == want["size"], key
        assert hashlib.md5(data).hexdigest() == want["md5"], key
        assert "aws-chunked" not in got.get("ContentEncoding", ""), (key, got.get("ContentEncoding"))
        if key == multipart_key:
            assert re.fullmatch(r'"[0-9a-f]{32}-3"', got["ETag"]), got["ETag"]
            assert got["ETag"] == multipart_etag(data) == want["etag"], (got["ETag"], want["etag"])
        else:
            assert got["ETag"] == f'"{hashlib.md5(data).hexdigest()}"' == want["etag"], key
        with pytest.raises(remote.exceptions.ClientError) as e:
            remote.head_object(Bucket="bucket1", Key=key)
        assert e.value.response["Error"]["Code"] in ("404", "NoSuchKey"), key
    assert result["deleted"], result
    for key in result["deleted"]:
        with pytest.raises(local.exceptions.ClientError) as e:
            local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
        assert e.value.response["Error"]["Code"] in ("404", "NoSuchKey"), key
    left = local.list_multipart_uploads(Bucket=LOCAL_BUCKET, Prefix=local_name(result["prefix"] + "/"))
    assert not left.get("Uploads"), left.get("Uploads")


# ---------------------------------------------------------------- JavaScript v3

@pytest.fixture(scope="module")
def node():
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are not installed (packaging/install-deps.sh installs nodejs; npm comes with it)")
    pinned = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    installed_ok = True
    for name, version in pinned.items():
        meta = JS_DIR / "node_modules" / name / "package.json"
        installed_ok &= meta.is_file() and json.loads(meta.read_text())["version"] == version
    if not installed_ok:
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-save"], cwd=JS_DIR,
                               capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"npm could not install test/sdk/js:\n{r.stdout}\n{r.stderr}"
    return node


def test_js_sdk_v3_defaults_round_trip(connector, local, remote, node, uid):
    prefix = f"sdk-js-{uid}"
    result = run_roundtrip([node, "roundtrip.mjs", connector.url, "bucket1", prefix], JS_DIR)
    assert result["sdk"] == "aws-sdk-js-v3 " + json.loads((JS_DIR / "package.json").read_text())["dependencies"]["@aws-sdk/client-s3"]
    # The defaults this test is about really were on the wire.
    puts = result["sent"]["PutObjectCommand"]
    assert any(h.get("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
               and h.get("x-amz-trailer") == "x-amz-checksum-crc32"
               and h.get("transfer-encoding") == "chunked" for h in puts), puts
    assert any(h.get("x-amz-checksum-crc32") for h in puts), puts
    assert any(h.get("x-amz-trailer") == "x-amz-checksum-crc64nvme" for h in puts), puts
    assert result["sent"]["GetObjectCommand"][0].get("x-amz-checksum-mode") == "ENABLED"
    assert result["pages"] >= 3 and len(result["listed"]) == len(result["objects"]) == 6, result
    check_on_backends(local, remote, result, f"{prefix}/multipart.bin")
    head = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(f"{prefix}/string.txt"))
    assert head["ContentType"] == "text/plain; charset=utf-8"
    head = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(f"{prefix}/buffer.bin"))
    assert head["Metadata"].get("origin") == "sdk-js", head["Metadata"]


# ---------------------------------------------------------------- Go v1

@pytest.fixture(scope="module")
def go_roundtrip(tmp_path_factory):
    go = shutil.which("go")
    if not go or not (DEB_GOPATH / "src/github.com/aws/aws-sdk-go/service/s3/s3manager").is_dir():
        pytest.skip("Go or Debian's golang-github-aws-aws-sdk-go-dev is not installed (packaging/install-deps.sh)")
    out = tmp_path_factory.mktemp("sdk-go") / "roundtrip"
    env = dict(os.environ, GO111MODULE="off", GOPATH=str(DEB_GOPATH), GOFLAGS="", GOPROXY="off")
    if not env.get("HOME") and not env.get("GOCACHE"):
        env["GOCACHE"] = str(out.parent / "cache")
    r = subprocess.run([go, "build", "-o", str(out), str(GO_SRC)], cwd=GO_SRC.parent, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"go build failed:\n{r.stdout}\n{r.stderr}"
    return out


def test_go_sdk_v1_defaults_round_trip(connector, local, remote, go_roundtrip, uid):
    prefix = f"sdk-go-{uid}"
    result = run_roundtrip([str(go_roundtrip), connector.url, "bucket1", prefix], GO_SRC.parent)
    assert result["sdk"].startswith("aws-sdk-go 1."), result["sdk"]
    puts = result["sent"]["PutObject"]
    assert all(h.get("content-md5") and h.get("x-amz-content-sha256") == "<sha256 of body>" for h in puts), puts
    assert result["pages"] >= 2 and len(result["listed"]) == len(result["objects"]) == 4, result
    check_on_backends(local, remote, result, f"{prefix}/multipart.bin")
    head = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(f"{prefix}/bytes.bin"))
    assert head["Metadata"].get("origin") == "sdk-go", head["Metadata"]


# ---------------------------------------------------------------- focused regressions

AK, SK, REGION = "test:tester", "testing", "us-east-1"


def sigv4_headers(method, port, path, headers, payload):
    """Header-signed SigV4 request headers (payload: the x-amz-content-sha256 value)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {k.lower(): v for k, v in headers.items()}
    headers.update({"host": f"127.0.0.1:{port}", "x-amz-date": amz_date, "x-amz-content-sha256": payload})
    names = sorted(headers)
    canonical = "\n".join([method, path, "", "".join(f"{n}:{str(headers[n]).strip()}\n" for n in names),
                           ";".join(names), payload])
    scope = f"{day}/{REGION}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + SK).encode()
    for part in (day, REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"
    return headers


def crc64nvme(data):
    # Independent bitwise reference: CRC-64/NVME, reflected 0x9A6C9329AC4BC9B5, init/xorout all ones.
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x9A6C9329AC4BC9B5 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def b64(n, size):
    return base64.b64encode(n.to_bytes(size, "big")).decode()


def aws_chunks(data, trailer, chunk=65536):
    body = b"".join(f"{len(data[i:i + chunk]):x}\r\n".encode() + data[i:i + chunk] + b"\r\n"
                    for i in range(0, len(data), chunk))
    return body + b"0\r\n" + trailer.encode() + b"\r\n\r\n"


def stored(local, key):
    try:
        return local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read()
    except local.exceptions.NoSuchKey:
        return None


def test_chunked_transfer_aws_chunked_upload_keeps_connection_usable(connector, local, uid):
    """What the JS SDK does for a stream: aws-chunked inside Transfer-Encoding:
    chunked. The next request on the same connection must get its own answer."""
    key = f"sdk-raw-{uid}/te-chunked"
    path = "/bucket1/" + quote(key, safe="/")
    data = os.urandom(150000)
    body = aws_chunks(data, "x-amz-checksum-crc32:" + b64(zlib.crc32(data), 4))
    conn = http.client.HTTPConnection("127.0.0.1", connector.port, timeout=20)
    try:
        hdr = sigv4_headers("PUT", connector.port, path, {
            "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
            "x-amz-trailer": "x-amz-checksum-crc32"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        # An iterable body without Content-Length: http.client sends Transfer-Encoding: chunked.
        conn.request("PUT", path, body=iter([body[:70000], body[70000:]]), headers=hdr)
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        resp.read()
        for _ in range(2):   # two more requests on the same connection
            conn.request("GET", path, headers=sigv4_headers("GET", connector.port, path, {}, hashlib.sha256(b"").hexdigest()))
            resp = conn.getresponse()
            got = resp.read()
            assert resp.status == 200, got[:500]
            assert got == data
    finally:
        conn.close()
    assert stored(local, key) == data


@pytest.mark.parametrize("where", ["header", "trailer"])
def test_crc64nvme_checksum_is_verified(connector, local, uid, where):
    data = os.urandom(5000)
    good, bad = b64(crc64nvme(data), 8), b64(crc64nvme(data[::-1]), 8)
    for value, status, key in ((good, 200, f"sdk-raw-{uid}/crc64-{where}"), (bad, 400, f"sdk-raw-{uid}/crc64-{where}-bad")):
        path = "/bucket1/" + quote(key, safe="/")
        conn = http.client.HTTPConnection("127.0.0.1", connector.port, timeout=20)
        try:
            if where == "header":
                hdr = sigv4_headers("PUT", connector.port, path, {"x-amz-checksum-crc64nvme": value},
                                    hashlib.sha256(data).hexdigest())
                conn.request("PUT", path, body=data, headers=hdr)
            else:
                body = aws_chunks(data, "x-amz-checksum-crc64nvme:" + value)
                hdr = sigv4_headers("PUT", connector.port, path, {
                    "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
                    "x-amz-trailer": "x-amz-checksum-crc64nvme"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
                hdr["content-length"] = str(len(body))
                conn.request("PUT", path, body=body, headers=hdr)
            resp = conn.getresponse()
            text = resp.read().decode(errors="replace")
        finally:
            conn.close()
        assert resp.status == status, text
        if status == 200:
            assert stored(local, key) == data
        else:
            assert "<Code>BadDigest</Code>" in text, text
            assert stored(local, key) is None
