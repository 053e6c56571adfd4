"""`digest serve`: the built site over HTTP, and the unsubscribe page (POST acts, GET asks)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import Environment

from digest.publish.render import render

# token, apply -> whether the token is valid (and, with apply, the subscriber is now out).
Unsubscriber = Callable[[str, bool], bool]
_MAX_FORM = 4096
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _Handler(SimpleHTTPRequestHandler):
    env: Environment
    page: dict[str, Any]
    unsubscribe: Unsubscriber

    def log_message(self, format: str, *args: object) -> None:
        return None

    def end_headers(self) -> None:
        for name, value in _HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def _is_unsubscribe(self) -> bool:
        return urlsplit(self.path).path.rstrip("/") == "/unsubscribe"

    def _token(self, body: str = "") -> str:
        query = parse_qs(urlsplit(self.path).query)
        form = parse_qs(body)
        return (query.get("token") or form.get("token") or [""])[0]

    def _answer(self, state: str, token: str, status: HTTPStatus) -> None:
        html = render(self.env, "unsubscribe.html", state=state, token=token, **self.page)
        data = html.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if not self._is_unsubscribe():
            super().do_GET()
            return
        token = self._token()
        if self.unsubscribe(token, False):
            self._answer("confirm", token, HTTPStatus.OK)
        else:
            self._answer("invalid", "", HTTPStatus.BAD_REQUEST)

    def do_POST(self) -> None:
        if not self._is_unsubscribe():
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED)
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_FORM:
            self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        token = self._token(body)
        if self.unsubscribe(token, True):
            self._answer("done", "", HTTPStatus.OK)
        else:
            self._answer("invalid", "", HTTPStatus.BAD_REQUEST)


def make_server(
    site_dir: Path,
    env: Environment,
    page: dict[str, Any],
    unsubscribe: Unsubscriber,
    host: str = "127.0.0.1",
    port: int = 8000,
) -> ThreadingHTTPServer:
    """A server for the site folder; page holds site_title and base_url for the templates."""
    handler = type(
        "Handler",
        (_Handler,),
        {"env": env, "page": {**page, "root": "../"}, "unsubscribe": staticmethod(unsubscribe)},
    )
    return ThreadingHTTPServer((host, port), partial(handler, directory=str(site_dir)))
