"""Native HTTPS: a test CA signs the connector's certificate; curl and boto3
verify it; old protocol versions are refused."""
import subprocess

import boto3
import pytest
import requests
from botocore.config import Config


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    run = lambda *a: subprocess.run(a, cwd=d, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=cc-test-ca")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return d


@pytest.fixture
def tls_connector(make_connector, pki):
    c = make_connector(extra_conf=f"tls_cert_file = {pki / 'server.pem'}\ntls_key_file = {pki / 'server.key'}")
    c.start()
    c.https = f"https://localhost:{c.port}"
    return c


def test_curl_verifies_and_talks_tls(tls_connector, pki):
    r = subprocess.run(["curl", "-sS", "--cacert", str(pki / "ca.pem"), tls_connector.https + "/healthcheck"],
                       capture_output=True, text=True)
    assert (r.returncode, r.stdout) == (0, "OK"), r.stderr
    # Without the CA the certificate is not trusted: the client refuses, as it should.
    r = subprocess.run(["curl", "-sS", tls_connector.https + "/healthcheck"], capture_output=True, text=True)
    assert r.returncode != 0
    # TLS 1.1 and older are refused by the server.
    r = subprocess.run(["curl", "-sS", "--cacert", str(pki / "ca.pem"), "--tls-max", "1.1", "--tlsv1.0",
                        tls_connector.https + "/healthcheck"], capture_output=True, text=True)
    assert r.returncode != 0
    # Plain HTTP on the TLS port does not get an answer.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://localhost:{tls_connector.port}/healthcheck", timeout=5)


def test_boto3_over_tls(tls_connector, pki, uid):
    s3 = boto3.client("s3", endpoint_url=tls_connector.https, aws_access_key_id="test:tester",
                      aws_secret_access_key="testing", region_name="us-east-1", verify=str(pki / "ca.pem"),
                      config=Config(s3={"addressing_style": "path"}))
    s3.put_object(Bucket="bucket1", Key=f"tls-{uid}", Body=b"encrypted in transit" * 10000)
    assert s3.get_object(Bucket="bucket1", Key=f"tls-{uid}")["Body"].read() == b"encrypted in transit" * 10000


def test_half_configured_tls_stops_startup(make_connector, pki):
    c = make_connector(extra_conf=f"tls_cert_file = {pki / 'server.pem'}")
    with pytest.raises(RuntimeError) as e:
        c.start()
    assert "tls_key_file" in str(e.value)


def test_slow_tls_clients_are_cut_off(make_connector, pki):
    """The request-head deadline holds over TLS too: a client that stalls in the handshake
    and one that trickles its head after it are cut off after request_header_timeout, so two
    of them cannot keep the two request threads from a normal client."""
    import socket
    import ssl
    import time
    from conftest import Trickler, read_until_closed
    c = make_connector(extra_conf=f"tls_cert_file = {pki / 'server.pem'}\ntls_key_file = {pki / 'server.key'}\n"
                                  "max_threads = 2\nrequest_header_timeout = 2")
    c.start()
    ctx = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    # 1. Half a ClientHello: the handshake stalls on the server's side.
    hello = socket.create_connection(("127.0.0.1", c.port), timeout=30)
    hello.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    # 2. A full handshake, then a head that never ends.
    trickler = ctx.wrap_socket(socket.create_connection(("127.0.0.1", c.port), timeout=30), server_hostname="localhost")
    trickler.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: localhost\r\n")
    trickling = Trickler(trickler)
    try:
        started = time.monotonic()
        r = requests.get(f"https://localhost:{c.port}/healthcheck", verify=str(pki / "ca.pem"), timeout=30)
        assert (r.status_code, r.text) == (200, "OK")
        # Not a timing assertion on speed: the deadline (2 s) freed the threads long before
        # either slow client would have ended on its own (the trickler never does).
        assert time.monotonic() - started < 20
        # The trickler's connection ends, unanswered: over TLS no 408 can follow the cut (OpenSSL
        # will not write once a read ended early); its head was never dispatched.
        data = read_until_closed(trickler, gives_up=(OSError, ssl.SSLError))
        assert b"200 OK" not in data, data
        hello.settimeout(10)
        try:
            assert hello.recv(65536) is not None   # closed (EOF or an alert), not left hanging
        except ConnectionResetError:
            pass
    finally:
        trickling.stop()
        trickler.close()
        hello.close()
