"""Mappings with "protocol": "swift": the cloud-side ("local") store is itself a
Swift cluster spoken to with the Swift API (auth v1). The local test cluster
(:8090) plays that store through its Swift API; the on-prem ("remote") side is
the usual cluster (:8080) through its S3 API.

Every result is checked on the Swift cluster directly (requests against its
Swift API), not only through the connector.
"""
import base64
import email.header
import hashlib
import http.client
import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import botocore
import botocore.handlers
import pytest
import requests
from botocore.config import Config

from conftest import LOCAL_URL, free_port, local_name

AUTH_URL = f"{LOCAL_URL}/auth/v1.0"
CONTAINER = "bucket1"           # the on-prem container the mapping covers (exists on the remote cluster)


class SwiftAPI:
    """Direct access to the local cluster's Swift API."""

    def __init__(self, auth_url=AUTH_URL, user="test:tester", key="testing"):
        r = requests.get(auth_url, headers={"X-Auth-User": user, "X-Auth-Key": key}, timeout=10)
        r.raise_for_status()
        self.url = r.headers["X-Storage-Url"]
        self.token = r.headers["X-Auth-Token"]

    def _req(self, method, path, **kw):
        headers = dict(kw.pop("headers", {}))
        headers["X-Auth-Token"] = self.token
        return requests.request(method, f"{self.url}/{requests.utils.quote(path)}", headers=headers,
                                timeout=10, **kw)

    def create_container(self, c):
        assert self._req("PUT", c).status_code in (201, 202)

    def delete_container(self, c):
        while True:
            names = [o["name"] for o in self.list(c)]
            if not names:
                break
            for n in names:
                self._req("DELETE", f"{c}/{n}")
        self._req("DELETE", c)

    def put(self, c, name, data, headers=None):
        r = self._req("PUT", f"{c}/{name}", data=data, headers=headers or {})
        assert r.status_code == 201, r.text
        return r

    def head(self, c, name):
        return self._req("HEAD", f"{c}/{name}")

    def get(self, c, name):
        return self._req("GET", f"{c}/{name}")

    def list(self, c, prefix=""):
        r = self._req("GET", c, params={"format": "json", "prefix": prefix})
        assert r.status_code == 200, r.text
        return r.json()


def swift_entry(container, **over):
    entry = {"account": "AUTH_test", "container": CONTAINER, "protocol": "swift",
             "aws_endpoint": AUTH_URL, "aws_identity": "test:tester", "aws_secret": "testing",
             "aws_bucket": container, "copy_after": 0, "retain_local": True}
    entry.update(over)
    return entry


@pytest.fixture
def swift():
    return SwiftAPI()


@pytest.fixture
def swift_container(backends, swift, uid):
    name = f"cc-swift-{uid}"
    swift.create_container(name)
    yield name
    swift.delete_container(name)


@pytest.fixture
def start_client(make_connector):
    """Starts a private connector with these mapping entries and returns an S3 client for it.
    The clients' keep-alive connections are closed first at teardown, so the connector stops at once."""
    clients = []

    def start(entries):
        c = make_connector(entries=entries).start()
        # no client-side retries: a 503 is answered at once, and every request here is seen once
        client = utf8_metadata_client(boto3.client(
            "s3", endpoint_url=c.url, aws_access_key_id="test:tester", aws_secret_access_key="testing",
            region_name="us-east-1", config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                                                   retries={"total_max_attempts": 1})))
        clients.append(client)
        return client
    yield start
    for c in clients:
        c.close()


@pytest.fixture
def conn(start_client, swift_container):
    """A connector whose mapping for AUTH_test/bucket1 is a Swift container."""
    return start_client([swift_entry(swift_container)])


def utf8_metadata_client(client):
    """Lets botocore send UTF-8 metadata values (it refuses non-ASCII ones by default)."""
    for op in ("PutObject", "CopyObject"):
        client.meta.events.unregister(f"before-parameter-build.s3.{op}", botocore.handlers.validate_ascii_metadata)
    return client


def raw_header(value):
    """How botocore shows a UTF-8 header value it received (http.client decodes headers as latin-1).
    (botocore sends str header values as UTF-8.)"""
    return value.encode("utf-8").decode("latin-1")


def assert_503(call, side="local"):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        call()
    err = ei.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 503, err
    # HEAD answers have no body to carry the error document
    if err["ResponseMetadata"].get("HTTPHeaders", {}).get("content-length", "0") != "0":
        assert err["Error"]["Code"] == "ServiceUnavailable"
        assert side in err["Error"]["Message"]


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        call()
    return ei.value.response


# --------------------------------------------------------------------- tests

def test_put_lands_in_swift_container_under_1space_name(conn, swift, swift_container, remote, uid):
    key = f"sw-{uid}/dir/obj one.txt"
    body = b"stored in a swift cloud store"
    r = conn.put_object(Bucket=CONTAINER, Key=key, Body=body, ContentType="text/x-test",
                        Metadata={"colour": "blue"}, CacheControl="max-age=7")
    assert r["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()

    name = local_name(key, CONTAINER, "AUTH_test")
    got = swift.get(swift_container, name)
    assert got.status_code == 200
    assert got.content == body
    assert got.headers["Content-Type"] == "text/x-test"
    assert got.headers["X-Object-Meta-Colour"] == "blue"
    assert got.headers["Cache-Control"] == "max-age=7"
    assert got.headers["Etag"].strip('"') == hashlib.md5(body).hexdigest()
    # exactly one object, under the 1space name, and nothing on-prem
    assert [o["name"] for o in swift.list(swift_container)] == [name]
    assert remote.list_objects_v2(Bucket=CONTAINER, Prefix=f"sw-{uid}/")["KeyCount"] == 0


def test_get_head_range_conditionals_and_metadata(conn, swift, swift_container, uid):
    key = f"sw-{uid}/data.bin"
    body = bytes(range(256)) * 40
    md5 = hashlib.md5(body).hexdigest()
    conn.put_object(Bucket=CONTAINER, Key=key, Body=body, ContentType="application/x-bin",
                    Metadata={"plain": "ascii value", "name": "grüße ✓"})
    # non-ASCII values sit in Swift as RFC 2047 encoded words, as 1space writes them
    stored = swift.head(swift_container, local_name(key, CONTAINER))
    encoded = stored.headers["X-Object-Meta-Name"]
    assert encoded.startswith("=?UTF-8?")
    text, charset = email.header.decode_header(encoded)[0]
    assert text.decode(charset) == "grüße ✓"

    got = conn.get_object(Bucket=CONTAINER, Key=key)
    assert got["Body"].read() == body
    assert got["ETag"] == f'"{md5}"'
    assert got["ContentType"] == "application/x-bin"
    assert got["ContentLength"] == len(body)
    assert got["Metadata"] == {"plain": "ascii value", "name": raw_header("grüße ✓")}
    assert got["LastModified"].timestamp() > 0

    head = conn.head_object(Bucket=CONTAINER, Key=key)
    assert head["ContentLength"] == len(body)
    assert head["ETag"] == f'"{md5}"'
    assert head["Metadata"] == got["Metadata"]
    assert head["LastModified"] == got["LastModified"]

    part = conn.get_object(Bucket=CONTAINER, Key=key, Range="bytes=100-299")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["Body"].read() == body[100:300]
    assert part["ContentRange"] == f"bytes 100-299/{len(body)}"
    suffix = conn.get_object(Bucket=CONTAINER, Key=key, Range="bytes=-10")
    assert suffix["Body"].read() == body[-10:]

    hpart = conn.head_object(Bucket=CONTAINER, Key=key, Range="bytes=10-19")
    assert hpart["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert hpart["ContentLength"] == 10
    assert hpart["ResponseMetadata"]["HTTPHeaders"]["content-range"] == f"bytes 10-19/{len(body)}"

    err = client_error(lambda: conn.get_object(Bucket=CONTAINER, Key=key, Range=f"bytes={len(body) + 5}-"))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 416
    assert err["Error"]["Code"] == "InvalidRange"
    assert err["ResponseMetadata"]["HTTPHeaders"].get("content-range") == f"bytes */{len(body)}"
    err = client_error(lambda: conn.head_object(Bucket=CONTAINER, Key=key, Range=f"bytes={len(body)}-"))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 416

    err = client_error(lambda: conn.get_object(Bucket=CONTAINER, Key=key, IfNoneMatch=f'"{md5}"'))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 304
    err = client_error(lambda: conn.get_object(Bucket=CONTAINER, Key=key, IfMatch='"0123"'))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert conn.get_object(Bucket=CONTAINER, Key=key, IfMatch=f'"{md5}"')["Body"].read() == body


def test_object_written_by_a_swift_client_is_readable(conn, swift, swift_container, uid):
    """Data already in the Swift cloud store (e.g. synced by 1space) with raw UTF-8 metadata."""
    key = f"sw-{uid}/synced ü.txt"
    swift.put(swift_container, local_name(key, CONTAINER), b"synced earlier",
              headers={"Content-Type": "text/plain", "X-Object-Meta-Origin": "onprem-sync".encode(),
                       "X-Object-Meta-Label": "größe".encode("utf-8")})
    got = conn.get_object(Bucket=CONTAINER, Key=key)
    assert got["Body"].read() == b"synced earlier"
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"origin": "onprem-sync", "label": raw_header("größe")}


def test_bad_content_md5_stores_nothing(conn, swift, swift_container, uid):
    key = f"sw-{uid}/digest.txt"
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    err = client_error(lambda: conn.put_object(Bucket=CONTAINER, Key=key, Body=b"payload", ContentMD5=wrong))
    assert err["Error"]["Code"] == "BadDigest"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert swift.list(swift_container) == []
    right = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    conn.put_object(Bucket=CONTAINER, Key=key, Body=b"payload", ContentMD5=right)
    assert swift.get(swift_container, local_name(key, CONTAINER)).content == b"payload"


def test_fallback_to_remote_for_onprem_only_keys(conn, swift, swift_container, remote, uid):
    key = f"sw-{uid}/onprem-only.txt"
    remote.put_object(Bucket=CONTAINER, Key=key, Body=b"only on-prem", Metadata={"where": "onprem"})
    got = conn.get_object(Bucket=CONTAINER, Key=key)
    assert got["Body"].read() == b"only on-prem"
    assert got["Metadata"] == {"where": "onprem"}
    assert conn.head_object(Bucket=CONTAINER, Key=key)["ContentLength"] == len(b"only on-prem")
    # the local copy wins once there is one
    conn.put_object(Bucket=CONTAINER, Key=key, Body=b"cloud copy")
    assert conn.get_object(Bucket=CONTAINER, Key=key)["Body"].read() == b"cloud copy"
    assert swift.get(swift_container, local_name(key, CONTAINER)).content == b"cloud copy"
    # nowhere at all: a plain 404
    err = client_error(lambda: conn.get_object(Bucket=CONTAINER, Key=f"sw-{uid}/nowhere"))
    assert err["Error"]["Code"] == "NoSuchKey"


def test_merged_listing_with_delimiter_and_paging(conn, swift, swift_container, remote, uid):
    p = f"sw-{uid}/"
    local_keys = {"a": b"1", "both": b"local-longer", "dir/x": b"x", "e": b"ee", "f": b"f", "é-utf8": b"u",
                  "odd +%?#&=;name": b"o", "\U0001F600-astral": b"s"}
    remote_keys = {"both": b"r", "c": b"ccc", "dir/y": b"y", "g/z": b"z"}
    for k, v in local_keys.items():
        conn.put_object(Bucket=CONTAINER, Key=p + k, Body=v)
    for k, v in remote_keys.items():
        remote.put_object(Bucket=CONTAINER, Key=p + k, Body=v)
    # another container's 1space names in the same Swift container stay invisible
    swift.put(swift_container, local_name(p + "foreign", "other"), b"not ours")
    assert len(swift.list(swift_container)) == len(local_keys) + 1

    flat = conn.list_objects_v2(Bucket=CONTAINER, Prefix=p)
    keys = [o["Key"] for o in flat["Contents"]]
    expected = sorted(set(local_keys) | set(remote_keys), key=lambda k: k.encode())
    assert keys == [p + k for k in expected]
    by_key = {o["Key"]: o for o in flat["Contents"]}
    assert by_key[p + "both"]["Size"] == len(local_keys["both"])
    assert by_key[p + "both"]["ETag"] == '"%s"' % hashlib.md5(local_keys["both"]).hexdigest()
    assert by_key[p + "c"]["Size"] == 3
    assert by_key[p + "a"]["LastModified"].year >= 2020

    delim = conn.list_objects_v2(Bucket=CONTAINER, Prefix=p, Delimiter="/")
    top = [k for k in expected if "/" not in k]
    assert [o["Key"] for o in delim["Contents"]] == [p + k for k in top]
    assert len(top) == 8
    assert [c["Prefix"] for c in delim["CommonPrefixes"]] == [p + "dir/", p + "g/"]

    # small pages (v1 markers and v2 tokens) give the same namespace, each name once
    for version in (1, 2):
        seen, token, pages = [], None, 0
        while True:
            kw = {"Bucket": CONTAINER, "Prefix": p, "Delimiter": "/", "MaxKeys": 2}
            if version == 2:
                if token:
                    kw["ContinuationToken"] = token
                page = conn.list_objects_v2(**kw)
            else:
                if token:
                    kw["Marker"] = token
                page = conn.list_objects(**kw)
            pages += 1
            names = [o["Key"] for o in page.get("Contents", [])] + [c["Prefix"] for c in page.get("CommonPrefixes", [])]
            assert 0 < len(names) <= 2
            seen += names
            if not page["IsTruncated"]:
                break
            token = page["NextContinuationToken"] if version == 2 else page.get("NextMarker", sorted(names)[-1])
            assert pages < 20
        assert sorted(seen) == sorted([o["Key"] for o in delim["Contents"]] +
                                      [c["Prefix"] for c in delim["CommonPrefixes"]])
        assert len(seen) == len(set(seen))


def test_delete_removes_only_the_swift_copy(conn, swift, swift_container, remote, uid):
    key = f"sw-{uid}/to-delete"
    conn.put_object(Bucket=CONTAINER, Key=key, Body=b"cloud")
    remote.put_object(Bucket=CONTAINER, Key=key, Body=b"onprem")
    assert swift.head(swift_container, local_name(key, CONTAINER)).status_code == 200
    r = conn.delete_object(Bucket=CONTAINER, Key=key)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert swift.head(swift_container, local_name(key, CONTAINER)).status_code == 404
    assert remote.get_object(Bucket=CONTAINER, Key=key)["Body"].read() == b"onprem"
    # the on-prem copy shows through again
    assert conn.get_object(Bucket=CONTAINER, Key=key)["Body"].read() == b"onprem"
    # absent everywhere: still 204
    r = conn.delete_object(Bucket=CONTAINER, Key=f"sw-{uid}/never-existed")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_metadata_update_replaces_swift_metadata(conn, swift, swift_container, remote, uid):
    key = f"sw-{uid}/meta.txt"
    body = b"metadata target"
    conn.put_object(Bucket=CONTAINER, Key=key, Body=body, ContentType="text/plain",
                    Metadata={"old": "1", "keep": "x"})
    r = conn.copy_object(Bucket=CONTAINER, Key=key, CopySource={"Bucket": CONTAINER, "Key": key},
                         MetadataDirective="REPLACE", ContentType="application/x-new",
                         Metadata={"keep": "y", "new": "nëu"})
    assert r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()

    stored = swift.head(swift_container, local_name(key, CONTAINER))
    assert stored.headers["Content-Type"] == "application/x-new"
    metas = {k.lower() for k in stored.headers if k.lower().startswith("x-object-meta-")}
    assert metas == {"x-object-meta-keep", "x-object-meta-new"}
    assert stored.headers["X-Object-Meta-Keep"] == "y"
    assert swift.get(swift_container, local_name(key, CONTAINER)).content == body

    head = conn.head_object(Bucket=CONTAINER, Key=key)
    assert head["Metadata"] == {"keep": "y", "new": raw_header("nëu")}
    assert head["ContentType"] == "application/x-new"

    # no local copy: the on-prem copy is updated, the Swift container untouched
    okey = f"sw-{uid}/meta-onprem.txt"
    remote.put_object(Bucket=CONTAINER, Key=okey, Body=b"op", Metadata={"a": "1"})
    conn.copy_object(Bucket=CONTAINER, Key=okey, CopySource={"Bucket": CONTAINER, "Key": okey},
                     MetadataDirective="REPLACE", Metadata={"b": "2"})
    assert remote.head_object(Bucket=CONTAINER, Key=okey)["Metadata"] == {"b": "2"}
    assert swift.head(swift_container, local_name(okey, CONTAINER)).status_code == 404

    err = client_error(lambda: conn.copy_object(
        Bucket=CONTAINER, Key=f"sw-{uid}/missing", CopySource={"Bucket": CONTAINER, "Key": f"sw-{uid}/missing"},
        MetadataDirective="REPLACE", Metadata={"b": "2"}))
    assert err["Error"]["Code"] == "NoSuchKey"


def test_unreachable_auth_url_is_503(start_client, remote, uid):
    dead = f"http://127.0.0.1:{free_port()}/auth/v1.0"
    c = start_client([swift_entry(f"cc-swift-{uid}", aws_endpoint=dead)])
    key = f"sw-{uid}/x"
    remote.put_object(Bucket=CONTAINER, Key=key, Body=b"on-prem exists")
    # a local outage must not turn into the on-prem copy or a 404
    assert_503(lambda: c.get_object(Bucket=CONTAINER, Key=key))
    assert_503(lambda: c.get_object(Bucket=CONTAINER, Key=f"sw-{uid}/absent"))
    assert_503(lambda: c.head_object(Bucket=CONTAINER, Key=key))
    assert_503(lambda: c.put_object(Bucket=CONTAINER, Key=key, Body=b"new"))
    assert_503(lambda: c.list_objects_v2(Bucket=CONTAINER, Prefix=f"sw-{uid}/"))
    assert_503(lambda: c.delete_object(Bucket=CONTAINER, Key=key))
    assert remote.get_object(Bucket=CONTAINER, Key=key)["Body"].read() == b"on-prem exists"


def test_wrong_credentials_or_missing_container_is_503(start_client, swift, swift_container, remote, uid):
    key = f"sw-{uid}/k"
    remote.put_object(Bucket=CONTAINER, Key=key, Body=b"on-prem")
    bad_key = start_client([swift_entry(swift_container, aws_secret="wrong")])
    assert_503(lambda: bad_key.get_object(Bucket=CONTAINER, Key=key))
    assert_503(lambda: bad_key.put_object(Bucket=CONTAINER, Key=key, Body=b"x"))

    missing = f"cc-swift-{uid}-missing"
    no_cont = start_client([swift_entry(missing)])
    assert_503(lambda: no_cont.get_object(Bucket=CONTAINER, Key=key))
    assert_503(lambda: no_cont.head_object(Bucket=CONTAINER, Key=key))
    assert_503(lambda: no_cont.put_object(Bucket=CONTAINER, Key=key, Body=b"x"))
    assert_503(lambda: no_cont.list_objects_v2(Bucket=CONTAINER, Prefix=f"sw-{uid}/"))
    assert_503(lambda: no_cont.delete_object(Bucket=CONTAINER, Key=key))
    assert_503(lambda: no_cont.copy_object(Bucket=CONTAINER, Key=key, CopySource={"Bucket": CONTAINER, "Key": key},
                                           MetadataDirective="REPLACE", Metadata={"b": "2"}))
    # nothing was created by the attempts
    assert swift._req("HEAD", missing).status_code == 404
    assert swift.list(swift_container) == []


# ------------------------------------------------ token caching and expiry

class TokenProxy:
    """An HTTP proxy in front of the local cluster's Swift API that hands out its
    own tokens (mapped to real ones) so a test can expire them at will. Counts
    auth requests; answers 401 to a stale token before reading the body."""

    def __init__(self, target_port=int(LOCAL_URL.rsplit(":", 1)[1])):
        self.target_port = target_port
        self.auth_requests = 0
        self.refused = 0
        self.tokens = {}          # proxy token -> real token
        self.counter = itertools.count()
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _stale(self):
                tok = self.headers.get("X-Auth-Token")
                return tok is not None and tok not in proxy.tokens

            def handle_expect_100(self):
                if self._stale():
                    self._refuse()
                    return False
                return super().handle_expect_100()

            def _refuse(self):
                with proxy.lock:
                    proxy.refused += 1
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True

            def _forward(self):
                if self.path.startswith("/auth/"):
                    with proxy.lock:
                        proxy.auth_requests += 1
                elif self._stale():
                    length = int(self.headers.get("Content-Length") or 0)
                    if length and "100-continue" not in (self.headers.get("Expect") or "").lower():
                        self.rfile.read(length)
                    self._refuse()
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "expect", "connection", "x-auth-token")}
                tok = self.headers.get("X-Auth-Token")
                if tok:
                    headers["X-Auth-Token"] = proxy.tokens[tok]
                c = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=10)
                c.request(self.command, self.path, body=body, headers=headers)
                r = c.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() in ("connection", "transfer-encoding", "content-length", "date", "server"):
                        continue
                    if k.lower() in ("x-auth-token", "x-storage-token"):
                        with proxy.lock:
                            mine = f"proxytok{next(proxy.counter)}"
                            proxy.tokens[mine] = v
                        v = mine
                    if k.lower() == "x-storage-url":
                        v = v.replace(f":{proxy.target_port}/", f":{proxy.port}/")
                    self.send_header(k, v)
                self.send_header("Content-Length", str(r.getheader("Content-Length") or len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                c.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def expire_tokens(self):
        with self.lock:
            self.tokens.clear()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def test_token_is_cached_and_renewed_once_on_401(start_client, swift, swift_container, uid):
    with TokenProxy() as proxy:
        entry = swift_entry(swift_container, aws_endpoint=f"http://127.0.0.1:{proxy.port}/auth/v1.0")
        c = start_client([entry])
        key = f"sw-{uid}/tok"
        for i in range(3):
            c.put_object(Bucket=CONTAINER, Key=f"{key}{i}", Body=b"v%d" % i)
        assert c.get_object(Bucket=CONTAINER, Key=f"{key}0")["Body"].read() == b"v0"
        c.list_objects_v2(Bucket=CONTAINER, Prefix=f"sw-{uid}/")
        # one authentication served every request of the process
        assert proxy.auth_requests == 1
        assert proxy.refused == 0

        proxy.expire_tokens()
        assert c.get_object(Bucket=CONTAINER, Key=f"{key}1")["Body"].read() == b"v1"
        assert proxy.refused == 1 and proxy.auth_requests == 2

        # an upload with a stale token is retried: the cluster refused it before the body went out
        proxy.expire_tokens()
        big = b"B" * (256 * 1024 + 7)
        c.put_object(Bucket=CONTAINER, Key=f"{key}big", Body=big)
        assert proxy.refused == 2 and proxy.auth_requests == 3
        assert swift.get(swift_container, local_name(f"{key}big", CONTAINER)).content == big
        # small bodies too (curl asks for 100-continue on its own only for large ones)
        proxy.expire_tokens()
        c.put_object(Bucket=CONTAINER, Key=f"{key}small", Body=b"tiny")
        assert proxy.refused == 3 and proxy.auth_requests == 4
        assert swift.get(swift_container, local_name(f"{key}small", CONTAINER)).content == b"tiny"
