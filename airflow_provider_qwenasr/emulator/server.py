"""The HTTP layer: a threaded HTTP/1.1 server, fault delivery, and the request log (routes: ``routes``)."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import socket
import struct
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlsplit

from . import control
from .backend import Backend
from .clock import Clock
from .config import EmulatorConfig
from .faults import Fault
from .recording import redact_headers, redact_query
from .replies import Reply, error_reply, json_reply
from .routes import Request, handle, route

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_LOOPBACK = ("127.", "::1", "::ffff:127.")


class _RequestHandler(BaseHTTPRequestHandler):
    """One connection: HTTP/1.1 with keep-alive, every answer with a ``Content-Length``."""

    protocol_version = "HTTP/1.1"
    server_version = "qwenasr-emulator"
    sys_version = ""
    timeout = 300  # idle keep-alive connections free their thread eventually
    # Headers and body go out in separate writes; with Nagle on, a keep-alive client waits for
    # the delayed ACK (~40 ms) between them.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        backend = self.server.backend
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        try:
            body = self._read_body()
        except ValueError:
            self._send(error_reply(400, "InvalidParameter", "Malformed request body framing."))
            self.close_connection = True
            return
        if split.path.startswith(control.PREFIX):
            if not self.client_address[0].startswith(_LOOPBACK):
                self._send(json_reply(403, {"error": "the control API answers loopback clients only"}))
            else:
                self._send(control.handle(backend, self.command, split.path, query, body))
            return
        endpoint, handler, params = route(self.command, split.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, split.path, query, headers, body, params)
        fault = backend.faults.take(endpoint)
        if fault is not None and fault.kind == "latency":
            time.sleep(fault.delay_seconds)  # real time: the client's timeout is real too
        reply = None
        if fault is None or fault.processes(endpoint):
            reply = handle(backend, handler, request)
        answer, mode = _faulted(fault, reply)
        status = answer.status if answer is not None else None
        # Record before answering: a client that reads the log right after its answer sees its request.
        backend.stats.request(endpoint, status)
        backend.requests.append(
            {
                "method": self.command,
                "path": split.path,
                "query": redact_query(query),
                "headers": redact_headers(dict(self.headers.items())),
                "body": _recorded_body(endpoint, body),
                "endpoint": endpoint,
                "status": status,
                "fault": fault.kind if fault is not None else None,
                "time": backend.clock.now(),
            }
        )
        if answer is None:  # a dropped connection: no answer at all
            self.close_connection = True
        elif mode == "full":
            self._send(answer)
        else:
            self._send_part(answer, reset=mode == "reset")

    def _send_head(self, reply: Reply, length: int) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, reply: Reply) -> None:
        if reply.file is None:
            self._send_head(reply, len(reply.body))
            self.wfile.write(reply.body)
            return
        with reply.file.open("rb") as source:
            self._send_head(reply, reply.file.stat().st_size)
            shutil.copyfileobj(source, self.wfile, _CHUNK)  # streamed: results may be hundreds of MB

    def _send_part(self, reply: Reply, reset: bool) -> None:
        """Announce the whole answer, send about half of it, and hang up (with a RST if ``reset``)."""
        if reply.file is None:
            self._send_head(reply, len(reply.body))
            self.wfile.write(reply.body[: max(1, len(reply.body) // 2)])
        else:
            size = reply.file.stat().st_size
            self._send_head(reply, size)
            with reply.file.open("rb") as source:
                _copy_prefix(source, self.wfile, max(1, size // 2))
        self.wfile.flush()
        self.close_connection = True
        if reset:
            # SO_LINGER 0 makes close() send a TCP RST instead of an orderly FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()


#: What a reset or truncated answer carries when the request was not processed.
_STAND_IN = Reply(
    200, b'{"request_id":"00000000-0000-4000-8000-000000000000","output":{"task_status":"PENDING"}}'
)


def _faulted(fault: Fault | None, reply: Reply | None) -> tuple[Reply | None, str]:
    """What to send and how: ``full``, or ``reset``/``truncate`` (part of it); ``None``: drop."""
    if fault is None or fault.kind == "latency":
        return reply, "full"
    if fault.kind == "drop":
        return None, "drop"
    if fault.kind == "status":
        faulted = error_reply(fault.status, fault.code or "", fault.message or "")
        if fault.retry_after is not None:
            faulted.headers["Retry-After"] = f"{fault.retry_after:g}"
        return faulted, "full"
    if fault.kind == "invalid_json":
        return Reply(200, b"<html><body><h1>502 Bad Gateway</h1></body></html>"), "full"
    return reply or _STAND_IN, fault.kind


def _copy_prefix(source: BinaryIO, target: io.BufferedIOBase, count: int) -> None:
    """Copy the first ``count`` bytes of ``source`` in bounded chunks."""
    while count > 0:
        chunk = source.read(min(_CHUNK, count))
        if not chunk:
            return
        target.write(chunk)
        count -= len(chunk)


def _recorded_body(endpoint: str, body: bytes) -> Any:
    if not body:
        return None
    if endpoint == "upload":
        return f"<multipart form, {len(body)} bytes>"
    try:
        return json.loads(body)
    except ValueError:
        return body[:10000].decode("utf-8", "replace")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    #: A burst of new connections (40 mapped submits at once) is queued, not reset: the default is 5.
    request_queue_size = 128
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        self.backend = backend
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.backend.stats.connection_opened()
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class EmulatorServer:
    """A local DashScope on a real port, served from a background thread.

    >>> with EmulatorServer(EmulatorConfig()).start() as server:  # doctest: +SKIP
    ...     server.base_url
    'http://127.0.0.1:54321/api/v1'

    :param config: the settings (default :class:`EmulatorConfig()`).
    :param host: the address to bind; loopback unless you mean otherwise.
    :param port: the port; 0 picks a free one (read :attr:`port` after :meth:`start`).
    :param clock: a clock to share or control (default: real time at ``config.time_speed``).
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.host = host
        self._requested_port = port
        self.backend = Backend(self.config, clock)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._data_dir: Path | None = None

    def start(self) -> EmulatorServer:
        """Bind, start serving in a daemon thread, and return ``self``."""
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self._requested_port), self.backend)
        self._data_dir = Path(tempfile.mkdtemp(prefix="qwenasr-emulator-"))
        self.backend.bind(self.root_url, self._data_dir)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="qwenasr-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and delete the server's files."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
        self._httpd = self._thread = self._data_dir = None

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._httpd is None:
            raise RuntimeError("the emulator is not started")
        return int(self._httpd.server_address[1])

    @property
    def data_dir(self) -> Path:
        """The server's own temporary directory (uploads, result documents); removed by :meth:`stop`."""
        if self._data_dir is None:
            raise RuntimeError("the emulator is not started")
        return self._data_dir

    @property
    def root_url(self) -> str:
        """``http://host:port``: the home of result URLs, the upload host and the control API."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://host:port/api/v1``: the DashScope base URL to give clients."""
        return self.root_url + "/api/v1"

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
