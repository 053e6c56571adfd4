"""`digest serve`: the built site and its forms (subscribe, confirm, unsubscribe) on Hypercorn.

Hypercorn closes a connection that has not sent a whole request head within the header
timeout, counted from when it opens or from its last answer, so idle and half-open
connections cannot pile up; it caps a request head at 16 KiB. One event loop serves every
connection; store and SMTP work runs on a bounded pool of threads.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

import anyio.to_thread
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digest.config import ServeSettings
from digest.errors import SubscriberError
from digest.publish.pages import Moved, SiteFiles
from digest.publish.render import render
from digest.publish.signup import SignupDesk
from digest.store.mailing import parse_address

# token, apply -> whether the token is valid (and, with apply, the subscriber is now out).
Unsubscriber = Callable[[str, bool], bool]
T = TypeVar("T")
_MAX_FORM = 4096
_BACKLOG = 1024
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class _SecurityHeaders:
    """Adds the site's Content-Security-Policy and friends to every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


class _Site:
    """The request handlers, bound to the site folder, the templates and the store."""

    def __init__(
        self,
        site_dir: Path,
        env: Environment,
        page: dict[str, Any],
        unsubscribe: Unsubscriber,
        signups: SignupDesk | None,
        settings: ServeSettings,
    ) -> None:
        self.files = SiteFiles(site_dir)
        self.env = env
        self.page = page
        self.unsubscriber = unsubscribe
        self.signups = signups
        self.trusted = frozenset(settings.trusted_proxies)
        self.limiter = anyio.CapacityLimiter(settings.threads)

    async def _blocking(self, work: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(work, *args, limiter=self.limiter)

    def _page(self, name: str, status: int, root: str, **context: Any) -> Response:
        html = render(self.env, name, **self.page, root=root, **context)
        return Response(
            html, status, {"Cache-Control": "no-store"}, media_type="text/html; charset=utf-8"
        )

    def _client(self, request: Request) -> str:
        """The client's address; behind a trusted proxy, the last one it was forwarded for."""
        peer = request.client.host if request.client else ""
        if peer not in self.trusted:
            return peer
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        return next((h for h in reversed(hops) if h and h not in self.trusted), peer)

    async def static(self, request: Request) -> Response:
        found = self.files.find(request.url.path)
        if isinstance(found, Moved):
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(found.location + query, 301)
        if found is None:
            return PlainTextResponse("Not found", 404)
        headers = {"ETag": found.etag, "Last-Modified": found.last_modified}
        if found.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        if found.body is None:
            return FileResponse(found.path, headers=headers, media_type=found.content_type)
        body = b"" if request.method == "HEAD" else found.body
        headers["Content-Length"] = str(len(found.body))
        return Response(body, headers=headers, media_type=found.content_type)

    async def unsubscribe(self, request: Request) -> Response:
        form = await _form(request)
        if form is None:
            return PlainTextResponse("The form is too large", 413)
        token = request.query_params.get("token") or form.get("token", "")
        apply = request.method == "POST"
        if not await self._blocking(self.unsubscriber, token, apply):
            return self._page("unsubscribe.html", 400, "../", state="invalid", token="")
        state = "done" if apply else "confirm"
        return self._page("unsubscribe.html", 200, "../", state=state, token=token)

    async def subscribe(self, request: Request) -> Response:
        if self.signups is None:
            return PlainTextResponse("Sign-ups are not handled here", 404)
        form = await _form(request)
        if form is None:
            return PlainTextResponse("The form is too large", 413)
        context: dict[str, Any] = {"token": "", "address": ""}
        if not self.signups.client_allowed(self._client(request)):
            response = self._page("subscribe.html", 429, "../", state="busy", **context)
            response.headers["Retry-After"] = "3600"
            return response
        try:
            context["address"] = parse_address(form.get("email", ""))[1]
        except SubscriberError:
            return self._page("subscribe.html", 400, "../", state="bad", **context)
        await self._blocking(self.signups.request, context["address"])
        return self._page("subscribe.html", 200, "../", state="sent", **context)

    async def confirm(self, request: Request) -> Response:
        if self.signups is None:
            return PlainTextResponse("Sign-ups are not handled here", 404)
        form = await _form(request)
        if form is None:
            return PlainTextResponse("The form is too large", 413)
        token = request.query_params.get("token") or form.get("token", "")
        if request.method == "POST":
            address = await self._blocking(self.signups.confirm, token)
            state = "confirmed"
        else:
            address = await self._blocking(self.signups.pending_address, token)
            state = "confirm"
        if address is None:
            return self._page(
                "subscribe.html", 400, "../../", state="invalid", token="", address=""
            )
        return self._page(
            "subscribe.html", 200, "../../", state=state, token=token, address=address
        )


async def _form(request: Request) -> dict[str, str] | None:
    """The urlencoded form in the body (first value of each field); None when over 4 KiB."""
    if request.method != "POST":
        return {}
    if int(request.headers.get("content-length") or 0) > _MAX_FORM:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            return None
    fields = parse_qs(body.decode("utf-8", errors="replace"))
    return {name: values[0] for name, values in fields.items()}


def make_app(
    site_dir: Path,
    env: Environment,
    page: dict[str, Any],
    unsubscribe: Unsubscriber,
    signups: SignupDesk | None = None,
    settings: ServeSettings | None = None,
) -> ASGIApp:
    """The site folder as a web app; page holds site_title and base_url for the templates."""
    site = _Site(site_dir, env, page, unsubscribe, signups, settings or ServeSettings())
    forms = ["GET", "HEAD", "POST"]
    routes = [
        Route("/unsubscribe/", site.unsubscribe, methods=forms),
        Route("/unsubscribe", site.unsubscribe, methods=forms),
        Route("/subscribe/", site.subscribe, methods=["POST"]),
        Route("/subscribe/confirm/", site.confirm, methods=forms),
        Route("/{path:path}", site.static, methods=["GET", "HEAD"]),
    ]
    return _SecurityHeaders(Starlette(routes=routes))


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host and port (0: any free port), listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(_BACKLOG)
    return sock


def _config(sock: socket.socket, settings: ServeSettings) -> Config:
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]  # Hypercorn owns the socket from here on
    config.backlog = _BACKLOG
    config.keep_alive_timeout = settings.header_timeout
    config.read_timeout = settings.read_timeout
    config.include_server_header = False
    config.accesslog = None
    config.errorlog = logging.getLogger("digest.serve")
    return config


def serve(app: ASGIApp, sock: socket.socket, settings: ServeSettings) -> None:
    """Serve until SIGINT or SIGTERM; answers in flight are finished first."""
    asyncio.run(hypercorn_serve(app, _config(sock, settings)))  # type: ignore[arg-type]


@contextmanager
def running(
    app: ASGIApp, settings: ServeSettings | None = None, sock: socket.socket | None = None
) -> Iterator[str]:
    """The app served from a thread while the block runs (on sock, or a free loopback port);
    yields its base URL."""
    sock = sock or listening_socket("127.0.0.1", 0)
    host, port = sock.getsockname()[:2]
    config = _config(sock, settings or ServeSettings())
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        await hypercorn_serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{port}/"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
