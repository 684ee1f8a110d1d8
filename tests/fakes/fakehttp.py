"""Plumbing the fakes share (python3 standard library only).

Each fake (woodpecker.py, github.py, kube.py) speaks its own protocol; what
they have in common lives here so that it is written once:

  * TLS: a server context (TLS 1.2 or newer, ALPN http/1.1) and a listening
    socket whose handshake runs in the connection's own thread
    (TlsHandler.setup), so a client that never finishes its handshake
    cannot hold up the accept loop.
  * FakeServer: a threaded HTTP server on 127.0.0.1 that does not resolve
    its own name (HTTPServer's getfqdn() can stall without DNS) and keeps
    quiet about clients that hang up.
  * RequestLog: every request as a record with a sequence number, kept in
    memory (for the control API) and appended to a JSON-lines file (for
    tests that tail it).
  * FaultRules: the counting every fault rule shares; which requests a rule
    matches and what the fault does stay in each fake.
  * listen_control: the control API (/__fake/...) in plain HTTP on a
    second loopback port, for tests/fakectl.c.
  * write_atomic / write_port_file: a reader never sees half a file.
  * rst_close: end a connection with a TCP reset and no answer.
  * The start and the end: the options every scenario-driven fake takes,
    reading the scenario, and serving until SIGTERM/SIGINT (exit 0 at once,
    open streams and stalled requests included).
"""

import json
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# How long a connection may take to finish its TLS handshake before the fake
# drops it. Long, like the keep-alive idle limit: a client under valgrind on
# a busy machine can take more than ten seconds from connect to its hello,
# and a drop then reads as a reset or "getpeername() failed" that no test
# asked for. The bound only keeps a client that never says hello from
# holding its thread forever.
HANDSHAKE_TIMEOUT = 120.0


# ---------------------------------------------------------------------------
# TLS and the server
# ---------------------------------------------------------------------------

def tls_context(cert, key, remember_sni=False):
    """A server context; with remember_sni the name the client asked for is
    kept on its socket as `fake_sni` (for request logs)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])
    if remember_sni:
        def remember(sock, name, _ctx):
            try:
                sock.fake_sni = name
            except AttributeError:
                pass
        ctx.sni_callback = remember
    return ctx


def listen_tls(server, cert, key, remember_sni=False):
    """Wraps the server's listening socket; the handshake itself is left to
    TlsHandler.setup(), in the connection's thread."""
    server.socket = tls_context(cert, key, remember_sni).wrap_socket(
        server.socket, server_side=True, do_handshake_on_connect=False)
    return server


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    name = "fake"               # prefix of its messages on stderr
    verbose = False

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, socket.timeout, OSError)):
            if self.verbose:
                sys.stderr.write("%s: connection from %s: %s\n" % (self.name, client_address, exc))
            return
        super().handle_error(request, client_address)


class TlsHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Bodies are written in one call; no Nagle delay between headers and body.
    disable_nagle_algorithm = True
    idle_timeout = 120.0        # idle keep-alive connections close after this; None = never

    def setup(self):
        self.handshake()
        self.request.settimeout(self.idle_timeout)
        super().setup()

    def handshake(self):
        """The TLS handshake, bounded (the listening socket defers it)."""
        self.request.settimeout(HANDSHAKE_TIMEOUT)
        self.request.do_handshake()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("%s: %s\n" % (self.server.name, fmt % args))

    def log_request(self, code="-", size="-"):
        pass                    # each fake keeps its own request log

    def send_error(self, code, message=None, explain=None):
        if code == 414:
            self.drain_request_head()
        super().send_error(code, message, explain)

    def drain_request_head(self):
        """Reads the rest of an over-long request line and its headers (at
        most 1 MiB each) before the 414 goes out. Closing with them unread
        would make the kernel answer the client with a reset, and a slow
        client still sending would see "broken pipe" instead of the 414: a
        race on how fast it writes, where a server with a larger buffer
        reads on and answers."""
        try:
            self.rfile.readline(1 << 20)
            for _ in range(200):
                if self.rfile.readline(1 << 20) in (b"\r\n", b"\n", b""):
                    break
        except OSError:
            pass

    def read_body(self):
        try:
            n = int(self.headers.get("Content-Length", "0") or 0)
        except ValueError:
            n = 0
        return self.rfile.read(n) if n > 0 else b""


def rst_close(sock):
    """Closes the raw socket under the TLS layer with SO_LINGER 0: no
    close_notify, no answer, just a TCP RST."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        socket.socket(fileno=sock.detach()).close()
    except OSError:
        pass


def listen_control(main, port_file):
    """Serves the fake's control API (/__fake/...) in plain HTTP on a second
    loopback port as well, and writes that port to port_file. Tests drive
    the fakes through it with tests/fakectl.c: a process start and a socket
    per call, where curl costs some 40 shared libraries and a TLS handshake
    (about 40 ms of CPU; hundreds of calls a suite). Each request is served
    by the fake's own handler class against its own state (the handler's
    `server` is the TLS server); a path outside /__fake/ is answered 404, so
    the API the client under test talks to stays TLS only. Call it before
    the main port file is written: tests read both once that one exists."""
    class PlainControlHandler(main.RequestHandlerClass):
        def setup(self):
            self.server = main
            super().setup()

        def handshake(self):
            pass                # plain HTTP: no handshake

        def parse_request(self):
            if not super().parse_request():
                return False
            if not self.path.startswith("/__fake/"):
                self.send_error(404, "the control port serves /__fake/ only")
                return False
            return True

    control = FakeServer(("127.0.0.1", 0), PlainControlHandler)
    control.name = main.name
    threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.5},
                     daemon=True, name="control").start()
    write_port_file(port_file, control.server_address[1])
    return control


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_port_file(path, port):
    write_atomic(path, "%d\n" % port)


# ---------------------------------------------------------------------------
# The request log
# ---------------------------------------------------------------------------

class RequestLog:
    """Records numbered from 1 (`seq`). add() = enter() then written(): a
    fake that learns a request's status only later enters it first and calls
    written() once the status is known. on_written(rec) runs after each
    written record, outside the lock (triggers that react to requests)."""

    def __init__(self, path, on_written=None, sort_keys=False):
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)  # a record was entered
        self.records = []
        self.file = open(path, "a", encoding="utf-8") if path else None
        self.on_written = on_written
        self.sort_keys = sort_keys

    def enter(self, rec):
        with self.lock:
            rec["seq"] = len(self.records) + 1
            self.records.append(rec)
            self.arrived.notify_all()
        return rec

    def written(self, rec):
        if self.file:
            with self.lock:
                self.file.write(json.dumps(rec, sort_keys=self.sort_keys) + "\n")
                self.file.flush()
        if self.on_written is not None:
            self.on_written(rec)

    def add(self, rec):
        self.written(self.enter(rec))

    def since(self, seq):
        """Copies of the records after number `seq`."""
        with self.lock:
            return [dict(r) for r in self.records[seq:]]

    def wait_for(self, seq, path_prefix, timeout):
        """Blocks until a record after number `seq` has a path starting with
        `path_prefix` (entered: a request stalled before its answer counts)
        or `timeout` seconds have passed; then as since(seq)."""
        with self.arrived:
            self.arrived.wait_for(lambda: any(r.get("path", "").startswith(path_prefix)
                                              for r in self.records[seq:]), timeout)
            return [dict(r) for r in self.records[seq:]]

    def clear(self):
        with self.lock:
            self.records = []

    def close(self):
        if self.file:
            self.file.close()


# ---------------------------------------------------------------------------
# Fault rules
# ---------------------------------------------------------------------------

class FaultRules:
    """Rules (dicts) tried in order; the first one that matches a request
    and has budget left is applied, one rule per request. A matching rule
    with budget left counts the request in "seen", lets the first `skip` of
    them pass, then applies to at most BUDGET of them (no limit when the
    key is absent), counted in COUNT. Each fake names the two keys its
    scenarios use; keys starting with "_" are private (compiled regexes)."""

    budget_key = "times"
    count_key = "hits"

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def new_rule(self, spec):
        r = dict(spec)
        r["seen"] = r[self.count_key] = 0
        return r

    def pick(self, matches, chance=None):
        """The rule to apply: matches(rule) says whether it concerns this
        request; chance(rule), when given, may still let it pass."""
        with self.lock:
            for r in self.rules:
                if not matches(r):
                    continue
                limit = r.get(self.budget_key)
                if limit is not None and r[self.count_key] >= int(limit):
                    continue
                r["seen"] += 1
                if r["seen"] <= int(r.get("skip", 0)):
                    continue
                if chance is not None and not chance(r):
                    continue
                r[self.count_key] += 1
                return r
        return None

    def list(self):
        with self.lock:
            return [{k: v for k, v in r.items() if not k.startswith("_")} for r in self.rules]

    def clear(self):
        with self.lock:
            self.rules = []


# ---------------------------------------------------------------------------
# Start and end
# ---------------------------------------------------------------------------

def add_common_args(p):
    """The options of a fake that serves a scenario over TLS."""
    p.add_argument("--cert", required=True, help="server certificate (PEM)")
    p.add_argument("--key", required=True, help="server key (PEM)")
    p.add_argument("--scenario", required=True, help="scenario file (JSON)")
    p.add_argument("--port-file", required=True, help="where to write the port once listening")
    p.add_argument("--control-port-file",
                   help="also serve /__fake/ in plain HTTP; its port is written here")
    p.add_argument("--request-log", help="append every request here as JSON lines")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: any)")
    p.add_argument("--token", action="append", default=[],
                   help="another valid token for the scenario's first user (repeatable)")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    return p


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def stop_on_signals(server):
    """SIGTERM and SIGINT end server.serve_forever(). Install it before the
    port file is written: a test may signal as soon as it sees the port."""
    def stop(_sig, _frame):
        # shutdown() waits for serve_forever() to return, so not from this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def serve(server):
    """Serves until a signal (stop_on_signals), then leaves at once with
    status 0: daemon threads may sit in blocking reads, not waited for."""
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    server.reqlog.close()
    sys.stderr.flush()
    os._exit(0)
