"""A real webhook receiver on 127.0.0.1: takes POSTs per path, checks signatures, counts."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOLD = -1  # a route's answer: keep the connection open, answer nothing, until the server stops


@dataclass(frozen=True)
class Post:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A running receiver: its base URL, every POST it read, and those it accepted (2xx)."""

    base: str
    secret: str
    routes: dict[str, Callable[[Post, int], int]]  # (post, how many came before) -> status
    posts: list[Post] = field(default_factory=list)
    accepted: list[Post] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    stopping: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return self.base + path

    def accepted_by(self, path: str) -> list[Post]:
        return [p for p in self.accepted if p.path == path]

    def signed(self, post: Post, tolerance: float = 300) -> bool:
        """What a receiver must check, written here from the README, not from digest's code:
        HMAC-SHA256 over '<timestamp>.<body>' with the shared key, and a recent timestamp."""
        timestamp = post.headers.get("X-Digest-Timestamp", "")
        signature = post.headers.get("X-Digest-Signature", "")
        mac = hmac.new(self.secret.encode(), f"{timestamp}.".encode() + post.body, hashlib.sha256)
        return (
            timestamp.isdigit()
            and abs(time.time() - int(timestamp)) <= tolerance
            and hmac.compare_digest(f"sha256={mac.hexdigest()}", signature)
        )


def accept(post: Post, before: int) -> int:
    return 200


@contextmanager
def receiver(
    secret: str, routes: dict[str, Callable[[Post, int], int]], port: int = 0
) -> Iterator[Receiver]:
    """Serve `routes` until the block ends; a path not routed answers 404."""
    found = Receiver("", secret, routes)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            post = Post(self.path, dict(self.headers.items()), self.rfile.read(length))
            with lock:
                before = sum(1 for p in found.posts if p.path == post.path)
                found.posts.append(post)
            route = found.routes.get(self.path)
            status = route(post, before) if route is not None else 404
            if 200 <= status < 300 or status == HOLD:  # held: taken, only the answer is lost
                with lock:
                    found.accepted.append(post)
            found.arrived.set()
            if status == HOLD:
                found.stopping.wait(60)
                return
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    found.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield found
    finally:
        found.stopping.set()
        httpd.shutdown()
        httpd.server_close()
