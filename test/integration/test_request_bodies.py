"""Request bodies with a Content-Length are read straight from the client's
socket in large blocks (frontend/body_stream.h), not through Poco's 4 KiB
stream. These tests hold the edges of that: a body must end exactly where its
Content-Length says, whatever arrived with the request head or after it, so
pipelined requests on one connection are answered one by one and every object
is stored byte for byte (checked on the local store itself)."""
import hashlib
import base64
import os
import re
import socket
import time

import pytest
from objects_helpers import local_body as stored, signed_headers


def put_bytes(base_url, path, body, extra=None):
    """A signed PUT request as raw bytes (head and body)."""
    headers = dict(extra or {})
    headers["Content-Length"] = str(len(body))
    msg = f"PUT {path} HTTP/1.1\r\n".encode()
    for k, v in signed_headers("PUT", base_url, path, headers=headers, body=body):
        msg += f"{k}: {v}\r\n".encode()
    return msg + b"\r\n" + body


def get_bytes(base_url, path, close=True):
    msg = f"GET {path} HTTP/1.1\r\n".encode()
    for k, v in signed_headers("GET", base_url, path, headers={"Connection": "close"} if close else {}):
        msg += f"{k}: {v}\r\n".encode()
    return msg + b"\r\n"


def read_responses(sock):
    """Every response on the connection until the server closes it: [(status, body)]."""
    data = b""
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"incomplete response: {data[:200]!r}"
        status = int(head.split(b" ", 2)[1])
        m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
        length = int(m.group(1)) if m else 0
        out.append((status, rest[:length]))
        data = rest[length:]
    return out


def test_pipelined_puts_end_exactly_at_their_content_length(connector, local, uid):
    """Bodies of many sizes, all sent in one write behind each other: the small ones arrive
    with their request head (in Poco's session buffer), the large ones span many reads."""
    sizes = [1, 3000, 4096, 65537, 1 << 20, (3 << 20) + 7]
    bodies = {f"body-{uid}/s{n}": os.urandom(n) for n in sizes}
    wire = b"".join(put_bytes(connector.url, f"/bucket1/{k}", b) for k, b in bodies.items())
    first = next(iter(bodies))
    wire += get_bytes(connector.url, f"/bucket1/{first}")
    with socket.create_connection(("127.0.0.1", connector.port), timeout=30) as s:
        s.sendall(wire)
        answers = read_responses(s)
    assert [st for st, _ in answers] == [200] * len(bodies) + [200], answers
    assert answers[-1][1] == bodies[first]
    for key, body in bodies.items():
        assert stored(local, key) == body, key


def test_a_body_that_arrives_in_pieces(connector, local, uid):
    """A client sending its body slowly, in pieces that split the head from the body and
    the body at odd places: every byte lands, in order."""
    key = f"body-{uid}/dribble"
    body = os.urandom(300_001)
    wire = put_bytes(connector.url, f"/bucket1/{key}", body, {"Connection": "close"})
    head_end = wire.index(b"\r\n\r\n") + 4
    cuts = [head_end - 3, head_end + 1, head_end + 4095, head_end + 100_000, len(wire) - 1, len(wire)]
    with socket.create_connection(("127.0.0.1", connector.port), timeout=30) as s:
        start = 0
        for cut in cuts:
            s.sendall(wire[start:cut])
            start = cut
            time.sleep(0.05)
        answers = read_responses(s)
    assert [st for st, _ in answers] == [200], answers
    assert stored(local, key) == body


def test_a_rejected_body_keeps_the_connection_in_step(connector, local, uid):
    """A 1 MiB body with a wrong Content-MD5 is read to its end and refused (BadDigest, nothing
    stored); the next request on the connection is answered, not mistaken for body bytes."""
    key = f"body-{uid}/bad-md5"
    body = os.urandom(1 << 20)
    wrong = base64.b64encode(hashlib.md5(body[::-1]).digest()).decode()
    wire = put_bytes(connector.url, f"/bucket1/{key}", body, {"Content-MD5": wrong})
    good = f"body-{uid}/after"
    wire += put_bytes(connector.url, f"/bucket1/{good}", b"after the bad one")
    wire += get_bytes(connector.url, f"/bucket1/{good}")
    with socket.create_connection(("127.0.0.1", connector.port), timeout=30) as s:
        s.sendall(wire)
        answers = read_responses(s)
    assert [st for st, _ in answers] == [400, 200, 200], answers
    assert b"<Code>BadDigest</Code>" in answers[0][1]
    assert answers[2][1] == b"after the bad one"
    assert stored(local, key) is None
    assert stored(local, good) == b"after the bad one"


@pytest.mark.parametrize("sent", [0, 5000, 700_000])
def test_a_client_that_leaves_mid_body_stores_nothing(connector, local, uid, sent):
    """The client closes after `sent` of 1 MiB: nothing is stored and the server keeps serving."""
    key = f"body-{uid}/gone-{sent}"
    body = os.urandom(1 << 20)
    wire = put_bytes(connector.url, f"/bucket1/{key}", body)
    head_end = wire.index(b"\r\n\r\n") + 4
    with socket.create_connection(("127.0.0.1", connector.port), timeout=30) as s:
        s.sendall(wire[:head_end + sent])
        s.shutdown(socket.SHUT_WR)
        answers = read_responses(s)
    assert [st for st, _ in answers] == [400], answers
    assert b"<Code>IncompleteBody</Code>" in answers[0][1]
    assert stored(local, key) is None
    assert connector.client().head_bucket(Bucket="bucket1")["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("value", ["=?UTF-8?B?aGVsbG8=?=", "a=?b"])
def test_pipelined_heads_keep_their_values_as_sent(connector, s3, uid, value):
    """A request whose head arrives behind another one (already in the server's buffer) still
    has its header values signed and stored as sent (Poco alone would decode "=?...?=", and
    the signature would not match): it is stored exactly as the same request sent alone."""
    first, second = f"body-{uid}/first", f"body-{uid}/second"
    headers = {"x-amz-meta-v": value, "Content-Disposition": value}
    wire = put_bytes(connector.url, f"/bucket1/{first}", b"one", headers)
    wire += put_bytes(connector.url, f"/bucket1/{second}", b"two", dict(headers, Connection="close"))
    with socket.create_connection(("127.0.0.1", connector.port), timeout=30) as s:
        s.sendall(wire)
        answers = read_responses(s)
    assert [st for st, _ in answers] == [200, 200], answers
    alone, behind = (s3.head_object(Bucket="bucket1", Key=k) for k in (first, second))
    assert behind["ContentDisposition"] == alone["ContentDisposition"] == value
    assert behind["Metadata"] == alone["Metadata"]
