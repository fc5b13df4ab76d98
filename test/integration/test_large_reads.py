"""Large downloads wake the connector only once a batch of bytes has arrived
from the backend (SO_RCVLOWAT on the backend connection, storage/http_client.cpp).
What must hold whatever the batching: every byte arrives, the tail of a body
whose size is no multiple of anything arrives, and the kept-alive backend
connection answers the next small request at once (a low-water mark left
behind would hold it until backend_timeout, and the read would fail with 503).
The test connector uses one request thread per connection, so one boto3
client with one connection drives one backend connection per side."""
import hashlib
import os
import socket

import pytest
import requests

from conftest import LOCAL_BUCKET, local_name

MiB = 1024 * 1024
SIZES = [4 * MiB, 4 * MiB + 1, 9 * MiB + 12345]


def one_connection_client(connector):
    return connector.client(max_pool_connections=1)


def test_large_bodies_then_small_requests_on_the_same_backend_connections(connector, local, remote, uid):
    s3 = one_connection_client(connector)
    bodies = {}
    for i, size in enumerate(SIZES):
        data = os.urandom(size)
        # Alternate the side that holds the body: local copies and on-prem-only objects.
        if i % 2 == 0:
            s3.put_object(Bucket="bucket1", Key=f"big-{uid}/{i}", Body=data)
        else:
            remote.put_object(Bucket="bucket1", Key=f"big-{uid}/{i}", Body=data)
        bodies[f"big-{uid}/{i}"] = data
    s3.put_object(Bucket="bucket1", Key=f"big-{uid}/small", Body=b"s")
    remote.put_object(Bucket="bucket1", Key=f"big-{uid}/small-remote", Body=b"r")
    for _ in range(2):
        for key, data in bodies.items():
            got = s3.get_object(Bucket="bucket1", Key=key)["Body"].read()
            assert len(got) == len(data) and hashlib.md5(got).digest() == hashlib.md5(data).digest()
            # Right after: a small read, a HEAD and a miss, on both backends' kept-alive connections.
            assert s3.get_object(Bucket="bucket1", Key=f"big-{uid}/small")["Body"].read() == b"s"
            assert s3.get_object(Bucket="bucket1", Key=f"big-{uid}/small-remote")["Body"].read() == b"r"
            assert s3.head_object(Bucket="bucket1", Key=key)["ContentLength"] == len(data)
    assert local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(f"big-{uid}/0"))["ContentLength"] == SIZES[0]


@pytest.mark.parametrize("first,last", [(0, 4 * MiB + 6), (1, 5 * MiB - 2), (3 * MiB, 9 * MiB + 12344)])
def test_large_ranges_arrive_whole(connector, remote, uid, first, last):
    data = os.urandom(9 * MiB + 12345)
    remote.put_object(Bucket="bucket1", Key=f"rng-{uid}", Body=data)
    s3 = one_connection_client(connector)
    r = s3.get_object(Bucket="bucket1", Key=f"rng-{uid}", Range=f"bytes={first}-{last}")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["Body"].read() == data[first:last + 1]
    assert s3.head_object(Bucket="bucket1", Key=f"rng-{uid}")["ContentLength"] == len(data)


def test_client_leaving_mid_download_leaves_no_stuck_backend_connection(connector, uid):
    s3 = one_connection_client(connector)
    data = os.urandom(12 * MiB)
    s3.put_object(Bucket="bucket1", Key=f"gone-{uid}", Body=data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": f"gone-{uid}"})
    path = url.split(str(connector.port), 1)[1]
    for _ in range(3):
        # Read the head and a little of the body, then vanish.
        with socket.create_connection(("127.0.0.1", connector.port)) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{connector.port}\r\n\r\n".encode())
            got = b""
            while len(got) < 300 * 1024:
                piece = sock.recv(65536)
                assert piece, "the connector closed the connection early"
                got += piece
            assert got.startswith(b"HTTP/1.1 200")
        # Whichever thread served it, its backend connection answers the next small
        # reads at once: each on a new client connection, so they land on any thread.
        s3.put_object(Bucket="bucket1", Key=f"gone-{uid}-small", Body=b"x")
        small = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": f"gone-{uid}-small"})
        for _ in range(8):
            with requests.Session() as fresh:
                r = fresh.get(small, timeout=30)
                assert (r.status_code, r.content) == (200, b"x")
    assert s3.get_object(Bucket="bucket1", Key=f"gone-{uid}")["Body"].read() == data
