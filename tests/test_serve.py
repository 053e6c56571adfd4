"""`digest serve` as readers and attackers meet it: pages and their headers, forms, and
idle, half-open and dripping connections, on real sockets."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from digest.config import ServeSettings
from digest.publish import PublishSettings, publish
from digest.publish.render import make_environment
from digest.publish.serve import make_app, running
from digest.store import Store
from tests.issues import two_weeks
from tests.smtp import free_port

SECRET = "test-secret-0123456789abcdef"
REQUEST_TIMEOUT = 2.0


@dataclass
class Cli:
    base: str
    port: int
    pid: int


def _publish(folder: Path, base_url: str) -> Path:
    settings = PublishSettings(folder / "site", folder / "email", base_url)
    newer, older = two_weeks()
    publish(older, [], settings)
    publish(newer, [older], settings)
    return folder / "site"


def _get(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    """Status, headers (any case) and body of a request; an error status is an answer too."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """`digest serve` through the CLI, in a process of its own, with a 2 s request timeout."""
    tmp = tmp_path_factory.mktemp("serve")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    site = _publish(tmp, base)
    config = tmp / "digest.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp / "digest.db"}"\n'
        f'[site]\nbase_url = "{base}"\ndir = "{site}"\n'
        f"[serve]\nrequest_timeout = {REQUEST_TIMEOUT}\n"
    )
    Store(f"sqlite:///{tmp / 'digest.db'}").close()  # as `digest init` makes it
    log = tmp / "serve.log"
    command = ["serve", "--config", str(config), "--port", str(port)]
    with log.open("wb") as out:  # a file, not a pipe nobody reads, which could stall it
        server = subprocess.Popen(
            [sys.executable, "-m", "digest.cli", *command],
            env={**os.environ, "DIGEST_UNSUBSCRIBE_SECRET": SECRET},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if _get(base)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "digest serve did not answer within 90 s"
            time.sleep(0.2)
        yield Cli(base, port, server.pid)
    finally:
        server.terminate()
        server.wait(20)


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads")))


def _closed_after(
    sockets: list[socket.socket], drip: list[socket.socket], limit: float
) -> list[float | None]:
    """Seconds until the server closed each socket (None: still open after limit); the drip
    sockets send one byte of a request head every 0.4 s meanwhile."""
    start = time.monotonic()
    closed: dict[socket.socket, float] = {}
    selector = selectors.DefaultSelector()
    for s in sockets:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
    next_drip = start
    while len(closed) < len(sockets) and time.monotonic() - start < limit:
        if time.monotonic() >= next_drip:
            for s in drip:
                if s not in closed:
                    with contextlib.suppress(OSError):
                        s.send(b"X")
            next_drip += 0.4
        for key, _ in selector.select(timeout=0.1):
            s = key.fileobj  # type: ignore[assignment]
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                closed[s] = time.monotonic() - start
                selector.unregister(s)
    selector.close()
    return [closed.get(s) for s in sockets]


def test_idle_and_half_open_connections_neither_stall_pages_nor_stay(cli: Cli) -> None:
    """300 connections that send nothing or half a request head, and some that drip one, hold
    no thread, leave a page answered, and are closed once the request timeout has passed."""
    before = _threads(cli.pid)
    silent = [socket.create_connection(("127.0.0.1", cli.port)) for _ in range(150)]
    half = [socket.create_connection(("127.0.0.1", cli.port)) for _ in range(140)]
    for s in half:
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    drip = [socket.create_connection(("127.0.0.1", cli.port)) for _ in range(10)]
    for s in drip:
        s.sendall(b"GET /index.html HTTP/1.1\r\nX-Drip: ")
    everyone = silent + half + drip
    try:
        status, _, body = _get(cli.base + "issues/2026-w47/index.html")
        assert status == 200 and b"Coding agents ship to everyone" in body
        assert _threads(cli.pid) <= before + 4  # http.server: one thread per connection
        closed = _closed_after(everyone, drip, REQUEST_TIMEOUT + 8)
    finally:
        for s in everyone:
            s.close()
    still_open = sum(t is None for t in closed)
    assert still_open == 0, f"{still_open} of {len(everyone)} connections were never closed"
    assert min(t for t in closed if t is not None) >= REQUEST_TIMEOUT / 2
    assert _get(cli.base)[0] == 200


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("pages")
    site = _publish(tmp, "https://digest.example.com/")
    (site / "issues" / ".secret").write_text("hidden")
    env = make_environment()
    page = {"site_title": "digest", "base_url": "https://digest.example.com/"}
    with running(
        make_app(site, env, page, lambda t, a: t == "good", ServeSettings()), ServeSettings()
    ) as base:
        yield base


def test_pages_carry_the_security_headers_and_behave_as_before(site: str) -> None:
    status, headers, body = _get(site)
    assert status == 200 and body.startswith(b"<!DOCTYPE html>")
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Server"] is None
    # a folder serves its index.html; without its slash it redirects there first
    assert _get(site + "issues/2026-w47/")[2] == _get(site + "issues/2026-w47/index.html")[2]
    assert _get(site + "issues/2026-w47")[2] == _get(site + "issues/2026-w47/")[2]
    assert _get(site + "static/style.css")[1]["Content-Type"] == "text/css; charset=utf-8"
    assert _get(site + "feed.xml")[1]["Content-Type"] == "application/xml"
    # a browser's second visit gets 304 and no body
    etag = _get(site + "index.html")[1]["ETag"]
    assert _get(site + "index.html", headers={"If-None-Match": etag})[0] == 304
    for outside in ("nope.html", "issues/.secret", "..%2f..%2fetc%2fpasswd", "static/"):
        status, headers, _ = _get(site + outside)
        assert status == 404, outside
        assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert _get(site + "index.html", data=b"x=1")[0] == 405


def test_head_answers_without_a_body(site: str) -> None:
    request = urllib.request.Request(site + "index.html", method="HEAD")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert int(response.headers["Content-Length"]) > 1000
        assert response.read() == b""


def test_unsubscribe_form_answers_as_before_and_refuses_a_huge_form(site: str) -> None:
    assert _get(site + "unsubscribe/?token=good")[0] == 200
    assert _get(site + "unsubscribe?token=good")[0] == 200
    status, headers, body = _get(site + "unsubscribe/?token=forged")
    assert status == 400 and b"not valid" in body
    assert headers["Cache-Control"] == "no-store"
    assert _get(site + "unsubscribe/", data=b"token=good")[0] == 200
    assert _get(site + "unsubscribe/", data=b"token=good&pad=" + b"x" * 5000)[0] == 413


def test_a_huge_request_head_is_refused(site: str) -> None:
    host, port = site.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 20_000 + b"\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_a_folder_redirect_stays_on_the_site(site: str) -> None:
    for path, location in (("issues/2026-w47", "2026-w47/"), ("/issues", "issues/")):
        request = urllib.request.Request(site + path.lstrip("/"))
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as moved:
            opener.open(request, timeout=10)
        assert moved.value.code == 301 and moved.value.headers["Location"] == location
    host, port = site.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET //issues HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = s.recv(65536)
    assert b"\r\nlocation: issues/\r\n" in answer.lower()  # never //issues/, another host


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
