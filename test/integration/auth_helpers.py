"""Helpers shared by test_auth.py and test_config.py: S3 error documents,
requests signed by hand (shifted clocks, UTF-8 keys), bounded polling, and
small loopback servers (a counting TCP listener, a recording HTTP proxy,
an ECS-style credential endpoint)."""
import contextlib
import datetime
import email.utils
import hashlib
import http.client
import http.server
import json
import os
import socket
import threading
import time
import types
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.credentials
import requests
from botocore.awsrequest import AWSRequest


# ---------------------------------------------------------------- S3 errors

def check_error(resp, status, code):
    """A requests.Response is an S3 error document: status, Code, a non-empty
    Message, and a RequestId equal to the x-amz-request-id header."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    root = ET.fromstring(resp.content)
    assert root.tag == "Error", resp.text
    assert root.findtext("Code") == code, resp.text
    assert (root.findtext("Message") or "").strip(), resp.text
    rid = resp.headers.get("x-amz-request-id")
    assert rid, resp.headers
    assert root.findtext("RequestId") == rid, (rid, resp.text)
    return root


def client_error_code(exc):
    return exc.response["Error"]["Code"]


# ---------------------------------------------------------------- signing

class _ShiftedDatetime(datetime.datetime):
    shift = 0

    @classmethod
    def utcnow(cls):
        return datetime.datetime.utcnow() + datetime.timedelta(seconds=cls.shift)


@contextlib.contextmanager
def shifted_clock(seconds):
    """botocore's SigV4 signers read the time through botocore.auth.datetime."""
    saved = botocore.auth.datetime
    _ShiftedDatetime.shift = seconds
    botocore.auth.datetime = types.SimpleNamespace(datetime=_ShiftedDatetime, timedelta=datetime.timedelta)
    try:
        yield
    finally:
        botocore.auth.datetime = saved


class ShiftedHmacV1Auth(botocore.auth.HmacV1Auth):
    """SigV2 header signer whose Date header is `shift` seconds off."""

    def __init__(self, credentials, shift=0):
        super().__init__(credentials)
        self.shift = shift

    def _get_date(self):
        return email.utils.formatdate(time.time() + self.shift, usegmt=True)


def _encode_headers(headers):
    # http.client would send str header values as latin-1; S3 credentials are UTF-8.
    return {k: (v.encode("utf-8") if isinstance(v, str) else v) for k, v in headers.items()}


def signed(method, url, key, secret, sig="v4", shift=0, body=b"", headers=None, timeout=30):
    """Send one request signed by botocore's own signers, with a clock `shift`
    seconds off, UTF-8 credentials allowed."""
    creds = botocore.credentials.Credentials(key, secret)
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if sig == "v4":
        with shifted_clock(shift):
            botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    elif sig == "v2":
        ShiftedHmacV1Auth(creds, shift).add_auth(req)
    else:
        raise ValueError(sig)
    prepared = req.prepare()
    return requests.request(method, prepared.url, headers=_encode_headers(prepared.headers), data=body,
                            timeout=timeout)


def presign_v4(url, key, secret, expires=3600, shift=0):
    creds = botocore.credentials.Credentials(key, secret)
    req = AWSRequest(method="GET", url=url, headers={})
    with shifted_clock(shift):
        botocore.auth.S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=expires).add_auth(req)
    return req.prepare().url


def presign_v2(url, key, secret, expires=3600):
    creds = botocore.credentials.Credentials(key, secret)
    req = AWSRequest(method="GET", url=url, headers={})
    botocore.auth.HmacV1QueryAuth(creds, expires=expires).add_auth(req)
    return req.prepare().url


# ---------------------------------------------------------------- waiting

def poll(check, timeout=15.0, interval=0.2, what="condition"):
    """Call check() until it returns a truthy value; bounded."""
    deadline = time.time() + timeout
    last = None
    while True:
        try:
            last = check()
            if last:
                return last
        except AssertionError as e:   # check() may assert; keep the last reason
            last = e
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last: {last!r}")
        time.sleep(interval)


def clean_env(**extra):
    """The process environment without AWS_*/CONF_* variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("AWS_") or k.startswith("CONF_"))}
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


# ---------------------------------------------------------------- loopback servers

class CountingListener:
    """A TCP port that accepts connections, counts them and closes them."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


class RecordingProxy:
    """HTTP proxy in front of `upstream` (host, port): forwards every request
    unchanged (Host header included, so signatures still verify) and records
    (method, path, headers)."""

    def __init__(self, upstream_port):
        proxy = self
        self.requests = []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    proxy.requests.append((self.command, self.path, dict(self.headers.items())))
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    conn.putheader(k, v)
                conn.endheaders(body)
                up = conn.getresponse()
                data = up.read()
                self.send_response(up.status, up.reason)
                for k, v in up.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _forward

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def seen(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class CredentialEndpoint:
    """An ECS-style task-role credential endpoint: every GET answers fresh
    keys with a new Token and an Expiration `lifetime` seconds ahead."""

    def __init__(self, key, secret, lifetime=240, token_prefix="tok"):
        ep = self
        self.calls = []          # (path, Authorization header)
        self.tokens = []
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                with ep.lock:
                    n = len(ep.calls)
                    ep.calls.append((self.path, self.headers.get("Authorization")))
                    token = f"{token_prefix}-{n}"
                    ep.tokens.append(token)
                exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=lifetime)
                body = json.dumps({"AccessKeyId": key, "SecretAccessKey": secret, "Token": token,
                                   "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                   "RoleArn": "arn:aws:iam::123456789012:role/test"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path="/v2/credentials/task-role"):
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self):
        with self.lock:
            return len(self.calls)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def sha256(data):
    return hashlib.sha256(data).hexdigest()
