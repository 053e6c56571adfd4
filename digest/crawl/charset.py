"""A feed's text decoded as declared: a bad byte is replaced, never a reason to guess again."""

from __future__ import annotations

import codecs
import re
from dataclasses import replace

from digest.crawl.http import Fetched

# Longest first: the UTF-32 little-endian mark starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARATION = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_DECLARED_TEXT = re.compile(r"(<\?xml[^>]*?encoding\s*=\s*[\"'])[A-Za-z0-9._:-]+([\"'])")
# Control characters XML 1.0 forbids anywhere (NUL among them): parsers stop at the first.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = bytes(c for c in range(32) if c not in b"\t\n\r")


def repaired(fetched: Fetched) -> tuple[Fetched, list[str]]:
    """The document as the parsers should read it, and what had to be repaired in it.

    The encoding is the one declared (byte-order mark, then the HTTP charset, then the XML
    declaration, as RFC 7303 orders them; the first that decodes cleanly wins), else UTF-8,
    XML's default. When none decodes cleanly, the first is used and only the bytes wrong in
    it are replaced: one stray byte must not turn every accented title into mojibake by a
    guess at another encoding. A document that does not name its encoding itself (only the
    server's charset, or nothing, says UTF-8) and is mostly not UTF-8 is a legacy 8-bit feed:
    it is left to feedparser's guess. Characters XML forbids, such as NUL, are removed. A
    repaired document is handed on as UTF-8.
    """
    body = fetched.body
    if b"\x00" in body[:4]:
        return fetched, []  # UTF-16 or UTF-32 without a byte-order mark: feedparser knows it
    bom, declaration = _own_declaration(body)
    declared = _known([*bom, *_http_charset(fetched.content_type), *declaration])
    candidates = declared or ["utf-8"]
    chosen, text = "", ""
    for name in candidates:
        if (decoded := _decoded(body, name)) is not None:
            chosen, text = name, decoded
            break
    warnings = []
    if not chosen:
        chosen = candidates[0]
        if not (bom or declaration) and chosen == "utf-8" and not _mostly_utf8(body):
            return fetched, []
        text = body.decode(chosen, errors="replace")
        bad = text.count("\ufffd")
        warnings.append(
            f"{fetched.url} has {_count(bad, 'byte')} that {'is' if bad == 1 else 'are'} not "
            f"valid {chosen}; replaced with \ufffd, the rest was read"
        )
    # Every encoding writes a control character with a control byte: without one, none.
    if len(body.translate(None, _CONTROL_BYTES)) < len(body) and _FORBIDDEN.search(text):
        forbidden = len(_FORBIDDEN.findall(text))
        text = _FORBIDDEN.sub("", text)
        warnings.append(
            f"{fetched.url} has {_count(forbidden, 'control character')} (such as NUL) that "
            "XML does not allow; removed, the rest was read"
        )
    if not warnings:
        return fetched, []
    text = _DECLARED_TEXT.sub(r"\g<1>utf-8\g<2>", text.lstrip("\ufeff"), count=1)
    media = fetched.content_type.partition(";")[0].strip()
    content_type = f"{media}; charset=utf-8" if media else ""
    return replace(fetched, body=text.encode("utf-8"), content_type=content_type), warnings


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _own_declaration(body: bytes) -> tuple[list[str], list[str]]:
    """The encodings the document names itself: by its byte-order mark, by its XML
    declaration."""
    bom = [name for mark, name in _BOMS if body.startswith(mark)][:1]
    match = _DECLARATION.match(body.removeprefix(codecs.BOM_UTF8)[:200])
    return bom, [match[1].decode("ascii")] if match else []


def _http_charset(content_type: str) -> list[str]:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return [value.strip().strip("\"'")]
    return []


def _known(names: list[str]) -> list[str]:
    """The encodings Python knows among `names`, by their codec names, each once."""
    known: list[str] = []
    for name in names:
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            continue
        if codec not in known:
            known.append(codec)
    return known


def _decoded(body: bytes, name: str) -> str | None:
    try:
        return body.decode(name)
    except UnicodeDecodeError:
        return None


def _mostly_utf8(body: bytes) -> bool:
    """True when the body's valid UTF-8 characters beyond ASCII outnumber its bad bytes."""
    text = body.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    beyond_ascii = len(text) - len(text.encode("ascii", errors="ignore"))
    return beyond_ascii - bad > bad
