"""Source health between crawls: when a source is due, and how long a failing one waits."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from digest.models import Source, SourceHealth

BACKOFF_BASE = 300.0  # seconds after the first failure; doubled after each next one


def is_due(source: Source, health: SourceHealth | None, now: datetime) -> bool:
    """True when the source's interval (or its backoff) has passed."""
    return health is None or health.next_attempt is None or health.next_attempt <= now


def backoff(failures: int, cap: float, rng: random.Random) -> float:
    """Seconds a source waits after `failures` failures in a row: doubling, capped, jittered."""
    delay = min(cap, BACKOFF_BASE * float(2 ** min(failures - 1, 30)))
    return min(cap, delay * rng.uniform(0.8, 1.2))


def succeeded(
    source: Source,
    health: SourceHealth | None,
    now: datetime,
    new: int,
    validated: tuple[str, str, str, datetime | None],
    warning: str = "",
) -> SourceHealth:
    """The state after a successful visit (a 304 is one): `validated` is the validators'
    URL, ETag, Last-Modified and when they came with a whole document; `warning` says what
    was salvaged from a faulty one."""
    previous = health or SourceHealth(source.name)
    url, etag, last_modified, at = validated
    return replace(
        previous,
        last_attempt=now,
        last_success=now,
        last_error="",
        failures=0,
        next_attempt=now + timedelta(seconds=source.interval),
        last_new=new,
        validated_url=url,
        etag=etag,
        last_modified=last_modified,
        validated_at=at,
        last_warning=warning,
    )


def failed(
    source: Source,
    health: SourceHealth | None,
    now: datetime,
    error: str,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> SourceHealth:
    """The state after a failed visit: one more failure, and a longer wait."""
    previous = health or SourceHealth(source.name)
    failures = previous.failures + 1
    wait = backoff(failures, cap, rng or random.Random())
    if retry_after is not None:
        wait = max(wait, retry_after)
    return replace(
        previous,
        last_attempt=now,
        last_error=error,
        failures=failures,
        next_attempt=now + timedelta(seconds=wait),
    )
