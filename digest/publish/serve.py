"""`digest serve`: the site and its forms (subscribe, confirm, unsubscribe, topics) on uvicorn.

One event loop serves every connection (uvicorn with httptools, and uvloop where installed);
store and SMTP work runs on a bounded pool of threads. Every connection has
`serve.request_timeout` seconds to send a whole request (digest.publish.connections), so idle
and half-open connections cannot pile up, and past `serve.max_connections` a request is
answered 503.
"""

from __future__ import annotations

import asyncio
import math
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import parse_qs

import anyio.to_thread
import uvicorn
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digest.addresses import parse_address
from digest.errors import SubscriberError
from digest.publish.connections import with_deadline
from digest.publish.pages import Moved, SiteFiles
from digest.publish.render import render
from digest.publish.signup import SignupDesk

# token, apply -> whether the token is valid (and, with apply, the subscriber is now out).
Unsubscriber = Callable[[str, bool], bool]
T = TypeVar("T")
_MAX_FORM = 4096
_BACKLOG = 2048
_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class ServeLimits(Protocol):
    """How the server bounds its work (config's [serve] section is one)."""

    @property
    def request_timeout(self) -> float:
        """Seconds from connecting (or the last answer) to a whole request."""

    @property
    def max_connections(self) -> int:
        """Connections served at once; past it the server answers 503."""

    @property
    def threads(self) -> int:
        """Threads for store and SMTP work."""

    @property
    def trusted_proxies(self) -> tuple[str, ...]:
        """Addresses whose X-Forwarded-For is believed."""


class Preferences(Protocol):
    """What the topics page needs: whom a signed link names, the topics, and their choice."""

    def subscriber(self, token: str) -> int | None:
        """The subscriber a valid token names; None for a forged or mangled one."""

    def choices(self) -> list[tuple[str, str]]:
        """(slug, name) of every topic a reader may choose."""

    def chosen(self, subscriber_id: int) -> tuple[str, ...]:
        """The slugs the subscriber chose; () for every topic."""

    def choose(self, subscriber_id: int, slugs: Sequence[str]) -> None:
        """Keep the subscriber's choice."""


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
    """The pages and the unsubscribe link's handler, bound to the site folder and templates."""

    def __init__(
        self,
        site_dir: Path,
        env: Environment,
        page: dict[str, Any],
        unsubscribe: Unsubscriber,
        settings: ServeLimits,
    ) -> None:
        self.files = SiteFiles(site_dir)
        self.env = env
        self.page = page
        self.unsubscriber = unsubscribe
        self.limiter = anyio.CapacityLimiter(settings.threads)

    async def blocking(self, work: Callable[..., T], *args: object) -> T:
        return await anyio.to_thread.run_sync(work, *args, limiter=self.limiter)

    def page_for(self, name: str, status: int, root: str, **context: Any) -> Response:
        html = render(self.env, name, **self.page, root=root, **context)
        return Response(
            html, status, {"Cache-Control": "no-store"}, media_type="text/html; charset=utf-8"
        )

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
        token = request.query_params.get("token") or form.get("token", "")
        apply = request.method == "POST"
        if not await self.blocking(self.unsubscriber, token, apply):
            return self.page_for("unsubscribe.html", 400, "../", state="invalid", token="")
        state = "done" if apply else "confirm"
        return self.page_for("unsubscribe.html", 200, "../", state=state, token=token)


class _Signups:
    """The subscribe form's handler and the confirmation links' page."""

    def __init__(self, site: _Site, desk: SignupDesk) -> None:
        self.site = site
        self.desk = desk

    async def subscribe(self, request: Request) -> Response:
        form = await _form(request)
        context: dict[str, Any] = {"token": "", "address": ""}
        # behind a trusted proxy, uvicorn has put the forwarded-for address here
        client = request.client.host if request.client else ""
        if not self.desk.client_allowed(client):
            response = self.site.page_for("subscribe.html", 429, "../", state="busy", **context)
            response.headers["Retry-After"] = "3600"
            return response
        try:
            context["address"] = parse_address(form.get("email", ""))[1]
        except SubscriberError:
            return self.site.page_for("subscribe.html", 400, "../", state="bad", **context)
        await self.site.blocking(self.desk.request, context["address"])
        return self.site.page_for("subscribe.html", 200, "../", state="sent", **context)

    async def confirm(self, request: Request) -> Response:
        form = await _form(request)
        token = request.query_params.get("token") or form.get("token", "")
        if request.method == "POST":
            address = await self.site.blocking(self.desk.confirm, token)
            state = "confirmed"
        else:
            address = await self.site.blocking(self.desk.pending_address, token)
            state = "confirm"
        if address is None:
            state, token, address = "invalid", "", ""
        status = 400 if state == "invalid" else 200
        return self.site.page_for(
            "subscribe.html", status, "../../", state=state, token=token, address=address
        )


class _Topics:
    """The topics page of a signed link: a checkbox per topic, saved on POST."""

    def __init__(self, site: _Site, preferences: Preferences) -> None:
        self.site = site
        self.preferences = preferences

    async def page(self, request: Request) -> Response:
        form = await _form(request)
        token = request.query_params.get("token") or form.get("token", "")
        who = await self.site.blocking(self.preferences.subscriber, token)
        if who is None:
            return self.site.page_for(
                "preferences.html", 400, "../", state="invalid", token="", topics=[], chosen=()
            )
        topics = await self.site.blocking(self.preferences.choices)
        state = "form"
        if request.method == "POST":
            picked = [slug for slug, _ in topics if form.get(f"topic-{slug}") == "on"]
            await self.site.blocking(self.preferences.choose, who, picked)
            state = "saved"
        chosen = await self.site.blocking(self.preferences.chosen, who)
        names = [name for slug, name in topics if slug in chosen]
        return self.site.page_for(
            "preferences.html",
            200,
            "../",
            state=state,
            token=token,
            topics=topics,
            chosen=chosen,
            chosen_names=names,
        )


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form in the body (first value of each field); 413 over 4 KiB."""
    if request.method != "POST":
        return {}
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > _MAX_FORM:
        raise HTTPException(413, "The form is too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            raise HTTPException(413, "The form is too large")
    fields = parse_qs(body.decode("utf-8", errors="replace"))
    return {name: values[0] for name, values in fields.items()}


def make_app(
    site_dir: Path,
    env: Environment,
    page: dict[str, Any],
    unsubscribe: Unsubscriber,
    settings: ServeLimits,
    signups: SignupDesk | None = None,
    preferences: Preferences | None = None,
) -> ASGIApp:
    """The site folder as a web app; page holds site_title and base_url for the templates."""
    site = _Site(site_dir, env, page, unsubscribe, settings)
    forms = ["GET", "HEAD", "POST"]
    routes = [
        Route("/unsubscribe/", site.unsubscribe, methods=forms),
        Route("/unsubscribe", site.unsubscribe, methods=forms),
    ]
    if signups is not None:
        desk = _Signups(site, signups)
        routes.append(Route("/subscribe/", desk.subscribe, methods=["POST"]))
        routes.append(Route("/subscribe/confirm/", desk.confirm, methods=forms))
    if preferences is not None:
        topics = _Topics(site, preferences)
        routes.append(Route("/preferences/", topics.page, methods=forms))
    routes.append(Route("/{path:path}", site.static, methods=["GET", "HEAD"]))
    return _SecurityHeaders(Starlette(routes=routes))


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host and port (0: any free port), listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(_BACKLOG)
    return sock


def _server(app: ASGIApp, settings: ServeLimits) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        http=with_deadline(settings.request_timeout),
        loop="auto",  # uvloop where installed
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        backlog=_BACKLOG,
        timeout_keep_alive=math.ceil(settings.request_timeout),
        limit_concurrency=settings.max_connections,
        proxy_headers=True,
        forwarded_allow_ips=list(settings.trusted_proxies),
    )
    return uvicorn.Server(config)


def _enough_file_descriptors(connections: int) -> None:
    """Raise the soft limit on open files to fit the connections (systemd's default is 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def serve(app: ASGIApp, sock: socket.socket, settings: ServeLimits) -> None:
    """Serve until SIGINT or SIGTERM; answers in flight are finished first."""
    _enough_file_descriptors(settings.max_connections)
    _server(app, settings).run(sockets=[sock])


@contextmanager
def running(
    app: ASGIApp, settings: ServeLimits, sock: socket.socket | None = None
) -> Iterator[str]:
    """The app served from a thread while the block runs (on sock, or a free loopback port);
    yields its base URL."""
    sock = sock or listening_socket("127.0.0.1", 0)
    host, port = sock.getsockname()[:2]
    server = _server(app, settings)
    thread = threading.Thread(target=asyncio.run, args=(server.serve(sockets=[sock]),), daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            time.sleep(0.01)
        yield f"http://{host}:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)
