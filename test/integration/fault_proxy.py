"""A small fault-injecting TCP/HTTP proxy for integration tests.

    proxy = FaultProxy("127.0.0.1", 8090).start()   # listens on proxy.port
    ... point a connector at proxy.url ...
    proxy.set_mode("refuse")    # connection refused (the listening socket is closed)
    proxy.set_mode("close")     # accept, then reset the connection at once
    proxy.set_mode("hang")      # accept, read the request, never answer
    proxy.set_mode(503)         # answer every request with an HTTP error (any status)
    proxy.set_mode(400, code="AuthorizationHeaderMalformed")   # ... with that S3 error code
    proxy.set_mode("cut", after_bytes=500)  # pass through, end the connection after 500 response bytes
    proxy.set_mode("early")     # answer 200 right after the request head, never reading its body
                                # (as Swift does for a PUT that loses a same-timestamp race)
    proxy.set_mode("pass")      # forward bytes to the target (the default)
    proxy.stop()

Each connection is served by its own thread. Switching modes drops every open
connection, so a client's keep-alive connection cannot carry a request past the
switch (a pooled pass-through connection would otherwise keep working while the
proxy "is down"). `stop()` closes the listener and all connections and joins
the threads.
"""
import select
import socket
import struct
import threading
import time

MODES = ("pass", "refuse", "close", "hang", "cut", "early")


class FaultProxy:
    def __init__(self, target_host, target_port, listen_host="127.0.0.1", port=0):
        self.target = (target_host, target_port)
        self.listen_host = listen_host
        self.port = port
        self.mode = "pass"
        self.cut_after = 0
        self.error_code = "InjectedFault"
        self.requests = 0            # connections accepted, for diagnostics
        self._lock = threading.Lock()
        self._listener = None
        self._accept_thread = None
        self._conns = set()          # every open socket of every connection
        self._threads = set()
        self._stopping = False

    @property
    def url(self):
        return f"http://{self.listen_host}:{self.port}"

    # -- lifecycle -----------------------------------------------------------
    def start(self):
        self._listen()
        return self

    def stop(self):
        with self._lock:
            self._stopping = True
        self._close_listener()
        self._drop_connections()
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def set_mode(self, mode, after_bytes=0, code="InjectedFault"):
        """`after_bytes` is for "cut": pass through, but end each connection once the
        target has sent that many bytes back (a response cut off mid-body). It ends with
        a FIN, not a reset: a reset discards what the peer has received but not read
        yet, so how much of the response got through would depend on how busy the peer
        was, not on `after_bytes`."""
        if mode not in MODES and not (isinstance(mode, int) and 100 <= mode <= 599):
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            old, self.mode = self.mode, mode
            self.cut_after = after_bytes
            self.error_code = code   # the <Code> of an HTTP error answer
        if mode == "refuse" and old != "refuse":
            self._close_listener()
        elif old == "refuse" and mode != "refuse":
            self._listen()
        self._drop_connections()

    # -- internals -----------------------------------------------------------
    def _listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.listen_host, self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self._listener = s
        t = threading.Thread(target=self._accept_loop, args=(s,), daemon=True, name=f"fault-proxy-{self.port}")
        self._accept_thread = t
        t.start()

    def _close_listener(self):
        s, self._listener = self._listener, None
        if s is None:
            return
        try:
            s.shutdown(socket.SHUT_RDWR)   # wakes the blocked accept()
        except OSError:
            pass
        s.close()
        if self._accept_thread is not None and self._accept_thread is not threading.current_thread():
            self._accept_thread.join(5)
        self._accept_thread = None

    def _drop_connections(self):
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            self._abort(c)

    @staticmethod
    def _abort(sock):
        try:
            # RST rather than FIN: the peer sees the failure at once.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _track(self, sock):
        with self._lock:
            self._conns.add(sock)

    def _untrack(self, sock):
        with self._lock:
            self._conns.discard(sock)
        try:
            sock.close()
        except OSError:
            pass

    def _accept_loop(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._stopping:
                    client.close()
                    return
                self.requests += 1
                mode = self.mode
                self._conns.add(client)
                t = threading.Thread(target=self._serve, args=(client, mode), daemon=True)
                self._threads.add(t)
            t.start()

    def _serve(self, client, mode):
        try:
            if mode in ("pass", "cut"):
                self._pipe(client, mode)
            elif mode == "close":
                self._abort(client)
            elif mode == "hang":
                self._hang(client)
            elif mode == "early":
                self._answer_early(client)
            elif isinstance(mode, int):
                self._answer(client, mode)
            # "refuse": a connection accepted just before the switch is dropped
        except OSError:
            pass
        finally:
            self._untrack(client)
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _pipe(self, client, mode):
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            return
        upstream.settimeout(None)
        self._track(upstream)
        budget = self.cut_after if mode == "cut" else None
        try:
            socks = [client, upstream]
            while True:
                readable, _, _ = select.select(socks, [], [], 1.0)
                with self._lock:
                    if self.mode != mode or self._stopping:
                        return
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    if s is upstream and budget is not None:
                        if len(data) >= budget:
                            client.sendall(data[:budget])
                            self._end_after_reading(client)
                            return
                        budget -= len(data)
                    (upstream if s is client else client).sendall(data)
        finally:
            self._untrack(upstream)

    def _end_after_reading(self, client, wait=30.0):
        """FIN, then wait for the peer's close: it reads every byte sent before it."""
        try:
            client.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                readable, _, _ = select.select([client], [], [], 0.5)
                if readable and not client.recv(65536):
                    return
        except (OSError, ValueError):   # dropped by set_mode() or stop()
            pass

    def _hang(self, client):
        # Keep reading so the client's send never blocks; answer nothing.
        self._discard_until_closed(client, "hang")

    def _discard_until_closed(self, client, mode):
        while True:
            with self._lock:
                if self.mode != mode or self._stopping:
                    return
            readable, _, _ = select.select([client], [], [], 0.5)
            if readable and not client.recv(65536):
                return

    @staticmethod
    def _read_head(client):
        """What arrived up to and including the end of the request head (None if the client left)."""
        client.settimeout(10)
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = client.recv(65536)
            if not data:
                return None
            buf += data
        return buf

    def _answer_early(self, client):
        if self._read_head(client) is None:
            return
        client.sendall(b'HTTP/1.1 200 OK\r\nETag: "00000000000000000000000000000000"\r\n'
                       b"Content-Length: 0\r\nConnection: close\r\n\r\n")
        # Then whatever arrives is thrown away until the client closes: no reset.
        self._discard_until_closed(client, "early")

    def _answer(self, client, status):
        """Reads one request (headers, then up to Content-Length body bytes) and answers `status`."""
        buf = self._read_head(client)
        if buf is None:
            return
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = 0
        expect_continue = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
            elif name.strip().lower() == b"expect" and b"100" in value:
                expect_continue = True
        if not expect_continue:
            # Swallow the body (best effort) so the client reads our answer, not a reset.
            remaining = length - len(rest)
            while remaining > 0:
                data = client.recv(min(remaining, 65536))
                if not data:
                    break
                remaining -= len(data)
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.error_code}</Code>'
                f'<Message>fault proxy answered {status}</Message></Error>').encode()
        head_only = head.split(b" ", 1)[0] == b"HEAD"
        client.sendall(
            f"HTTP/1.1 {status} Injected\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + (b"" if head_only else body))
        try:
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass
