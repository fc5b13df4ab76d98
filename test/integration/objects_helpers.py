"""Helpers shared by test_objects.py and test_listing.py: requests signed by
hand (for what boto3 will not send: raw UTF-8 metadata, chosen query strings),
a raw-socket exchange (to see exactly which bytes follow a response's headers),
and where each test container keeps its objects in the cloud bucket."""
import email.header
import http.client
import socket
import urllib.parse

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import LOCAL_BUCKET, local_name


def layout_name(key, container="bucket1"):
    """The 1space name of `key` of `container` (account AUTH_test) in the cloud bucket,
    following the default mapping of conftest.mapping_entries()."""
    if container == "prefixed":      # custom_prefix "/pfx/"
        return "pfx/" + key
    if container == "noprefix":      # custom_prefix ""
        return key
    return local_name(key, container)   # exact entry or the "/*" entry: hash prefix


def quote_path(bucket, key=""):
    path = "/" + urllib.parse.quote(bucket, safe="")
    if key:
        path += "/" + urllib.parse.quote(key, safe="/~")
    return path


def signed_headers(method, base_url, path, query="", headers=None, body=b"",
                   key="test:tester", secret="testing"):
    """SigV4 headers (botocore's own signer) for a request we send ourselves.
    Header values may be non-ASCII str: they are signed as UTF-8."""
    hdrs = dict(headers or {})
    hdrs["Host"] = urllib.parse.urlsplit(base_url).netloc
    url = base_url + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=hdrs)
    S3SigV4Auth(Credentials(key, secret), "s3", "us-east-1").add_auth(req)
    return list(req.headers.items())


class RawResponse:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value bytes)
        self.body = body

    def header(self, name):
        """The value of a header as text (UTF-8), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v.decode("utf-8")
        return None

    def meta(self):
        return {k.lower()[len("x-amz-meta-"):]: v.decode("utf-8")
                for k, v in self.headers if k.lower().startswith("x-amz-meta-")}


def raw_request(base_url, method, path, query="", headers=None, body=b"", **cred):
    """One signed request through http.client; header values go out as UTF-8 bytes."""
    hdrs = signed_headers(method, base_url, path, query, headers, body, **cred)
    u = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest(method, path + ("?" + query if query else ""), skip_host=True, skip_accept_encoding=True)
        for k, v in hdrs:
            conn.putheader(k, v.encode("utf-8") if isinstance(v, str) else v)
        if body or method in ("PUT", "POST"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        resp = conn.getresponse()
        data = resp.read()
        # http.client decodes header bytes as latin-1: undo that to get the raw bytes back.
        raw_headers = [(k, v.encode("latin-1")) for k, v in resp.getheaders()]
        return RawResponse(resp.status, raw_headers, data)
    finally:
        conn.close()


def _parse_head(block):
    lines = block.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.decode("latin-1").strip(), value.strip()))
    return status, headers


def raw_exchange(base_url, requests):
    """Sends `requests` [(method, path, query, extra_headers)] one after another on ONE
    TCP connection (the last with Connection: close) and returns a RawResponse per request
    whose body is every byte that arrived between that response's headers and the next
    response's status line (the last one: until the server closed the connection)."""
    u = urllib.parse.urlsplit(base_url)
    sock = socket.create_connection((u.hostname, u.port), timeout=30)
    data = b""
    try:
        for i, (method, path, query, extra) in enumerate(requests):
            last = i == len(requests) - 1
            extra = dict(extra or {})
            if last:
                extra["Connection"] = "close"
            hdrs = signed_headers(method, base_url, path, query, extra)
            target = path + ("?" + query if query else "")
            msg = f"{method} {target} HTTP/1.1\r\n".encode()
            for k, v in hdrs:
                msg += k.encode() + b": " + (v.encode("utf-8") if isinstance(v, str) else v) + b"\r\n"
            sock.sendall(msg + b"\r\n")
            if not last:
                # Wait for this response's header block before sending the next request,
                # so any bytes it carries after its headers arrive before the next status line.
                while data.count(b"\r\n\r\n") < i + 1:
                    chunk = sock.recv(65536)
                    assert chunk, f"connection closed before response {i} arrived: {data!r}"
                    data += chunk
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()

    out = []
    pos = 0
    for i in range(len(requests)):
        end = data.index(b"\r\n\r\n", pos)
        status, headers = _parse_head(data[pos:end])
        body_start = end + 4
        if i == len(requests) - 1:
            nxt = len(data)
        else:
            nxt = data.find(b"HTTP/1.1 ", body_start)
            assert nxt >= 0, f"no response to request {i + 1}: {data[body_start:]!r}"
        out.append(RawResponse(status, headers, data[body_start:nxt]))
        pos = nxt
    return out


def rfc2047_decode(value):
    """Decodes RFC 2047 encoded words with Python's own email package."""
    parts = email.header.decode_header(value)
    return "".join(p.decode(cs or "ascii") if isinstance(p, bytes) else p for p, cs in parts)


def client_error(fn, *args, **kwargs):
    """Runs a boto3 call that must fail; returns (HTTP status, S3 error code)."""
    import botocore
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"].get("Code")
    raise AssertionError(f"{getattr(fn, '__name__', fn)} succeeded but should have failed")


def local_body(local, key, container="bucket1"):
    """The bytes of `key` of `container` as the local store holds them (its 1space name), or None."""
    try:
        return local.get_object(Bucket=LOCAL_BUCKET, Key=layout_name(key, container))["Body"].read()
    except local.exceptions.NoSuchKey:
        return None


def local_exists(local, name):
    import botocore
    try:
        local.head_object(Bucket=LOCAL_BUCKET, Key=name)
        return True
    except botocore.exceptions.ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise


def remote_exists(remote, bucket, key):
    import botocore
    try:
        remote.head_object(Bucket=bucket, Key=key)
        return True
    except botocore.exceptions.ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return False
        raise
