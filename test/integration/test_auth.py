"""Authentication and bucket resolution, end to end: real clients (boto3,
requests with botocore's own signers) against the real binary and the two
real Swift clusters. Results are checked on the backends directly."""
import base64
import xml.etree.ElementTree as ET

import botocore
import pytest
import requests

from auth_helpers import CountingListener, check_error, client_error_code, presign_v2, presign_v4, signed
from conftest import LOCAL_BUCKET, local_name, mapping_entries, s3_client

UKEY, USECRET = "tëst:ünïcode", "sécret✓"   # only in the connector's user db (conftest.USERS)


def local_body(local, name):
    return local.get_object(Bucket=LOCAL_BUCKET, Key=name)["Body"].read()


def local_absent(local, name):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        local.head_object(Bucket=LOCAL_BUCKET, Key=name)
    assert client_error_code(e.value) in ("404", "NoSuchKey")


def remote_absent(remote, bucket, key):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        remote.head_object(Bucket=bucket, Key=key)
    assert client_error_code(e.value) in ("404", "NoSuchKey")


# ------------------------------------------------------------------ accepted signatures

def test_sigv4_header_put_get_and_remote_fallback(s3, local, remote, uid):
    key = f"auth-{uid}/v4.txt"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"v4 header")
    assert local_body(local, local_name(key)) == b"v4 header"
    assert s3.get_object(Bucket="bucket1", Key=key)["Body"].read() == b"v4 header"
    # The on-prem side is reached with the client's own credentials.
    remote.put_object(Bucket="bucket1", Key=f"auth-{uid}/onprem.txt", Body=b"on-prem v4")
    assert s3.get_object(Bucket="bucket1", Key=f"auth-{uid}/onprem.txt")["Body"].read() == b"on-prem v4"


def test_sigv4_presigned_urls(s3, connector, local, uid):
    key = f"auth-{uid}/presigned v4+x.txt"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bucket1", "Key": key}, ExpiresIn=300)
    r = requests.put(put_url, data=b"presigned put")
    assert r.status_code == 200, r.text
    assert local_body(local, local_name(key)) == b"presigned put"
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": key}, ExpiresIn=300)
    r = requests.get(get_url)
    assert r.status_code == 200, r.text
    assert r.content == b"presigned put"
    # The signature covers the key: the same query on another key does not verify.
    other = get_url.replace("presigned%20v4%2Bx.txt", "presigned%20v4%2By.txt")
    assert other != get_url
    check_error(requests.get(other), 403, "SignatureDoesNotMatch")
    # The expiry must be a number of seconds from 0 to a week; each refusal says which rule.
    for expires, message in ((-10, "X-Amz-Expires must be non-negative"), ("soon", "X-Amz-Expires should be a number"),
                             (604801, "X-Amz-Expires must be less than a week")):
        bad = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": key}, ExpiresIn=300)
        bad = bad.replace("X-Amz-Expires=300", f"X-Amz-Expires={expires}")
        root = check_error(requests.get(bad), 400, "AuthorizationQueryParametersError")
        assert root.findtext("Message").startswith(message), root.findtext("Message")


def test_sigv2_header(connector, local, remote, uid):
    s3v2 = connector.client(sig="s3")
    key = f"auth-{uid}/v2 header.txt"
    s3v2.put_object(Bucket="bucket1", Key=key, Body=b"v2 header", Metadata={"m": "1"})
    assert local_body(local, local_name(key)) == b"v2 header"
    got = s3v2.get_object(Bucket="bucket1", Key=key)
    assert got["Body"].read() == b"v2 header" and got["Metadata"] == {"m": "1"}
    remote.put_object(Bucket="bucket1", Key=f"auth-{uid}/onprem-v2.txt", Body=b"on-prem v2")
    assert s3v2.get_object(Bucket="bucket1", Key=f"auth-{uid}/onprem-v2.txt")["Body"].read() == b"on-prem v2"
    # A SigV2 listing, signed by hand: botocore 1.29 signs path-style bucket requests as
    # "/bucket/" but sends "/bucket" (boto/boto3#4433; AWS and Swift refuse those too).
    r = signed("GET", f"{connector.url}/bucket1?prefix=auth-{uid}/", "test:tester", "testing", sig="v2")
    assert r.status_code == 200, r.text
    ns = "{http://s3.amazonaws.com/doc/2006-03-01/}"
    keys = [e.text for e in ET.fromstring(r.content).iter(ns + "Key")]
    assert keys == [f"auth-{uid}/onprem-v2.txt", key]


def test_sigv2_presigned_url(connector, local, uid):
    s3v2 = connector.client(sig="s3")
    key = f"auth-{uid}/v2 query.txt"
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(key), Body=b"v2 query")
    url = s3v2.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": key}, ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and "Signature=" in url
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert r.content == b"v2 query"


# ------------------------------------------------------------------ UTF-8 credentials

def test_utf8_credentials_sigv4_presigned(connector, local, uid):
    c = connector.client(key=UKEY, secret=USECRET)
    key = f"auth-{uid}/utf8-presigned.txt"
    put_url = c.generate_presigned_url("put_object", Params={"Bucket": "bucket1", "Key": key}, ExpiresIn=300)
    r = requests.put(put_url, data=b"utf-8 presigned")
    assert r.status_code == 200, r.text
    assert local_body(local, local_name(key)) == b"utf-8 presigned"
    r = requests.get(c.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": key}))
    assert r.status_code == 200, r.text
    assert r.content == b"utf-8 presigned"


@pytest.mark.parametrize("sig", ["v4", "v2"])
def test_utf8_credentials_signed_headers(connector, local, uid, sig):
    key = f"auth-{uid}/utf8-{sig}.txt"
    url = f"{connector.url}/bucket1/{key}"
    r = signed("PUT", url, UKEY, USECRET, sig=sig, body=b"utf-8 " + sig.encode())
    assert r.status_code == 200, r.text
    assert local_body(local, local_name(key)) == b"utf-8 " + sig.encode()
    r = signed("GET", url, UKEY, USECRET, sig=sig)
    assert r.status_code == 200, r.text
    assert r.content == b"utf-8 " + sig.encode()
    # The UTF-8 secret is really checked: a near miss is refused.
    check_error(signed("GET", url, UKEY, "sécret✗", sig=sig), 403, "SignatureDoesNotMatch")


def test_utf8_credentials_sigv2_presigned(connector, local, uid):
    key = f"auth-{uid}/utf8-v2q.txt"
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(key), Body=b"utf-8 v2 query")
    r = requests.get(presign_v2(f"{connector.url}/bucket1/{key}", UKEY, USECRET))
    assert r.status_code == 200, r.text
    assert r.content == b"utf-8 v2 query"


# ------------------------------------------------------------------ refused requests

SIGNERS = ["v4-header", "v2-header", "v4-query", "v2-query"]


def send_signed(kind, url, key, secret):
    if kind == "v4-header":
        return signed("GET", url, key, secret, sig="v4")
    if kind == "v2-header":
        return signed("GET", url, key, secret, sig="v2")
    if kind == "v4-query":
        return requests.get(presign_v4(url, key, secret))
    return requests.get(presign_v2(url, key, secret))


@pytest.fixture
def local_object(connector, local, uid):
    key = f"auth-{uid}/exists.txt"
    local.put_object(Bucket=LOCAL_BUCKET, Key=local_name(key), Body=b"secret data")
    return f"{connector.url}/bucket1/{key}"


@pytest.mark.parametrize("kind", SIGNERS)
def test_correct_signature_control(local_object, kind):
    # The same signing path as the refusals below, with the right secret: accepted.
    r = send_signed(kind, local_object, "test:tester", "testing")
    assert r.status_code == 200, r.text
    assert r.content == b"secret data"


@pytest.mark.parametrize("kind", SIGNERS)
def test_wrong_secret_is_signature_mismatch(local_object, kind):
    r = send_signed(kind, local_object, "test:tester", "not-testing")
    check_error(r, 403, "SignatureDoesNotMatch")
    assert b"secret data" not in r.content


@pytest.mark.parametrize("kind", SIGNERS)
def test_unknown_access_key(local_object, kind, uid):
    r = send_signed(kind, local_object, f"nobody-{uid}", "testing")
    check_error(r, 403, "InvalidAccessKeyId")


def test_anonymous_requests_denied(connector, local_object, local, uid):
    check_error(requests.get(local_object), 403, "AccessDenied")
    check_error(requests.get(f"{connector.url}/bucket1?prefix=auth-{uid}/"), 403, "AccessDenied")
    key = f"auth-{uid}/anon-put.txt"
    check_error(requests.put(f"{connector.url}/bucket1/{key}", data=b"anon"), 403, "AccessDenied")
    local_absent(local, local_name(key))


@pytest.mark.parametrize("shift", [-20 * 60, 16 * 60 + 30])
@pytest.mark.parametrize("how", ["v4 x-amz-date", "v4 Date", "v2 Date"])
def test_request_time_too_skewed(connector, local, uid, shift, how):
    key = f"auth-{uid}/skew.txt"
    url = f"{connector.url}/bucket1/{key}"
    sig = "v2" if how.startswith("v2") else "v4"
    headers = {"Date": "placeholder"} if how == "v4 Date" else {}   # botocore then signs Date instead
    r = signed("PUT", url, "test:tester", "testing", sig=sig, shift=shift, body=b"late", headers=headers)
    check_error(r, 403, "RequestTimeTooSkewed")
    local_absent(local, local_name(key))
    # Control: the same request a few minutes off is inside the 15-minute window.
    small = 4 * 60 if shift > 0 else -4 * 60
    r = signed("PUT", url, "test:tester", "testing", sig=sig, shift=small, body=b"on time", headers=headers)
    assert r.status_code == 200, r.text
    assert local_body(local, local_name(key)) == b"on time"


def test_expired_presigned_urls(connector, local_object):
    # Signed two hours ago, valid for one hour.
    r = requests.get(presign_v4(local_object, "test:tester", "testing", expires=3600, shift=-7200))
    root = check_error(r, 403, "AccessDenied")
    assert "Request has expired" in root.findtext("Message")
    # SigV2: Expires in the past.
    r = requests.get(presign_v2(local_object, "test:tester", "testing", expires=-60))
    root = check_error(r, 403, "AccessDenied")
    assert "Request has expired" in root.findtext("Message")
    # Control: signed two hours ago, valid for three.
    r = requests.get(presign_v4(local_object, "test:tester", "testing", expires=3 * 3600, shift=-7200))
    assert r.status_code == 200 and r.content == b"secret data", r.text


def test_presigned_expiry_longer_than_a_week_refused(local_object):
    r = requests.get(presign_v4(local_object, "test:tester", "testing", expires=604801))
    check_error(r, 400, "AuthorizationQueryParametersError")
    r = requests.get(presign_v4(local_object, "test:tester", "testing", expires=604800))
    assert r.status_code == 200 and r.content == b"secret data", r.text


# ------------------------------------------------------------------ resolution

def test_wildcard_entry_uses_the_requested_container(s3, local, remote, uid):
    key = f"auth-{uid}/wild.txt"
    s3.put_object(Bucket="wild1", Key=key, Body=b"via /*")
    assert local_body(local, local_name(key, "wild1")) == b"via /*"
    local_absent(local, local_name(key, "bucket1"))
    remote_absent(remote, "wild1", key)


def test_exact_entry_wins_over_wildcard(make_connector, local, remote, uid):
    base = dict(mapping_entries()[0])
    entries = [
        dict(base, container="/*", custom_prefix=f"wild-{uid}"),     # listed first on purpose
        dict(base, container="bucket1", custom_prefix=f"exact-{uid}"),
    ]
    c = make_connector(entries=entries).start()
    s3 = c.client()
    s3.put_object(Bucket="bucket1", Key="k.txt", Body=b"exact")
    s3.put_object(Bucket="wild1", Key="k2.txt", Body=b"wild")
    assert local_body(local, f"exact-{uid}/k.txt") == b"exact"
    local_absent(local, f"wild-{uid}/k.txt")
    assert local_body(local, f"wild-{uid}/k2.txt") == b"wild"
    local_absent(local, f"exact-{uid}/k2.txt")
    assert s3.get_object(Bucket="bucket1", Key="k.txt")["Body"].read() == b"exact"


def test_unmapped_bucket_is_no_such_bucket_and_writes_nothing(connector, local, remote, uid):
    # AUTH_test2 maps only "other2"; "bucket1" belongs to AUTH_test's mapping.
    key = f"auth-{uid}/unmapped.txt"
    url = f"{connector.url}/bucket1/{key}"
    check_error(signed("PUT", url, "test2:tester2", "testing2", body=b"nowhere"), 404, "NoSuchBucket")
    check_error(signed("GET", url, "test2:tester2", "testing2"), 404, "NoSuchBucket")
    check_error(signed("GET", f"{connector.url}/bucket1?list-type=2", "test2:tester2", "testing2"),
                404, "NoSuchBucket")
    for account in ("AUTH_test2", "AUTH_test"):
        local_absent(local, local_name(key, "bucket1", account))
    remote_absent(remote, "bucket1", key)
    # Control: the same user reaches its own mapped bucket.
    t2 = s3_client(connector.url, "test2:tester2", "testing2")
    t2.put_object(Bucket="other2", Key=key, Body=b"mine")
    assert local_body(local, local_name(key, "other2", "AUTH_test2")) == b"mine"


def test_unmapped_bucket_contacts_no_store(make_connector, uid):
    trap = CountingListener()
    try:
        entries = [dict(mapping_entries(trap.url)[0], account="AUTH_test", container="bucket1")]
        c = make_connector(entries=entries)
        conf = c.dir / "cloud-connector.conf"
        conf.write_text("\n".join(
            f"swift_baseurl = {trap.url}" if line.startswith("swift_baseurl") else line
            for line in conf.read_text().splitlines()))
        c.start()
        url = f"{c.url}/bucket1/k-{uid}"
        check_error(signed("GET", url, "test2:tester2", "testing2"), 404, "NoSuchBucket")
        check_error(signed("PUT", url, "test2:tester2", "testing2", body=b"x"), 404, "NoSuchBucket")
        check_error(signed("GET", f"{c.url}/bucket1", "test2:tester2", "testing2"), 404, "NoSuchBucket")
        assert trap.accepted == 0
        # Control: a mapped request does reach the (closed-on-accept) stores and fails as 503.
        check_error(signed("GET", url, "test:tester", "testing"), 503, "ServiceUnavailable")
        assert trap.accepted >= 1
    finally:
        trap.close()


# ------------------------------------------------------------ what a signature covers

def send_raw(connector, method, path, query, headers, body=b""):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", connector.port, timeout=30)
    try:
        conn.putrequest(method, path + ("?" + query if query else ""), skip_host=True, skip_accept_encoding=True)
        for k, v in headers:
            conn.putheader(k, v)
        if body or method in ("PUT", "POST"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body if body else None)
        r = conn.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        conn.close()


def test_unsigned_amz_headers_are_refused(connector, s3, remote, uid):
    """Every x-amz-* header sent must be signed: an unsigned x-amz-meta-* or x-amz-copy-source
    would otherwise change what a validly signed request does."""
    from objects_helpers import signed_headers
    secret_key, key = f"auth-{uid}/secret", f"auth-{uid}/innocent"
    s3.put_object(Bucket="bucket1", Key=secret_key, Body=b"secret bytes")
    path = f"/bucket1/{key}"
    for extra in (("x-amz-meta-injected", "evil"), ("x-amz-copy-source", f"/bucket1/{secret_key}")):
        hdrs = signed_headers("PUT", connector.url, path) + [extra]
        status, headers, body = send_raw(connector, "PUT", path, "", hdrs)
        assert status == 403, body
        assert b"<Code>AccessDenied</Code>" in body and extra[0].encode() in body
        assert f"<RequestId>{headers['x-amz-request-id']}</RequestId>".encode() in body
    assert client_error_code_of(lambda: s3.head_object(Bucket="bucket1", Key=key)) == "404"


def test_host_must_be_signed_and_payload_hash_well_formed(connector, s3, uid):
    from objects_helpers import signed_headers
    path = f"/bucket1/auth-{uid}/x"
    hdrs = signed_headers("GET", connector.url, path)
    auth = dict(hdrs)["Authorization"]
    no_host = [(k, v.replace("SignedHeaders=host;", "SignedHeaders=") if k == "Authorization" else v)
               for k, v in hdrs]
    assert dict(no_host)["Authorization"] != auth   # the same signature, without host in SignedHeaders
    status, _, body = send_raw(connector, "GET", path, "", no_host)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body and b"Host header must be signed" in body
    garbage = [(k, "zzz" if k.lower() == "x-amz-content-sha256" else v) for k, v in hdrs]
    status, _, body = send_raw(connector, "GET", path, "", garbage)
    assert status == 400 and b"<Code>InvalidArgument</Code>" in body and b"x-amz-content-sha256" in body


def test_response_header_overrides_cannot_inject_headers(connector, s3, uid):
    key = f"auth-{uid}/download"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"payload")
    for param, value in (("ResponseContentDisposition", "attachment\r\nSet-Cookie: pwn=1\r\n\r\n<script>"),
                         ("ResponseContentType", "text/html\nX-Injected: 1")):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": key, param: value})
        r = requests.get(url)
        assert r.status_code == 400, r.text
        assert "<Code>InvalidArgument</Code>" in r.text
        assert "Set-Cookie" not in r.headers and "X-Injected" not in r.headers
    # A harmless override still works.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": key,
                                                          "ResponseContentDisposition": 'attachment; filename="a.txt"'})
    r = requests.get(url)
    assert r.status_code == 200 and r.headers["Content-Disposition"] == 'attachment; filename="a.txt"'


def client_error_code_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


@pytest.mark.parametrize("value", ["=?x", "a=?b", "=?UTF-8?B?aGVsbG8=?=", "price =?EUR?="])
def test_header_values_are_signed_and_kept_as_sent(connector, s3, local, uid, value):
    """Values that look like RFC 2047 encoded words (or contain "=?") are signed and stored
    byte for byte as the client sent them; the HTTP library must not decode them first."""
    key = f"auth-{uid}/encoded-word"
    s3.put_object(Bucket="bucket1", Key=key, Body=b"x", Metadata={"v": value}, ContentDisposition=value)
    head = s3.head_object(Bucket="bucket1", Key=key)
    assert head["ContentDisposition"] == value
    # What the connector stored is the sent value (RFC 2047-encoded only if it is not ASCII).
    assert local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["ContentDisposition"] == value
    # SigV2 signs x-amz-meta-* values too.
    v2 = connector.client(sig="s3")
    v2.put_object(Bucket="bucket1", Key=key + "-v2", Body=b"y", Metadata={"v": value})
    # Metadata reads back as written, although the local store keeps it the 1space way
    # (RFC 2047, decoded on read): as is, unless it would read back decoded.
    assert head["Metadata"] == {"v": value}
    assert v2.head_object(Bucket="bucket1", Key=key + "-v2")["Metadata"] == {"v": value}
    stored = local.head_object(Bucket=LOCAL_BUCKET, Key=local_name(key))["Metadata"]["v"]
    if value == "=?UTF-8?B?aGVsbG8=?=":   # a whole encoded word: kept as one encoding the literal text
        assert stored == "=?UTF-8?B?" + base64.b64encode(value.encode()).decode() + "?="
    else:
        assert stored == value
