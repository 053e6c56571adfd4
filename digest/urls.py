"""Canonical article URLs, so one article reached by many links is stored once."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, unquote_plus, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST_PREFIXES = ("www.", "m.", "amp.")
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "ref_url",
        "si",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wickedid",
        "cmpid",
    }
)
_TRACKING_PREFIXES = ("utm_",)
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-F]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# RFC 3986 characters that may stay literal in each part; everything else is percent-encoded.
_PATH_SAFE = "/:@!$&'()*+,;="
_QUERY_SAFE = "/?:@!$'()*+,;="


def canonical_url(url: str) -> str:
    """The one URL we file an article under: https, bare host, no tracking, no AMP.

    Raises ValueError when `url` is not an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError(f"{url!r} is not an absolute http(s) URL")
    port = parts.port
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    # An explicit non-default port on http almost always serves plain http, so keep it.
    if scheme == "http" and port is None:
        scheme = "https"
    while host.startswith(_HOST_PREFIXES) and "." in host.split(".", 1)[1]:
        host = host.split(".", 1)[1]
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    if "@" in parts.netloc:
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    path, query = _canonical_path(parts.path), _canonical_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def article_id(url: str) -> str:
    """A short id that stays the same for every link to the same article."""
    return canonical_id(canonical_url(url))


def canonical_id(canonical: str) -> str:
    """`article_id` of a URL that is canonical already (canonical_url is idempotent)."""
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _canonical_path(path: str) -> str:
    path = _normalise_escapes(path, _PATH_SAFE).rstrip("/")
    while path.endswith("/amp"):
        path = path.removesuffix("/amp").rstrip("/")
    return path or "/"


def _canonical_query(query: str) -> str:
    kept = []
    for param in query.split("&"):
        param = _normalise_escapes(param, _QUERY_SAFE + "=")
        name = unquote_plus(param.split("=", 1)[0]).lower()
        if not param or name == "amp" or param.lower() == "output=amp":
            continue
        if name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
            continue
        kept.append(param)
    # By name only: the order of a repeated parameter's values can matter to the site.
    return "&".join(sorted(kept, key=lambda param: param.split("=", 1)[0]))


def _normalise_escapes(part: str, safe: str) -> str:
    """Decode escaped unreserved characters, upper-case the other escapes, escape the rest."""

    def decode_if_unreserved(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    part = _STRAY_PERCENT.sub("%25", _ESCAPE.sub(decode_if_unreserved, part))
    return quote(part, safe=safe + "%")
