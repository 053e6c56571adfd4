"""Reading the JSON that forum APIs (Algolia, Reddit, Lobsters) answer with."""

from __future__ import annotations

import json
from typing import Any

from digest.crawl.http import Fetched
from digest.errors import FeedError


def load_json(fetched: Fetched, what: str) -> Any:
    """The decoded JSON body; FeedError naming the source's API when it is not JSON."""
    try:
        return json.loads(fetched.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(
            f"{fetched.url} did not return {what} JSON ({exc}); check the source's url"
        ) from None


def shape_error(fetched: Fetched, what: str, expected: str) -> FeedError:
    return FeedError(
        f"{fetched.url} answered JSON, but not in {what}'s shape (expected {expected}); "
        "check the source's url"
    )
