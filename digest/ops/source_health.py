"""Source health from the crawl runs in the ledger: last success, failing since, last error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from digest.ops.alerts import Alert
from digest.pipeline import RunLog, Store

HISTORY = timedelta(days=14)


@dataclass(frozen=True)
class SourceStatus:
    """How one source has fared in recent crawls, as `digest status` shows it."""

    source: str
    last_ok: datetime | None
    failing_since: datetime | None  # the first failure after the last success
    last_error: str | None
    failures: int  # consecutive
    next_attempt: datetime | None  # not fetched before this (its interval, or backoff)
    new_articles: int  # over the history window
    warning: str = ""  # what the last successful crawl salvaged from a faulty document


@dataclass
class _Tally:
    last_ok: datetime | None = None
    failing_since: datetime | None = None
    last_error: str | None = None


def source_statuses(
    store: Store, ledger: RunLog, names: Sequence[str], now: datetime
) -> list[SourceStatus]:
    """The named sources and any other crawled lately, from the crawl stage's health table,
    with since when each failing source has failed, from the crawl runs in the ledger."""
    since = now - HISTORY
    runs = ledger.runs_since("crawl", since)
    health = store.source_health()
    tally: dict[str, _Tally] = {}
    for run in runs:  # oldest first
        when = run.ended_at or run.started_at
        for name in run.sources:
            t = tally.setdefault(name, _Tally())
            if (error := run.errors.get(name)) is None:
                t.last_ok, t.failing_since = when, None
            else:
                t.failing_since = t.failing_since or when
                t.last_error = error
    new = ledger.new_articles_by_source(since)
    statuses = []
    for name in dict.fromkeys([*names, *health, *tally]):
        h, t = health.get(name), tally.get(name, _Tally())
        if h is None:
            statuses.append(
                SourceStatus(
                    name, t.last_ok, t.failing_since, t.last_error, 0, None, new.get(name, 0)
                )
            )
            continue
        failing_since = (t.failing_since or h.last_attempt) if h.failures else None
        statuses.append(
            SourceStatus(
                name,
                h.last_success,
                failing_since,
                h.last_error or None,
                h.failures,
                h.next_attempt,
                new.get(name, 0),
                h.last_warning,
            )
        )
    return statuses


def failing_alerts(statuses: Sequence[SourceStatus], hours: float, now: datetime) -> list[Alert]:
    """One alert per source that has failed every crawl for `hours`, once per failing spell."""
    alerts = []
    for h in statuses:
        if h.failing_since is None or now - h.failing_since < timedelta(hours=hours):
            continue
        since = h.failing_since.strftime("%Y-%m-%d %H:%M UTC")
        alerts.append(
            Alert(
                key=f"source:{h.source}:{h.failing_since.isoformat()}",
                event="source_failing",
                subject=f"digest: source {h.source!r} has failed since {since}",
                text=f"Every crawl of {h.source!r} since {since} failed. Last error: "
                f"{h.last_error}\nFix its entry in sources.yaml or remove it; "
                "`digest status` shows every source.",
            )
        )
    return alerts
