"""What operators rely on: health and readiness probes, Prometheus metrics that
move with traffic, access logs without secrets, a drain on SIGTERM."""
import os
import re
import signal
import threading
import time

import botocore
import pytest
import requests

from conftest import LOCAL_STORE, Trickler, mapping_entries, read_until_closed, wait_for


def scrape(url):
    r = requests.get(url + "/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    values = {}
    for line in r.text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def test_healthcheck_and_readiness(make_connector):
    c = make_connector().start()
    r = requests.get(c.url + "/healthcheck")
    assert (r.status_code, r.text) == (200, "OK")
    assert requests.get(c.url + "/readyz").status_code == 200
    assert requests.head(c.url + "/healthcheck").status_code == 200


def test_operator_paths_do_not_collide_with_buckets(connector):
    # A signed request for a bucket called "healthcheck" is an S3 request, not a probe.
    # (test2's account has no "/*" entry, so the bucket is simply not mapped.)
    s3 = connector.client("test2:tester2", "testing2")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.list_objects_v2(Bucket="healthcheck")
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"


def test_metrics_move_with_traffic(make_connector, remote, uid):
    c = make_connector().start()
    s3 = c.client()
    before = scrape(c.url)
    s3.put_object(Bucket="bucket1", Key=f"m-{uid}/local", Body=b"x" * 1000)
    s3.get_object(Bucket="bucket1", Key=f"m-{uid}/local")["Body"].read()
    remote.put_object(Bucket="bucket1", Key=f"m-{uid}/remote", Body=b"y" * 500)
    s3.get_object(Bucket="bucket1", Key=f"m-{uid}/remote")["Body"].read()
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_object(Bucket="bucket1", Key=f"m-{uid}/none")
    # A request is counted once its response is out: the client can be faster than that.
    gets = 'cc_request_duration_seconds_count{op="GetObject"}'
    assert wait_for(lambda: scrape(c.url).get(gets, 0) - before.get(gets, 0) >= 3)
    after = scrape(c.url)

    def delta(name):
        return after.get(name, 0) - before.get(name, 0)
    assert delta('cc_requests_total{op="PutObject",status="200"}') == 1
    assert delta('cc_requests_total{op="GetObject",status="200"}') == 2
    assert delta('cc_requests_total{op="GetObject",status="404"}') == 1
    assert delta('cc_answered_by_total{side="local"}') == 1
    assert delta('cc_answered_by_total{side="remote"}') == 1
    assert delta("cc_bytes_in_total") == 1000
    assert delta("cc_bytes_out_total") == 1500
    assert delta('cc_request_duration_seconds_count{op="GetObject"}') == 3
    assert after["cc_open_connections"] >= 1


def test_backend_errors_and_reloads_are_counted(make_connector, uid):
    entries = mapping_entries()
    entries[0]["aws_endpoint"] = "http://127.0.0.1:9"     # nothing listens on the discard port
    c = make_connector(entries=entries).start()
    s3 = c.client()
    before = scrape(c.url)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket="bucket1", Key=f"m-{uid}")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    (c.dir / "s3-passwd.json").write_text("[{broken")
    deadline = time.time() + 15
    while time.time() < deadline and scrape(c.url)["cc_config_reload_failures_total"] == before["cc_config_reload_failures_total"]:
        time.sleep(0.2)
    after = scrape(c.url)
    assert after.get('cc_backend_errors_total{side="local",kind="connect"}', 0) - \
        before.get('cc_backend_errors_total{side="local",kind="connect"}', 0) == 1
    assert after["cc_config_reload_failures_total"] > before["cc_config_reload_failures_total"]
    assert 'cc_requests_total{op="GetObject",status="503"}' in after


def test_access_log_has_one_line_per_request_and_no_secrets(make_connector, uid):
    c = make_connector().start()
    s3 = c.client()
    s3.put_object(Bucket="bucket1", Key=f"log-{uid}/a b", Body=b"secret-free")
    s3.get_object(Bucket="bucket1", Key=f"log-{uid}/a b")["Body"].read()
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": f"log-{uid}/a b"})
    requests.get(url)
    with pytest.raises(botocore.exceptions.ClientError):
        c.client(secret="wrong-secret-value").head_object(Bucket="bucket1", Key=f"log-{uid}/a b")
    c.stop()
    log = c.log_text()
    lines = [l for l in log.splitlines() if " access " in l and f"log-{uid}" in l]
    assert len(lines) == 4
    assert all(re.search(r'id=[0-9A-F]{16} client=127\.0\.0\.1 user="[^"]*" op=[\w-]+ bucket="bucket1" '
                         r'key="[^"]*" status=\d+ bytes_in=\d+ bytes_out=\d+ ms=\d+ side=\S+', l) for l in lines)
    signature = url.split("X-Amz-Signature=")[1]
    for secret in ("testing", "wrong-secret-value", signature, "sécret✓"):
        assert secret not in log


def test_sigterm_lets_a_large_download_finish(make_connector, local, uid):
    c = make_connector()
    c.start(args=["--config", str(c.dir / "cloud-connector.conf"), "--shutdown-delay", "2"])
    s3 = c.client()
    data = os.urandom(64 * 1024 * 1024)
    s3.put_object(Bucket="bucket1", Key=f"drain-{uid}", Body=data)
    body = s3.get_object(Bucket="bucket1", Key=f"drain-{uid}")["Body"]
    first = body.read(1024 * 1024)
    c.proc.send_signal(signal.SIGTERM)
    # During the shutdown delay the listener still answers, and readiness says "stop sending".
    deadline = time.time() + 2
    while time.time() < deadline and requests.get(c.url + "/readyz").status_code == 200:
        time.sleep(0.05)
    assert requests.get(c.url + "/readyz").status_code == 503
    rest = body.read()
    assert first + rest == data
    assert c.proc.wait(30) == 0


def test_sigterm_answers_requests_waiting_for_a_thread(make_connector, uid):
    """One request thread, busy with an upload whose body trickles in; five more requests
    arrive whole and wait for the thread; then SIGTERM. Within the grace period the upload
    finishes and every waiting request is answered ("Connection: close"), none is reset."""
    import socket
    from objects_helpers import signed_headers
    c = make_connector(extra_conf="max_threads = 1").start()
    path = f"/bucket1/drain-{uid}/trickled"
    body = os.urandom(64 * 1024)
    head = f"PUT {path} HTTP/1.1\r\n".encode() + b"".join(
        f"{k}: {v}\r\n".encode() for k, v in signed_headers("PUT", c.url, path, headers={
            "Content-Length": str(len(body))}, body=body)) + b"\r\n"
    uploader = socket.create_connection(("127.0.0.1", c.port), timeout=30)
    uploader.sendall(head + body[:1000])
    time.sleep(0.5)   # the one thread now waits for the rest of the body
    waiting = []
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", c.port), timeout=30)
        s.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n")
        waiting.append(s)
    time.sleep(0.5)
    c.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    uploader.sendall(body[1000:])

    assert read_until_closed(uploader).startswith(b"HTTP/1.1 200 OK")
    for s in waiting:
        reply = read_until_closed(s)   # a reset would raise ConnectionResetError here
        assert reply.startswith(b"HTTP/1.1 200 OK") and b"connection: close" in reply.lower(), reply
        s.close()
    uploader.close()
    assert c.proc.wait(30) == 0


def test_request_id_reaches_the_backends(connector, remote, uid):
    # Swift appends X-Trans-Id-Extra to its transaction ids: one id greps through both logs.
    remote.put_object(Bucket="bucket1", Key=f"rid-{uid}", Body=b"x")
    r = connector.client().get_object(Bucket="bucket1", Key=f"rid-{uid}")   # a local miss, then the remote
    rid = r["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    logs = os.environ.get("CC_BACKENDS_DIR", "/tmp/cc-backends")
    # An embedded file store (--local-store=file) has no log of its own to grep.
    sides = ("remote",) if LOCAL_STORE["kind"] == "file" else ("local", "remote")
    deadline = time.time() + 10
    found = {}
    while time.time() < deadline and len(found) < len(sides):
        for side in sides:
            path = os.path.join(logs, side, "log", "proxy.log")
            if os.path.exists(path) and rid in open(path, errors="replace").read():
                found[side] = True
        time.sleep(0.2)
    assert found == {side: True for side in sides}


def test_idle_keep_alive_connections_hold_no_thread(make_connector):
    """Many idle keep-alive connections and two request threads: a new client is served at
    once, and every idle connection stays open and serves its next request (idle connections
    wait for their next request without a thread)."""
    import http.client
    c = make_connector(extra_conf="max_threads = 2\nkeep_alive_timeout = 3600").start()
    idle = []
    for _ in range(40):
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
        conn.request("GET", "/healthcheck")
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("Connection", "").lower() != "close"
        r.read()
        idle.append(conn)
    s3 = c.client()
    s3.put_object(Bucket="bucket1", Key="threads-idle", Body=b"served")
    assert s3.get_object(Bucket="bucket1", Key="threads-idle")["Body"].read() == b"served"
    # The gauges are published once a second.
    deadline = time.time() + 5
    while time.time() < deadline and scrape(c.url)["cc_idle_connections"] < len(idle):
        time.sleep(0.2)
    m = scrape(c.url)
    assert m["cc_idle_connections"] >= len(idle)
    assert m["cc_request_threads"] <= 2
    for conn in idle:   # still open: the same connection answers again
        conn.request("GET", "/healthcheck")
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, b"OK")
        conn.close()


def test_out_of_descriptors_idle_connections_make_room(make_connector):
    """With the descriptor limit reached by idle keep-alive connections, a new client is still
    served: the connections idle the longest are closed to make room (as after any keep-alive
    close, their clients reconnect), and the server keeps running."""
    import http.client
    import subprocess
    c = make_connector(extra_conf="keep_alive_timeout = 3600").start()
    s3 = c.client()
    s3.put_object(Bucket="bucket1", Key="fd-room", Body=b"before")   # the stores are open, as in a running server
    subprocess.run(["prlimit", f"--pid={c.proc.pid}", "--nofile=128:128"], check=True)
    idle = []
    for _ in range(150):   # more than the limit leaves room for
        conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
        conn.request("GET", "/healthcheck")
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, b"OK")
        idle.append(conn)
    s3.put_object(Bucket="bucket1", Key="fd-room", Body=b"served")
    assert s3.get_object(Bucket="bucket1", Key="fd-room")["Body"].read() == b"served"
    assert scrape(c.url)["cc_idle_connections_evicted_total"] >= 1
    assert c.proc.poll() is None
    for conn in idle:
        conn.close()


def test_more_busy_connections_than_threads_are_served_in_turn(make_connector):
    """Eight clients sending requests back to back over keep-alive connections, two request
    threads: connections take turns, so every client gets answers all along instead of two
    of them keeping the threads while the others starve."""
    import http.client
    c = make_connector(extra_conf="max_threads = 2").start()
    counts = [0] * 8
    stop = threading.Event()
    errors = []

    def client(i):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=30)
            while not stop.is_set():
                conn.request("GET", "/healthcheck")
                r = conn.getresponse()
                assert (r.status, r.read()) == (200, b"OK")
                counts[i] += 1
            conn.close()
        except Exception as e:   # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    # Not a timing assertion: every client was answered at least a few times in 3 s.
    assert min(counts) >= 5, counts


def test_heads_still_coming_in_hold_no_thread(make_connector):
    """Slowloris at scale: ten times more connections than threads, each with a request head
    still coming in (new connections, some trickling; a kept-alive connection's next head; a
    head pipelined behind a complete request). None holds a thread: other clients are answered
    while they wait (the client gives up long before request_header_timeout could free a
    thread), and each slow head gets its 408 once the timeout has passed."""
    import socket
    c = make_connector(extra_conf="max_threads = 2\nrequest_header_timeout = 10").start()
    slow = []
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", c.port), timeout=60)
        # Some with empty lines inside the request line, which Poco reads as blanks: not a head's end.
        s.sendall(b"GET\n\n/healthcheck HTTP/1.1\r\nHost: x\r\n" if i % 4 == 3 else b"GET /bucket1/slow HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    kept = socket.create_connection(("127.0.0.1", c.port), timeout=60)
    kept.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while not answer.endswith(b"\r\n\r\nOK"):   # the head and the body may come in two pieces
        piece = kept.recv(4096)
        assert piece, answer
        answer += piece
    kept.sendall(b"GET /healthcheck HTTP/1.1\r\n")
    piped = socket.create_connection(("127.0.0.1", c.port), timeout=60)
    piped.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\n\r\nGET /healthcheck HTTP/1.1\r\nHost")
    tricklers = [Trickler(s, every=1.0) for s in slow[:5]]
    try:
        s3 = c.client(connect_timeout=5, read_timeout=5)
        for i in range(5):
            s3.put_object(Bucket="bucket1", Key=f"loris-{i}", Body=b"served")
            assert s3.get_object(Bucket="bucket1", Key=f"loris-{i}")["Body"].read() == b"served"
        assert requests.get(c.url + "/healthcheck", timeout=5).text == "OK"
        # A head still not whole at 64 KiB is refused at once, without a thread.
        big = socket.create_connection(("127.0.0.1", c.port), timeout=60)
        big.sendall(b"GET /healthcheck HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000)
        answer = read_until_closed(big, gives_up=(ConnectionResetError,))
        big.close()
        assert answer.startswith(b"HTTP/1.1 400 ") and b"<Code>RequestHeaderSectionTooLarge</Code>" in answer, answer
        for s in slow + [kept, piped]:
            answers = read_until_closed(s).split(b"HTTP/1.1 ")
            assert answers[-1].startswith(b"408 ") and b"<Code>RequestTimeout</Code>" in answers[-1], answers
            # (the first is empty): the pipelined connection also has its first request's answer
            assert len(answers) == (3 if s is piped else 2), answers
        assert scrape(c.url)["cc_slow_request_heads_closed_total"] >= 22
    finally:
        for t in tricklers:
            t.stop()
        for s in slow + [kept, piped]:
            s.close()


def test_refused_bodies_sent_slowly_hold_no_thread(make_connector):
    """Requests refused before their body is read (here: no credentials), from more clients than
    threads, each sending its body a byte at a time: every one is answered at once with its S3
    error and the connection closes; the rest of each body is taken in by a lingering close
    that holds no thread, so other clients are served all the while."""
    import socket
    c = make_connector(extra_conf="max_threads = 2").start()
    conns, tricklers = [], []
    for size in [60000] * 6 + [10_000_000] * 6:   # drained-if-small and closed-at-once sizes
        s = socket.create_connection(("127.0.0.1", c.port), timeout=30)
        s.sendall(b"PUT /bucket1/refused HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nx" % size)
        conns.append(s)
        tricklers.append(Trickler(s, piece=b"x", every=0.5))
    try:
        for s in conns:
            answer = read_until_closed(s, gives_up=(ConnectionResetError,))
            assert answer.startswith(b"HTTP/1.1 403 "), answer
            assert b"<Code>AccessDenied</Code>" in answer and b"Connection: Close" in answer, answer
        assert requests.get(c.url + "/healthcheck", timeout=5).text == "OK"
        s3 = c.client(connect_timeout=5, read_timeout=5)
        s3.put_object(Bucket="bucket1", Key="refused-probe", Body=b"served")
        assert s3.get_object(Bucket="bucket1", Key="refused-probe")["Body"].read() == b"served"
    finally:
        for t in tricklers:
            t.stop()
        for s in conns:
            s.close()


def test_clients_that_stop_reading_hold_no_thread_for_long(make_connector):
    """Clients that request a large object and never read the answer would hold the threads
    sending to them for as long as they keep the connection: a send that makes no progress for
    client_timeout ends the connection, and the threads serve others again."""
    import socket
    c = make_connector(extra_conf="max_threads = 2\nclient_timeout = 3").start()
    s3 = c.client()
    s3.put_object(Bucket="bucket1", Key="unread-big", Body=os.urandom(24 << 20))
    stuck = []
    for _ in range(2):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", c.port))
        path = s3.generate_presigned_url("get_object", Params={"Bucket": "bucket1", "Key": "unread-big"})[len(c.url):]
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{c.port}\r\n\r\n".encode())
        stuck.append(s)
    try:
        # Answered once the stuck sends gave up (never, without the send timeout: the
        # clients keep their connections open for the whole test).
        assert requests.get(c.url + "/healthcheck", timeout=30).text == "OK"
        assert s3.get_object(Bucket="bucket1", Key="unread-big")["ContentLength"] == 24 << 20
    finally:
        for s in stuck:
            s.close()


def test_slow_or_silent_clients_cannot_hold_every_thread(make_connector):
    """Slowloris: clients that trickle a request head, or connect and send nothing, while every
    thread is taken. The trickler is cut off after request_header_timeout; the silent ones give
    their threads up to queued connections; a normal client is served meanwhile."""
    import socket
    c = make_connector(extra_conf="max_threads = 2\nrequest_header_timeout = 2").start()
    trickler = socket.create_connection(("127.0.0.1", c.port), timeout=60)
    trickler.sendall(b"GET /bucket1/slow HTTP/1.1\r\nHost: x\r\n")
    silent = socket.create_connection(("127.0.0.1", c.port), timeout=60)
    trickling = Trickler(trickler)
    try:
        s3 = c.client()
        s3.put_object(Bucket="bucket1", Key="slowloris-probe", Body=b"served")
        assert s3.get_object(Bucket="bucket1", Key="slowloris-probe")["Body"].read() == b"served"
        # The trickler was cut off: a 408, not its truncated head dispatched, then the connection ends.
        data = read_until_closed(trickler)
        assert b" 408 " in data.split(b"\r\n", 1)[0] and b"<Code>RequestTimeout</Code>" in data, data
        assert scrape(c.url)["cc_slow_request_heads_closed_total"] >= 1
    finally:
        trickling.stop()
        trickler.close()
        silent.close()
