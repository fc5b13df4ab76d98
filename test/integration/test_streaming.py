"""aws-chunked uploads, signed by hand as the SDKs do: every chunk signature
of STREAMING-AWS4-HMAC-SHA256-PAYLOAD verified, the checksum trailers of
STREAMING-UNSIGNED-PAYLOAD-TRAILER verified, backends receive plain bytes."""
import base64
import datetime
import hashlib
import hmac
import os
import socket
import zlib
from urllib.parse import quote

import pytest
from conftest import LOCAL_BUCKET, local_name

AK, SK, REGION = "test:tester", "testing", "us-east-1"
EMPTY = hashlib.sha256(b"").hexdigest()


def crc32c(data):
    # Independent reference implementation (Castagnoli, reflected 0x82F63B78).
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def checksum_b64(alg, data):
    if alg == "crc32":
        raw = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    elif alg == "crc32c":
        raw = crc32c(data).to_bytes(4, "big")
    else:
        raw = hashlib.new(alg, data).digest()
    return base64.b64encode(raw).decode()


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(day):
    k = _hmac(("AWS4" + SK).encode(), day)
    for part in (REGION, "s3", "aws4_request"):
        k = _hmac(k, part)
    return k


def seed_request(port, path, headers, payload):
    now = datetime.datetime.utcnow()
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = dict(headers, host=f"127.0.0.1:{port}", **{"x-amz-date": amz_date, "x-amz-content-sha256": payload})
    names = sorted(h.lower() for h in headers)
    canon_headers = "".join(f"{n}:{str(headers[n]).strip()}\n" for n in names)
    signed = ";".join(names)
    canonical = "\n".join(["PUT", path, "", canon_headers, signed, payload])
    scope = f"{day}/{REGION}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(day)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = f"AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={signed}, Signature={sig}"
    return headers, key, amz_date, scope, sig


def signed_chunks(chunks, key, amz_date, scope, seed, tamper=None):
    body, prev = b"", seed
    for i, data in enumerate(chunks + [b""]):
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY, hashlib.sha256(data).hexdigest()])
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if tamper == i:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        body += f"{len(data):x};chunk-signature={sig}\r\n".encode() + data + b"\r\n"
        prev = sig
    return body


def send(port, path, headers, body, shut=False):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s.sendall(head.encode() + body)
    if shut:
        s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head_part, _, rest = data.partition(b"\r\n\r\n")
            length = [int(l.split(b":")[1]) for l in head_part.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if length and len(rest) >= length[0]:
                break
    s.close()
    status = int(data.split(b" ")[1])
    return status, data.decode(errors="replace")


def path_for(key):
    return "/bucket1/" + quote(key, safe="/~")


def stored(local, key):
    try:
        return local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read()
    except local.exceptions.NoSuchKey:
        return None


@pytest.mark.parametrize("with_encoding_header", [True, False])
def test_signed_streaming_upload(connector, local, uid, with_encoding_header):
    key = f"stream-{uid}/signed-{with_encoding_header}"
    chunks = [os.urandom(65536), os.urandom(65536), b"tail bytes"]
    data = b"".join(chunks)
    hdr = {"x-amz-decoded-content-length": str(len(data))}
    if with_encoding_header:
        hdr["content-encoding"] = "aws-chunked"
    payload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    # The content-length of the framed body must be signed: compute it from a dry run.
    probe = signed_chunks(chunks, b"k" * 32, "d", "s", "0" * 64)
    hdr["content-length"] = str(len(probe))
    headers, k, amz_date, scope, seed = seed_request(connector.port, path_for(key), hdr, payload)
    body = signed_chunks(chunks, k, amz_date, scope, seed)
    assert len(body) == len(probe)
    status, text = send(connector.port, path_for(key), headers, body)
    assert status == 200, text
    assert hashlib.md5(data).hexdigest() in text   # the ETag is the MD5 of the decoded bytes
    got = stored(local, key)
    assert got == data
    head = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert "aws-chunked" not in head.get("ContentEncoding", "")


def test_broken_chunk_chain_is_refused_and_nothing_stored(connector, local, uid):
    key = f"stream-{uid}/broken"
    chunks = [os.urandom(65536), os.urandom(65536), b"end"]
    hdr = {"x-amz-decoded-content-length": str(sum(map(len, chunks))), "content-encoding": "aws-chunked"}
    probe = signed_chunks(chunks, b"k" * 32, "d", "s", "0" * 64)
    hdr["content-length"] = str(len(probe))
    headers, k, amz_date, scope, seed = seed_request(connector.port, path_for(key), hdr,
                                                     "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    for tamper in (1, 3):   # a middle chunk, and the final empty chunk
        body = signed_chunks(chunks, k, amz_date, scope, seed, tamper=tamper)
        status, text = send(connector.port, path_for(key), headers, body)
        assert status == 403 and "<Code>SignatureDoesNotMatch</Code>" in text, text
        assert stored(local, key) is None


def unsigned_trailer_body(data, alg, value, chunk=65536):
    body = b""
    for i in range(0, len(data), chunk):
        part = data[i:i + chunk]
        body += f"{len(part):x}\r\n".encode() + part + b"\r\n"
    body += b"0\r\n" + f"x-amz-checksum-{alg}:{value}\r\n".encode() + b"\r\n"
    return body


@pytest.mark.parametrize("alg", ["crc32", "crc32c", "sha1", "sha256"])
def test_unsigned_trailer_checksums(connector, local, uid, alg):
    key = f"stream-{uid}/trailer-{alg}"
    data = os.urandom(150000)
    good = unsigned_trailer_body(data, alg, checksum_b64(alg, data))
    hdr = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
           "x-amz-trailer": f"x-amz-checksum-{alg}", "content-length": str(len(good))}
    headers, *_ = seed_request(connector.port, path_for(key), hdr, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    status, text = send(connector.port, path_for(key), headers, good)
    assert status == 200, text
    assert stored(local, key) == data

    key2 = key + "-bad"
    bad = unsigned_trailer_body(data, alg, checksum_b64(alg, data[::-1]))
    hdr["content-length"] = str(len(bad))
    headers, *_ = seed_request(connector.port, path_for(key2), hdr, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    status, text = send(connector.port, path_for(key2), headers, bad)
    assert status == 400 and "<Code>BadDigest</Code>" in text, text
    assert stored(local, key2) is None


def test_body_cut_short_is_incomplete_body(connector, local, uid):
    key = f"stream-{uid}/short"
    data = os.urandom(100000)
    full = unsigned_trailer_body(data, "crc32", checksum_b64("crc32", data))
    hdr = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
           "x-amz-trailer": "x-amz-checksum-crc32", "content-length": str(len(full))}
    headers, *_ = seed_request(connector.port, path_for(key), hdr, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    status, text = send(connector.port, path_for(key), headers, full[:50000], shut=True)
    assert status == 400 and "<Code>IncompleteBody</Code>" in text, text
    assert stored(local, key) is None
    # The server is still fine.
    assert connector.client().head_bucket(Bucket="bucket1")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_expect_continue_early_error_answers_without_body(connector, local, uid):
    key = f"stream-{uid}/expect"
    s = socket.create_connection(("127.0.0.1", connector.port), timeout=10)
    head = (f"PUT {path_for(key)} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048576\r\n"
            "Expect: 100-continue\r\nAuthorization: AWS4-HMAC-SHA256 Credential=nobody/20240101/us-east-1/s3/"
            "aws4_request, SignedHeaders=host, Signature=00\r\nx-amz-date: 20240101T000000Z\r\n"
            "x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n\r\n")
    s.sendall(head.encode())
    reply = s.recv(65536).decode(errors="replace")   # no body was sent: the answer must come anyway
    s.close()
    assert reply.startswith("HTTP/1.1 403"), reply
    assert "100 Continue" not in reply
    assert "InvalidAccessKeyId" in reply
    assert stored(local, key) is None
