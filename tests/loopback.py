"""A real HTTP server on 127.0.0.x for crawl tests: routes by path, records every request."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    """A canned answer: status, headers and body."""

    body: bytes = b""
    content_type: str = "text/plain"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    length: bool = True  # send Content-Length


Route = Reply | Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Server:
    """A running server: its base URL, its routes, and the requests it has seen."""

    base: str
    routes: dict[str, Route]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def hits(self, path: str) -> list[dict[str, str]]:
        """The headers of each request for `path` (query ignored)."""
        return [h for p, h in self.requests if urlsplit(p).path == path]


def send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    """Write `reply` as the handler's response."""
    handler.send_response(reply.status)
    handler.send_header("Content-Type", reply.content_type)
    if reply.length:
        handler.send_header("Content-Length", str(len(reply.body)))
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    if handler.command != "HEAD":
        with contextlib.suppress(OSError):  # the client hung up, as a capped fetch should
            handler.wfile.write(reply.body)


def drip(handler: BaseHTTPRequestHandler, seconds: float, every: float = 0.25) -> None:
    """A 200 that promises 1000 bytes and sends one every `every` seconds for `seconds`."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    with contextlib.suppress(OSError):  # the client hung up at its deadline, as it should
        for _ in range(int(seconds / every)):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(every)


@contextmanager
def serve(routes: dict[str, Route], host: str = "127.0.0.1") -> Iterator[Server]:
    """Serve `routes` (path -> Reply or handler function) until the block ends."""
    server = Server("", routes)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            server.requests.append((self.path, dict(self.headers.items())))
            route = server.routes.get(urlsplit(self.path).path)
            if route is None:
                send(self, Reply(b"not found", status=404))
            elif isinstance(route, Reply):
                send(self, route)
            else:
                route(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server.base = f"http://{host}:{httpd.server_address[1]}"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
