"""Failures, end to end: the real binary between real Swift clusters.

Part 1 (backend failure): a fault-injecting proxy (fault_proxy.py) sits in front of
each cluster; when a store is down, refusing, resetting, hanging or answering 5xx,
the request that needed it gets a 503 ServiceUnavailable naming the side; never a
wrong 404, never a partial listing. The server stays up, and works again as soon
as the store is back.

Part 2 (bad input): malformed requests get an S3 error document (Code, Message,
RequestId equal to the x-amz-request-id header), store nothing, and leave the
server serving.
"""
import concurrent.futures
import http.client
import re
import socket
import xml.etree.ElementTree as ET

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import LOCAL_BUCKET, LOCAL_PORT, LOCAL_STORE, REMOTE_PORT, REMOTE_URL, local_name, mapping_entries, read_until_closed
from fault_proxy import FaultProxy

FAULTS = ["refuse", "close", 500, 503, "hang"]


# --------------------------------------------------------------------------- helpers

def other_side(side):
    return "remote" if side == "local" else "local"


def assert_503(err_or_resp, side):
    """A ClientError (or a boto3 response dict) that must be a 503 naming `side`."""
    resp = err_or_resp.response if isinstance(err_or_resp, botocore.exceptions.ClientError) else err_or_resp
    status = resp["ResponseMetadata"]["HTTPStatusCode"]
    assert status == 503, f"expected 503, got {status}: {resp.get('Error')}"
    err = resp.get("Error", {})
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    if err.get("Code") != "503":   # GET/list/PUT/DELETE carry the error document
        assert err["Code"] == "ServiceUnavailable"
        assert re.search(rf"\b{side}\b", err["Message"]), err["Message"]
        assert not re.search(rf"\b{other_side(side)}\b", err["Message"]), err["Message"]
        # Where the store is (address, account, directory) is for the log, not for clients.
        assert not re.search(r"127\.0\.0\.1|://|AUTH_|/tmp/", err["Message"]), err["Message"]
    else:                     # HEAD: no body, the code travels in a header
        assert headers.get("x-amz-error-code") == "ServiceUnavailable", headers


def assert_logged_with_address(connector, resp):
    """The connector's log tells the operator where the store that failed is, under the
    request id the client got."""
    rid = resp["ResponseMetadata"]["RequestId"]
    lines = [l for l in connector.log_text().splitlines() if f"request {rid}: ServiceUnavailable" in l]
    assert lines and "http://127.0.0.1:" in lines[0], (rid, lines)


def outcome(call):
    """Runs a boto3 call; returns its response dict whether it succeeded or failed."""
    try:
        return call()
    except botocore.exceptions.ClientError as e:
        return e.response


def one_shot_client(url, access_key="test:tester", secret_key="testing"):
    # Exactly one attempt: botocore would otherwise resend a request that got a 503.
    return boto3.client("s3", endpoint_url=url, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                        region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1},
                                      max_pool_connections=20))


class Faulty:
    """A private connector whose local and remote stores sit behind fault proxies."""

    def __init__(self, connector, proxies):
        self.connector, self.proxies, self.clients = connector, proxies, []

    def client(self, access_key="test:tester", secret_key="testing"):
        c = one_shot_client(self.connector.url, access_key, secret_key)
        self.clients.append(c)
        return c

    def close(self):
        # Idle keep-alive connections would hold the connector's SIGTERM drain open.
        for c in self.clients:
            c.close()


@pytest.fixture
def faulty(make_connector):
    lp = FaultProxy("127.0.0.1", LOCAL_PORT).start()
    rp = FaultProxy("127.0.0.1", REMOTE_PORT).start()
    # A shorter stall timeout than the shared config's 5 s keeps the "hang" cases quick.
    # With --local-store=file the local store is the embedded one (no network: no local proxy).
    entries = mapping_entries() if LOCAL_STORE["kind"] == "file" else mapping_entries(lp.url)
    c = make_connector(entries=entries, extra_conf="backend_timeout = 2")
    conf = c.dir / "cloud-connector.conf"
    text = conf.read_text()
    assert f"swift_baseurl = {REMOTE_URL}" in text
    conf.write_text(text.replace(f"swift_baseurl = {REMOTE_URL}", f"swift_baseurl = {rp.url}"))
    c.start()
    f = Faulty(c, {"local": lp, "remote": rp})
    try:
        yield f
    finally:
        f.close()
        c.stop()
        lp.stop()
        rp.stop()


# --------------------------------------------------------------------------- 10. backend failure

@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_remote_down(faulty, local, remote, uid, fault):
    c, proxies = faulty.connector, faulty.proxies
    s3 = faulty.client()
    pfx = f"flt-{uid}/"
    remote.put_object(Bucket="bucket1", Key=pfx + "onprem.txt", Body=b"on-prem bytes")
    s3.put_object(Bucket="bucket1", Key=pfx + "cloud.txt", Body=b"cloud bytes")
    # Healthy first: the listing merges both.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bucket1", Prefix=pfx)["Contents"]]
    assert keys == [pfx + "cloud.txt", pfx + "onprem.txt"]

    proxies["remote"].set_mode(fault)
    calls = {
        # exists only on-prem: a 404 here would tell the client the object is gone
        "get_onprem": lambda: s3.get_object(Bucket="bucket1", Key=pfx + "onprem.txt"),
        "head_onprem": lambda: s3.head_object(Bucket="bucket1", Key=pfx + "onprem.txt"),
        # exists nowhere: the connector cannot know that while on-prem is down
        "get_missing": lambda: s3.get_object(Bucket="bucket1", Key=pfx + "nowhere.txt"),
        "list_v2": lambda: s3.list_objects_v2(Bucket="bucket1", Prefix=pfx),
        "list_v1": lambda: s3.list_objects(Bucket="bucket1", Prefix=pfx),
        # served by the local store alone: unaffected by the on-prem outage
        "get_cloud": lambda: s3.get_object(Bucket="bucket1", Key=pfx + "cloud.txt"),
        "put": lambda: s3.put_object(Bucket="bucket1", Key=pfx + "during.txt", Body=b"written during outage"),
        "delete": lambda: s3.delete_object(Bucket="bucket1", Key=pfx + "absent.txt"),
        # AUTH_test has a "/*" entry: which containers exist is the on-prem cluster's answer
        "list_buckets": lambda: s3.list_buckets(),
        "head_bucket_wild": lambda: s3.head_bucket(Bucket="wild1"),
        # AUTH_test2 has exact entries only: listed without on-prem, creation dates unknown
        "list_buckets_exact": lambda: faulty.client("test2:tester2", "testing2").list_buckets(),
    }
    # In parallel: a hanging store costs the backend timeout once, not once per call.
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        results = dict(zip(calls, pool.map(lambda f: outcome(f), calls.values())))
    for name in ("get_onprem", "head_onprem", "get_missing", "list_v2", "list_v1", "list_buckets", "head_bucket_wild"):
        assert_503(results[name], "remote")
    assert_logged_with_address(c, results["get_onprem"])
    assert [(b["Name"], b["CreationDate"].year) for b in results["list_buckets_exact"]["Buckets"]] == [("other2", 1970)]
    assert results["get_cloud"]["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert results["get_cloud"]["Body"].read() == b"cloud bytes"
    assert results["put"]["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert results["delete"]["ResponseMetadata"]["HTTPStatusCode"] == 204
    # the write during the outage really landed in the cloud bucket, and nothing on-prem
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(pfx + "during.txt"))["Body"].read() == \
        b"written during outage"
    assert "Contents" not in remote.list_objects_v2(Bucket="bucket1", Prefix=pfx + "during")

    # Still down: the server answers the next request too (it did not die or wedge).
    if fault != "hang":
        assert_503(outcome(lambda: s3.get_object(Bucket="bucket1", Key=pfx + "onprem.txt")), "remote")

    # Back: the same requests succeed, without a restart.
    proxies["remote"].set_mode("pass")
    assert s3.get_object(Bucket="bucket1", Key=pfx + "onprem.txt")["Body"].read() == b"on-prem bytes"
    assert s3.head_object(Bucket="bucket1", Key=pfx + "onprem.txt")["ContentLength"] == len(b"on-prem bytes")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="bucket1", Key=pfx + "nowhere.txt")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bucket1", Prefix=pfx)["Contents"]]
    assert keys == [pfx + "cloud.txt", pfx + "during.txt", pfx + "onprem.txt"]
    assert [o["Key"] for o in s3.list_objects(Bucket="bucket1", Prefix=pfx)["Contents"]] == keys
    assert c.proc.poll() is None


@pytest.mark.s3_local_store("the local store fails on the network, behind a fault proxy")
@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_local_down(faulty, local, remote, uid, fault):
    c, proxies = faulty.connector, faulty.proxies
    s3 = faulty.client()
    pfx = f"flt-{uid}/"
    remote.put_object(Bucket="bucket1", Key=pfx + "onprem.txt", Body=b"on-prem bytes")
    s3.put_object(Bucket="bucket1", Key=pfx + "cloud.txt", Body=b"cloud bytes")

    proxies["local"].set_mode(fault)
    calls = {
        # The cloud copy (if any) wins over on-prem: with the cloud store down the
        # connector cannot tell which copy is current, so even an on-prem-only
        # object is a 503, not a possibly stale answer and never a 404.
        "get_onprem": lambda: s3.get_object(Bucket="bucket1", Key=pfx + "onprem.txt"),
        "get_cloud": lambda: s3.get_object(Bucket="bucket1", Key=pfx + "cloud.txt"),
        "head_cloud": lambda: s3.head_object(Bucket="bucket1", Key=pfx + "cloud.txt"),
        "get_missing": lambda: s3.get_object(Bucket="bucket1", Key=pfx + "nowhere.txt"),
        "list_v2": lambda: s3.list_objects_v2(Bucket="bucket1", Prefix=pfx),
        "list_v1": lambda: s3.list_objects(Bucket="bucket1", Prefix=pfx),
        "put": lambda: s3.put_object(Bucket="bucket1", Key=pfx + "during.txt", Body=b"lost"),
        "delete": lambda: s3.delete_object(Bucket="bucket1", Key=pfx + "cloud.txt"),
        "update_meta": lambda: s3.copy_object(Bucket="bucket1", Key=pfx + "cloud.txt",
                                              CopySource={"Bucket": "bucket1", "Key": pfx + "cloud.txt"},
                                              Metadata={"x": "y"}, MetadataDirective="REPLACE"),
    }
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        results = dict(zip(calls, pool.map(lambda f: outcome(f), calls.values())))
    for name, r in results.items():
        assert_503(r, "local")
    assert_logged_with_address(c, results["get_cloud"])
    # Nothing was stored on-prem in the local store's place.
    assert "Contents" not in remote.list_objects_v2(Bucket="bucket1", Prefix=pfx + "during")

    proxies["local"].set_mode("pass")
    # The failed delete and metadata update did not happen; the failed PUT stored nothing.
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(pfx + "cloud.txt"))["Body"].read() == b"cloud bytes"
    assert s3.head_object(Bucket="bucket1", Key=pfx + "cloud.txt")["Metadata"] == {}
    assert s3.get_object(Bucket="bucket1", Key=pfx + "onprem.txt")["Body"].read() == b"on-prem bytes"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="bucket1", Prefix=pfx)["Contents"]]
    assert keys == [pfx + "cloud.txt", pfx + "onprem.txt"]
    s3.put_object(Bucket="bucket1", Key=pfx + "after.txt", Body=b"after")
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(pfx + "after.txt"))["Body"].read() == b"after"
    assert c.proc.poll() is None


@pytest.mark.parametrize("side", [pytest.param("local", marks=pytest.mark.s3_local_store("the local store answers through a fault proxy")), "remote"])
@pytest.mark.parametrize("answer", [(400, "AuthorizationHeaderMalformed"), (301, "PermanentRedirect"),
                                    (307, "TemporaryRedirect")], ids=lambda a: a[1])
def test_a_store_that_says_the_settings_are_wrong_is_an_outage(faulty, local, remote, uid, side, answer):
    """A region the store does not serve, an endpoint that redirects elsewhere: the
    connector's settings are wrong, not the client's request. A 503 naming the side
    (a client must not be told its own signature is malformed), the detail in the log."""
    s3 = faulty.client()
    key = f"flt-{uid}/settings.txt"
    if side == "local":
        local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(key), Body=b"cloud")
    else:
        remote.put_object(Bucket="bucket1", Key=key, Body=b"on-prem")
    status, code = answer
    faulty.proxies[side].set_mode(status, code=code)
    results = [outcome(lambda: s3.get_object(Bucket="bucket1", Key=key))]
    if side == "local":
        results.append(outcome(lambda: s3.put_object(Bucket="bucket1", Key=key + ".new", Body=b"x")))
    for r in results:
        assert_503(r, side)
        assert "refused" in r["Error"]["Message"], r["Error"]
        assert_logged_with_address(faulty.connector, r)
    faulty.proxies[side].set_mode("pass")
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() in (b"cloud", b"on-prem")


@pytest.mark.s3_local_store("the local store answers through a fault proxy")
def test_a_backend_error_code_reaches_the_client_only_if_it_is_one(faulty, uid):
    """A store's <Code> goes into the 503's message only when it looks like an S3 code:
    nothing else a backend writes there reaches the client."""
    s3 = faulty.client()
    faulty.proxies["local"].set_mode(500, code="InternalError 10.9.8.7:6000")
    r = outcome(lambda: s3.get_object(Bucket="bucket1", Key=f"flt-{uid}/x"))
    assert_503(r, "local")
    assert "10.9.8.7" not in r["Error"]["Message"] and r["Error"]["Message"].endswith("HTTP 500"), r["Error"]
    faulty.proxies["local"].set_mode(500, code="SlowDown")
    r = outcome(lambda: s3.get_object(Bucket="bucket1", Key=f"flt-{uid}/x"))
    assert r["Error"]["Message"].endswith("HTTP 500 SlowDown"), r["Error"]


@pytest.mark.parametrize("cut_after", [64 * 1024, 2 * 1024 * 1024], ids=["before-first-bytes", "mid-body"])
@pytest.mark.parametrize("side", [pytest.param("local", marks=pytest.mark.s3_local_store("the local store fails on the network, behind a fault proxy")), "remote"])
def test_response_cut_mid_body(faulty, local, remote, uid, side, cut_after):
    """A store that dies while the body streams: before the connector has sent anything, the
    client gets a proper 503; once the body has started, it sees a short read (the
    connection drops), never a complete-looking 200 with missing bytes."""
    c, proxies = faulty.connector, faulty.proxies
    key = f"flt-{uid}/big.bin"
    data = bytes(range(256)) * 16384             # 4 MiB
    if side == "local":
        local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(key), Body=data)
    else:
        remote.put_object(Bucket="bucket1", Key=key, Body=data)
    proxies[side].set_mode("cut", after_bytes=cut_after)
    h = sign("GET", f"{c.url}/bucket1/{key}", {})
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
    try:
        conn.request("GET", f"/bucket1/{key}", headers=h)
        r = conn.getresponse()
        if cut_after < 256 * 1024:   # less than the first piece the connector forwards (kGatherBytes)
            assert r.status == 503, r.read()
            assert b"<Code>ServiceUnavailable</Code>" in r.read()
        else:
            assert r.status == 200
            assert int(r.getheader("Content-Length")) == len(data)
            with pytest.raises((http.client.IncompleteRead, ConnectionError)):
                r.read()
    finally:
        conn.close()
    proxies[side].set_mode("pass")
    s3 = faulty.client()
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == data


@pytest.mark.s3_local_store("the local store fails on the network, behind a fault proxy")
@pytest.mark.parametrize("fault", ["refuse", "close", 503], ids=str)
def test_big_put_while_local_down(faulty, local, remote, uid, fault):
    """A 1 MiB upload the connector cannot store: the client still reads the 503
    (not a reset while it was sending), and nothing is stored anywhere."""
    key = f"flt-{uid}/big-put.bin"
    faulty.proxies["local"].set_mode(fault)
    s3 = faulty.client()
    assert_503(outcome(lambda: s3.put_object(Bucket="bucket1", Key=key, Body=b"z" * (1 << 20))), "local")
    faulty.proxies["local"].set_mode("pass")
    assert_nothing_stored(local, remote, f"flt-{uid}/")
    s3.put_object(Bucket="bucket1", Key=key, Body=b"z" * (1 << 20))
    assert local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["ContentLength"] == 1 << 20


@pytest.mark.s3_local_store("the local store answers early, behind a fault proxy")
@pytest.mark.parametrize("size", [10, 2 << 20], ids=["small", "2MiB"])
def test_a_store_that_answers_before_reading_the_body(faulty, uid, size):
    """The local store acknowledges a PUT without reading its body (Swift does so for a PUT
    that loses a same-timestamp race): the client gets a 503, not a 200 for bytes nobody
    stored, and the unread body is never taken for a request, even when it is one."""
    smuggled = b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n"
    body = smuggled + b"x" * (size - len(smuggled)) if size > len(smuggled) else smuggled
    faulty.proxies["local"].set_mode("early")
    port = faulty.connector.port
    path = f"/bucket1/flt-{uid}/early"
    h = sign("PUT", faulty.connector.url + path, {"Content-Length": str(len(body))}, body)
    head = "\r\n".join(request_lines("PUT", path, dict(h, Host=f"127.0.0.1:{port}"))).encode() + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head + body)
        s.settimeout(5)
        # A kept-alive connection after the drained body: nothing more comes, the timeout ends it.
        out = read_until_closed(s, gives_up=TimeoutError)
    statuses = read_all_responses(out)
    assert [st for st, _ in statuses] == [b"503"], out
    assert b"<Code>ServiceUnavailable</Code>" in out and b"before it had received the whole body" in out
    faulty.proxies["local"].set_mode("pass")
    assert_still_serving(faulty.connector, uid)


@pytest.mark.s3_local_store("a missing cloud bucket and wrong cloud credentials")
@pytest.mark.parametrize("broken", ["missing-bucket", "wrong-secret"])
def test_local_store_misconfigured(make_connector, remote, uid, broken):
    """The cloud store answering 404 NoSuchBucket or 403 for the connector's own
    bucket/credentials is an outage of the local side, not a missing object."""
    entries = mapping_entries()
    for e in entries:
        if broken == "missing-bucket":
            e["aws_bucket"] = f"no-such-bucket-{uid}"
        else:
            e["aws_secret"] = "not-the-secret"
    c = make_connector(entries=entries).start()
    s3 = one_shot_client(c.url)
    try:
        remote.put_object(Bucket="bucket1", Key=f"flt-{uid}/onprem.txt", Body=b"x")
        for call in (lambda: s3.get_object(Bucket="bucket1", Key=f"flt-{uid}/onprem.txt"),
                     lambda: s3.head_object(Bucket="bucket1", Key=f"flt-{uid}/onprem.txt"),
                     lambda: s3.list_objects_v2(Bucket="bucket1", Prefix=f"flt-{uid}/"),
                     lambda: s3.put_object(Bucket="bucket1", Key=f"flt-{uid}/p", Body=b"x"),
                     lambda: s3.delete_object(Bucket="bucket1", Key=f"flt-{uid}/onprem.txt")):
            assert_503(outcome(call), "local")
    finally:
        s3.close()
    assert remote.get_object(Bucket="bucket1", Key=f"flt-{uid}/onprem.txt")["Body"].read() == b"x"


def test_closed_ports(make_connector, remote, uid):
    """Nothing listening at all (no proxy): swift_baseurl and aws_endpoint at closed ports."""
    from conftest import free_port
    dead_local = f"http://127.0.0.1:{free_port()}"
    c = make_connector(entries=mapping_entries(dead_local))
    conf = c.dir / "cloud-connector.conf"
    conf.write_text(conf.read_text().replace(f"swift_baseurl = {REMOTE_URL}",
                                             f"swift_baseurl = http://127.0.0.1:{free_port()}"))
    c.start()
    s3 = one_shot_client(c.url)
    try:
        remote.put_object(Bucket="bucket1", Key=f"flt-{uid}/onprem.txt", Body=b"x")
        assert_503(outcome(lambda: s3.get_object(Bucket="bucket1", Key=f"flt-{uid}/onprem.txt")), "local")
        assert_503(outcome(lambda: s3.head_object(Bucket="bucket1", Key=f"flt-{uid}/onprem.txt")), "local")
        assert_503(outcome(lambda: s3.list_objects_v2(Bucket="bucket1", Prefix=f"flt-{uid}/")), "local")
        assert_503(outcome(lambda: s3.put_object(Bucket="bucket1", Key=f"flt-{uid}/p", Body=b"x")), "local")
        # bucket-level answers that need no backend still work: the server is up
        assert s3.head_bucket(Bucket="bucket1")["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        s3.close()


def test_proxy_serves_concurrent_connections_and_stops():
    """The proxy itself: parallel pass-through connections, then a clean stop."""
    p = FaultProxy("127.0.0.1", LOCAL_PORT).start()
    try:
        conns = [http.client.HTTPConnection("127.0.0.1", p.port, timeout=10) for _ in range(5)]
        for h in conns:            # all five open at once
            h.request("GET", "/info")
        for h in conns:
            r = h.getresponse()
            assert r.status == 200 and b"swift" in r.read()
            h.close()
    finally:
        p.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", p.port), timeout=2).close()


# --------------------------------------------------------------------------- 11. bad input

CREDS = Credentials("test:tester", "testing")


def sign(method, url, headers=None, body=b"", payload="UNSIGNED-PAYLOAD"):
    """Headers of a correctly SigV4-signed request (so only the intended fault is wrong)."""
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    req.headers["X-Amz-Content-SHA256"] = payload
    SigV4Auth(CREDS, "s3", "us-east-1").add_auth(req)
    return dict(req.headers.items())


def raw_exchange(port, head_lines, body=b"", close="half", read=True):
    """Sends a request byte for byte over a raw socket; returns (status, headers, body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:
        s.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode("utf-8", "surrogateescape") + body)
        if close == "half":
            s.shutdown(socket.SHUT_WR)
        elif close == "full":
            s.close()
            return None
        if not read:
            return None
        r = http.client.HTTPResponse(s, method=head_lines[0].split(" ", 1)[0])
        r.begin()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        s.close()


def request_lines(method, path, headers):
    return [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]


def http_send(conn_port, method, path, headers, body=b""):
    h = http.client.HTTPConnection("127.0.0.1", conn_port, timeout=15)
    try:
        h.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            h.putheader(k, v)
        h.endheaders(body if body else None)
        r = h.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        h.close()


def assert_error(result, status, code):
    got_status, headers, body = result
    assert got_status == status, (got_status, body)
    root = ET.fromstring(body)
    assert root.tag == "Error", body
    assert root.findtext("Code") == code, body
    assert (root.findtext("Message") or "").strip(), body
    rid = root.findtext("RequestId")
    assert rid and rid == headers.get("x-amz-request-id"), (rid, headers)
    return root


def assert_nothing_stored(local, remote, prefix):
    got = local.list_objects_v2(Bucket=LOCAL_BUCKET, Prefix=local_name(prefix))
    assert got["KeyCount"] == 0, [o["Key"] for o in got.get("Contents", [])]
    assert remote.list_objects_v2(Bucket="bucket1", Prefix=prefix)["KeyCount"] == 0


def assert_still_serving(connector, uid):
    s3 = connector.client()
    key = f"bad-{uid}-alive/probe"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"alive")
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"alive"
    s3.delete_object(Bucket="bucket1", Key=key)
    assert connector.proc.poll() is None


@pytest.mark.parametrize("authz", [
    "AWS4-HMAC-SHA256 garbage!!",
    "AWS4-HMAC-SHA256 Credential=test:tester/{day}/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-content-sha256;x-amz-date",                  # no Signature
    "AWS4-HMAC-SHA256 Credential=test:tester/{day}/us-east-1/s3, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,                  # scope cut short
], ids=["garbage", "no-signature", "short-scope"])
def test_malformed_authorization(connector, local, remote, uid, authz):
    key = f"bad-{uid}/auth"
    path = f"/bucket1/{key}"
    body = b"must not be stored"
    h = sign("PUT", connector.url + path, {"Content-Length": str(len(body))}, body)
    h["Authorization"] = authz.format(day=h["X-Amz-Date"][:8])
    r = http_send(connector.port, "PUT", path, dict(h, Host=f"127.0.0.1:{connector.port}"), body)
    assert_error(r, 400, "AuthorizationHeaderMalformed")
    assert_nothing_stored(local, remote, f"bad-{uid}/")
    assert_still_serving(connector, uid)


@pytest.mark.parametrize("method,path_tpl,code", [
    ("PUT", "/bucket1/bad-{uid}/a%zzb", "InvalidURI"),            # bad escape in the path
    ("PUT", "/bucket1/bad-{uid}/a%4", "InvalidURI"),              # truncated escape
    ("PUT", "/bucket1/bad-{uid}/q?x-id=%zz", "InvalidURI"),       # bad escape in the query
    ("GET", "/bucket1?prefix=bad-{uid}%G1", "InvalidURI"),        # in a listing's query
    ("PUT", "/bucket1/bad-{uid}/%C3%28", "InvalidURI"),           # decodes to invalid UTF-8
])
def test_invalid_percent_encoding(connector, local, remote, uid, method, path_tpl, code):
    path = path_tpl.format(uid=uid)
    body = b"x" * 10 if method == "PUT" else b""
    headers = sign(method, f"{connector.url}/bucket1/placeholder", {"Content-Length": str(len(body))}, body)
    r = raw_exchange(connector.port, request_lines(method, path, dict(headers, Host=f"127.0.0.1:{connector.port}")),
                     body)
    root = assert_error(r, 400, code)
    assert root.findtext("Resource")   # names what was asked for
    assert_nothing_stored(local, remote, f"bad-{uid}/")
    assert_still_serving(connector, uid)


def test_key_too_long(connector, local, remote, uid):
    key = f"bad-{uid}/".ljust(1025, "k")      # one byte over S3's limit
    path = f"/bucket1/{key}"
    body = b"too long"
    h = sign("PUT", connector.url + path, {"Content-Length": str(len(body))}, body)
    r = http_send(connector.port, "PUT", path, dict(h, Host=f"127.0.0.1:{connector.port}"), body)
    assert_error(r, 400, "KeyTooLongError")
    assert_nothing_stored(local, remote, f"bad-{uid}/")
    # The same for a GET (nothing to store, but the key is refused all the same).
    h = sign("GET", connector.url + path, {})
    assert_error(http_send(connector.port, "GET", path, dict(h, Host=f"127.0.0.1:{connector.port}")),
                 400, "KeyTooLongError")
    assert_still_serving(connector, uid)


@pytest.mark.parametrize("shape", ["long-value", "many-fields", "long-name"])
def test_oversized_headers(connector, local, remote, uid, shape):
    key = f"bad-{uid}/big-headers"
    path = f"/bucket1/{key}"
    body = b"0123456789"
    extra = {}
    if shape == "long-value":
        extra["x-amz-meta-big"] = "v" * (8 * 1024 + 100)
    elif shape == "many-fields":
        extra.update({f"x-amz-meta-f{i}": str(i) for i in range(120)})
    else:
        extra["x-amz-meta-" + "n" * 300] = "v"
    h = sign("PUT", connector.url + path, dict(extra, **{"Content-Length": str(len(body))}), body)
    r = raw_exchange(connector.port, request_lines("PUT", path, dict(h, Host=f"127.0.0.1:{connector.port}")), body)
    root = assert_error(r, 400, "RequestHeaderSectionTooLarge")
    assert_nothing_stored(local, remote, f"bad-{uid}/")
    assert_still_serving(connector, uid)


@pytest.mark.parametrize("close", ["half", "full"])
def test_body_shorter_than_content_length(connector, local, remote, uid, close):
    key = f"bad-{uid}/short"
    path = f"/bucket1/{key}"
    h = sign("PUT", connector.url + path, {"Content-Length": "1000"}, b"")
    lines = request_lines("PUT", path, dict(h, Host=f"127.0.0.1:{connector.port}"))
    r = raw_exchange(connector.port, lines, b"0123456789", close=close)
    if close == "half":      # the client can still read the answer
        assert_error(r, 400, "IncompleteBody")
    assert_nothing_stored(local, remote, f"bad-{uid}/")
    assert_still_serving(connector, uid)


@pytest.mark.parametrize("method,query,on_key", [
    ("PUT", "tagging", True), ("GET", "acl", True), ("PUT", "acl", True),
    ("GET", "retention", True), ("PUT", "legal-hold", True), ("GET", "torrent", True), ("POST", "restore", True),
    ("GET", "versions", False), ("PUT", "versioning", False),
    ("GET", "lifecycle", False), ("GET", "versionId=abc", True),
])
def test_unsupported_operations(connector, local, remote, uid, method, query, on_key):
    key = f"bad-{uid}/op"
    # an object that exists, so a GET that ignored the sub-resource would answer 200 with its bytes
    connector.client().put_object(Bucket="bucket1", Key=key, Body=b"existing object")
    path = (f"/bucket1/{key}" if on_key else "/bucket1") + "?" + query
    body = b"<Tagging><TagSet/></Tagging>" if method in ("PUT", "POST") else b""
    h = sign(method, connector.url + path, {"Content-Length": str(len(body))}, body)
    r = http_send(connector.port, method, path, dict(h, Host=f"127.0.0.1:{connector.port}"), body)
    root = assert_error(r, 501, "NotImplemented")
    assert "not implemented" in root.findtext("Message").lower()
    # a PUT that ignored the sub-resource would have replaced the object with the XML
    stored = local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))
    assert stored["Body"].read() == b"existing object"
    got = local.list_objects_v2(Bucket=LOCAL_BUCKET, Prefix=local_name(f"bad-{uid}/"))
    assert [o["Key"] for o in got["Contents"]] == [local_name(key)]
    connector.client().delete_object(Bucket="bucket1", Key=key)


def test_put_without_content_length(connector, local, remote, uid):
    key = f"bad-{uid}/nolen"
    path = f"/bucket1/{key}"
    h = sign("PUT", connector.url + path, {}, b"")
    h.pop("Content-Length", None)
    lines = request_lines("PUT", path, dict(h, Host=f"127.0.0.1:{connector.port}"))
    r = raw_exchange(connector.port, lines, b"", close="half")
    assert_error(r, 411, "MissingContentLength")
    assert_nothing_stored(local, remote, f"bad-{uid}/")
    assert_still_serving(connector, uid)


def test_put_chunked_without_content_length(connector, local, remote, uid):
    """Transfer-Encoding: chunked and no Content-Length: refused, nothing stored."""
    key = f"bad-{uid}/chunked"
    path = f"/bucket1/{key}"
    h = sign("PUT", connector.url + path, {"Transfer-Encoding": "chunked"}, b"")
    h.pop("Content-Length", None)
    lines = request_lines("PUT", path, dict(h, Host=f"127.0.0.1:{connector.port}"))
    r = raw_exchange(connector.port, lines, b"5\r\nhello\r\n0\r\n\r\n", close="half")
    assert_error(r, 411, "MissingContentLength")
    assert_nothing_stored(local, remote, f"bad-{uid}/")
    assert_still_serving(connector, uid)


# ------------------------------------------------------------------ framing (request smuggling)

def read_all_responses(sock_data):
    """Status lines of every response in a byte stream."""
    return re.findall(rb"HTTP/1\.[01] (\d{3}) ([^\r\n]*)\r\n", sock_data)


def exchange_until_closed(port, data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        return read_until_closed(s)
    finally:
        s.close()


def test_an_unread_body_is_never_taken_for_a_request(connector, uid):
    """A GET (or a probe) with a body: the body is drained, not parsed as a second request."""
    inner = b"GET /healthcheck HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    for path in ("/healthcheck", f"/bucket1/bad-{uid}/nothing"):
        h = sign("GET", connector.url + path, {"Content-Length": str(len(inner))}, inner)
        head = "\r\n".join(request_lines("GET", path, dict(h, Host=f"127.0.0.1:{connector.port}"))).encode()
        out = exchange_until_closed(connector.port, head + b"\r\n\r\n" + inner)
        assert len(read_all_responses(out)) == 1, out


def test_an_upload_body_sent_too_slowly_is_cut_off(make_connector, local, remote, uid):
    """A signed PUT whose body trickles in below request_body_min_rate (once its first-bytes
    allowance is spent) would hold a request thread for as long as the client likes: it ends
    with 400 RequestTimeout, the connection closes, and nothing is stored."""
    from conftest import Trickler
    c = make_connector(extra_conf="request_body_timeout = 2\nrequest_body_min_rate = 1000")
    c.start()
    key = f"slow-{uid}/body"
    path = f"/bucket1/{key}"
    h = sign("PUT", c.url + path, {"Content-Length": "1000000"}, b"")
    head = "\r\n".join(request_lines("PUT", path, dict(h, Host=f"127.0.0.1:{c.port}"))).encode() + b"\r\n\r\n"
    s = socket.create_connection(("127.0.0.1", c.port), timeout=60)
    s.sendall(head + b"x" * 500)   # 500 bytes: the allowance grows to 2.5 s
    trickling = Trickler(s, piece=b"x" * 8, every=0.5)
    try:
        out = read_until_closed(s, gives_up=(ConnectionResetError,))
    finally:
        trickling.stop()
        s.close()
    assert read_all_responses(out) == [(b"400", b"Bad Request")], out
    assert b"<Code>RequestTimeout</Code>" in out and b"request_body_min_rate" in out, out
    assert_nothing_stored(local, remote, f"slow-{uid}/")
    # A body at a normal pace is untouched by it.
    c.client().put_object(Bucket="bucket1", Key=key, Body=b"y" * 3_000_000)
    assert c.client().head_object(Bucket="bucket1", Key=key)["ContentLength"] == 3_000_000


@pytest.mark.parametrize("framing", ["two-lengths", "length-and-chunked", "negative-length", "gzip",
                                     "gzip-then-chunked", "chunked-twice", "identity"])
def test_ambiguous_framing_is_refused_and_the_connection_closed(connector, local, remote, uid, framing):
    key = f"bad-{uid}/smuggle"
    path = f"/bucket1/{key}"
    smuggled = b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n"
    h = sign("PUT", connector.url + path, {}, b"")
    lines = request_lines("PUT", path, dict(h, Host=f"127.0.0.1:{connector.port}"))
    if framing == "two-lengths":
        lines += ["Content-Length: 5", f"Content-Length: {5 + len(smuggled)}"]
        body = b"hello" + smuggled
    elif framing == "negative-length":
        lines += ["Content-Length: -5"]
        body = smuggled
    elif framing == "length-and-chunked":
        lines += ["Transfer-Encoding: chunked", "Content-Length: 3"]
        body = b"5\r\nhello\r\n0\r\n\r\n" + smuggled
    elif framing == "gzip-then-chunked":   # chunked last: a proxy in front reads a body
        lines += ["Transfer-Encoding: gzip, chunked"]
        body = b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n"
    elif framing == "chunked-twice":
        lines += ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"]
        body = b"5\r\nhello\r\n0\r\n\r\n" + smuggled
    else:                                  # a coding Poco takes for "no body"
        lines += [f"Transfer-Encoding: {framing}"]
        body = smuggled
    out = exchange_until_closed(connector.port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    statuses = read_all_responses(out)
    assert statuses == [(b"400", b"Bad Request")], out
    assert b"<Code>BadRequest</Code>" in out and b"ambiguous" in out
    assert_nothing_stored(local, remote, f"bad-{uid}/")
    assert_still_serving(connector, uid)


@pytest.mark.parametrize("length", ["5abc", "0x5", "99999999999999999999999", "+5", " 5 x"])
def test_unparseable_content_length_is_a_400(connector, uid, length):
    path = f"/bucket1/bad-{uid}/cl"
    h = sign("PUT", connector.url + path, {}, b"")
    lines = request_lines("PUT", path, dict(h, Host=f"127.0.0.1:{connector.port}")) + [f"Content-Length: {length}"]
    out = exchange_until_closed(connector.port, ("\r\n".join(lines) + "\r\n\r\n").encode() + b"hello")
    assert read_all_responses(out) == [(b"400", b"Bad Request")], out
    assert b"<Code>BadRequest</Code>" in out
    assert_still_serving(connector, uid)


def test_missing_host_and_unknown_versions(connector, uid):
    out = exchange_until_closed(connector.port, f"GET /bucket1/bad-{uid} HTTP/1.1\r\n\r\n".encode())
    assert read_all_responses(out)[0] == (b"400", b"Bad Request") and b"no Host header" in out, out
    for version in (b"HTTP/1.7", b"HTTP/2.0"):   # answered in a version we speak
        out = exchange_until_closed(connector.port, b"GET /bucket1/bad-%s %s\r\nHost: x\r\n\r\n" % (uid.encode(), version))
        assert out.startswith(b"HTTP/1.1 505 ") and b"HttpVersionNotSupported" in out, out
    # Without a Host header too (a rule of HTTP/1.1, not of HTTP/3).
    out = exchange_until_closed(connector.port, b"GET / HTTP/3\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 505 ") and b"HttpVersionNotSupported" in out, out
    # A request line that is not one is a bad request, not an oversized header section.
    out = exchange_until_closed(connector.port, b"GARBAGE\r\n\r\n")
    assert read_all_responses(out)[0] == (b"400", b"Bad Request") and b"<Code>BadRequest</Code>" in out, out
    # Status lines carry the reason phrase of their status.
    out = exchange_until_closed(connector.port, f"GET /bucket1/bad-{uid} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert read_all_responses(out)[0] == (b"403", b"Forbidden"), out


def test_empty_lines_before_a_request_line_are_ignored(connector, local, remote, uid):
    """RFC 9112 section 2.2: a server SHOULD ignore empty lines before a request line (some
    clients end a body with an extra CRLF). A signed PUT whose body is followed by a CRLF,
    then a signed GET on the same connection: both served, the CRLF stored nowhere."""
    key = f"bad-{uid}/crlf-after-body"
    path = f"/bucket1/{key}"
    body = b"exact bytes"
    put = sign("PUT", connector.url + path, {"Content-Length": str(len(body))}, body)
    get = sign("GET", connector.url + path, {})
    host = {"Host": f"127.0.0.1:{connector.port}"}
    wire = ("\r\n".join(request_lines("PUT", path, dict(put, **host))) + "\r\n\r\n").encode() + body + b"\r\n"
    wire += ("\r\n".join(request_lines("GET", path, dict(get, **host, Connection="close"))) + "\r\n\r\n").encode()
    out = exchange_until_closed(connector.port, b"\r\n" + wire)
    assert read_all_responses(out) == [(b"200", b"OK"), (b"200", b"OK")], out
    assert out.endswith(b"\r\n\r\n" + body), out
    assert local.get_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Body"].read() == body
    assert_still_serving(connector, uid)


def test_a_truncated_request_head_is_not_dispatched(connector, uid):
    """A client that stops sending before the blank line ending its head: 400, nothing run."""
    out = exchange_until_closed(connector.port, b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n")
    assert read_all_responses(out) == [(b"400", b"Bad Request")], out
    assert b"ended before the blank line" in out
    # Cut in the middle of a field name: the same, not an oversized header section.
    out = exchange_until_closed(connector.port, b"GET /healthcheck HTTP/1.1\r\nHo")
    assert read_all_responses(out) == [(b"400", b"Bad Request")], out
    assert b"<Code>BadRequest</Code>" in out and b"ended before the blank line" in out, out
    # The complete head is served as usual.
    out = exchange_until_closed(connector.port, b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_all_responses(out)[0] == (b"200", b"OK"), out
