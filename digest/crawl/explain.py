"""Errors a person can act on, from HTTP statuses and httpx exceptions."""

from __future__ import annotations

import ssl
from typing import Protocol

import httpx

from digest.errors import FetchError


class Timeouts(Protocol):
    """The waits a fetch gave up after (the crawl's FetchPolicy carries them)."""

    @property
    def connect_timeout(self) -> float: ...
    @property
    def read_timeout(self) -> float: ...


class BadStatus(FetchError):
    """The server answered with an error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def status_error(response: httpx.Response, url: str) -> None:
    """Raise a FetchError saying what an unsuccessful status means and what to do."""
    status = response.status_code
    if response.is_success:
        return
    said = f"{url} answered {status} {response.reason_phrase}".rstrip()
    if status in (401, 403):
        hint = "the site refuses us; it may block crawlers or need a login"
    elif status in (404, 410):
        hint = "the feed may have moved — find its new address and update sources.yaml"
    elif status == 429:
        hint = "the site is rate-limiting us; try again later"
    elif status >= 500:
        hint = "the site has a problem on its side; try again later"
    else:
        hint = "check the URL in sources.yaml"
    raise BadStatus(f"{said}; {hint}", status)


def explain(exc: Exception, url: httpx.URL, policy: Timeouts) -> FetchError:
    """A FetchError that tells a person what went wrong with `url` and what to try."""
    where = f"{url.host}:{_port(url)}"
    causes = _causes(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchError(
            f"timed out connecting to {where} after {policy.connect_timeout:g} s — "
            "is the site down? Try again later or check the URL in sources.yaml"
        )
    if isinstance(exc, httpx.ReadTimeout):
        return FetchError(
            f"{where} sent nothing for {policy.read_timeout:g} s while serving {url}; "
            "try again later or raise crawl.read_timeout in digest.toml"
        )
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return FetchError(
            f"connection refused by {where} — is the site down? Check the URL in sources.yaml"
        )
    if cert := next((c for c in causes if isinstance(c, ssl.SSLCertVerificationError)), None):
        return FetchError(
            f"the TLS certificate of {url.host} is not valid ({cert.verify_message}); "
            "the site is misconfigured or someone is intercepting the connection"
        )
    if isinstance(exc, httpx.ConnectError):
        return FetchError(
            f"could not connect to {where} ({causes[-1]}) — is the site down? "
            "Check the URL in sources.yaml"
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError(f"{where} broke the HTTP protocol while serving {url} ({exc})")
    return FetchError(f"could not fetch {url} ({type(exc).__name__}: {exc}); try again later")


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
