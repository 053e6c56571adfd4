"""A story's line of who reported it and its threads, and what people said, as HTML or text."""

from __future__ import annotations

from collections.abc import Collection

from markupsafe import Markup, escape

from digest.models import Remark, Reporting, Thread

ORIGINS = {"lab": "From the lab", "first-party": "From the project", "paper": "From the paper"}


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def thread_label(thread: Thread) -> str:
    """'HN (318 points, 120 comments)'; the place alone when its source gave no counts."""
    if not thread.score and not thread.comments:
        return thread.place
    return f"{thread.place} ({_count(thread.score, 'point')}, {_count(thread.comments, 'comment')})"


def _by_place(reporting: Reporting) -> dict[str, list[Thread]]:
    places: dict[str, list[Thread]] = {}
    for t in reporting.threads:
        places.setdefault(t.place, []).append(t)
    return places


def linked_threads(reporting: Reporting | None) -> list[Thread]:
    """The threads the line links: each community's busiest."""
    return [t[0] for t in _by_place(reporting).values()] if reporting is not None else []


def reported_parts(reporting: Reporting | None) -> list[tuple[str, str]]:
    """The line's parts in reading order, each with the thread it links ('' for none)."""
    if reporting is None:
        return []
    parts: list[tuple[str, str]] = []
    if reporting.only:
        parts.append((f"unconfirmed: only {reporting.only}", ""))
    if reporting.origin in ORIGINS:
        parts.append((ORIGINS[reporting.origin], ""))
    if reporting.outlets:
        parts.append((_count(reporting.outlets, "outlet"), ""))
    for threads in _by_place(reporting).values():
        parts.append((thread_label(threads[0]), threads[0].url))
        if len(threads) > 1:
            parts.append((f"{len(threads) - 1} more on {threads[0].place}", ""))
    return parts


def reported_text(reporting: Reporting | None) -> str:
    """'From the lab · 2 outlets · r/LocalLLaMA (412 points, 30 comments) · HN (...)'."""
    return " · ".join(text for text, _ in reported_parts(reporting))


def reported(reporting: Reporting | None, linked: Collection[str] = ()) -> Markup:
    """The line as HTML: each thread linked, unless the entry links it already (`linked`: a
    picture post is cited by its thread), an unconfirmed story marked."""
    pieces = []
    for text, url in reported_parts(reporting):
        if url.startswith(("https://", "http://")) and url.strip() not in linked:
            pieces.append(Markup('<a href="{}">{}</a>').format(url, text))
        elif text.startswith("unconfirmed"):
            pieces.append(Markup('<strong class="unconfirmed">{}</strong>').format(text))
        else:
            pieces.append(escape(text))
    return Markup(" · ").join(pieces)


def said_text(remark: Remark) -> str:
    """'"A quoted sentence." (HN)'."""
    return f"\u201c{remark.text}\u201d ({remark.place})"


def said(remarks: tuple[Remark, ...]) -> Markup:
    """What people said as HTML: each quote followed by a link to its thread."""
    quotes = [
        Markup('\u201c{}\u201d (<a href="{}">{}</a>)').format(r.text, r.thread, r.place)
        if r.thread.startswith(("https://", "http://"))
        else escape(said_text(r))
        for r in remarks
    ]
    return Markup(" ").join(quotes)
