"""The time digest takes as now: the system clock, or DIGEST_NOW when replaying past weeks."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from digest.errors import ConfigError

NOW_VARIABLE = "DIGEST_NOW"


def now() -> datetime:
    """The current time in UTC; DIGEST_NOW (ISO 8601) replaces it for replays and tests."""
    text = os.environ.get(NOW_VARIABLE, "").strip()
    if not text:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(
            f"{NOW_VARIABLE}={text!r} is not an ISO 8601 time; write it like "
            "2025-07-14T00:00:00Z, or unset it to use the system clock"
        ) from exc
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
