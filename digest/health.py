"""Source health from the crawl runs in the ledger: last success, failing since, last error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from digest.alerts import Alert
from digest.store.ledger import Ledger

HISTORY = timedelta(days=14)


@dataclass(frozen=True)
class SourceHealth:
    """How one source has fared in recent crawls."""

    source: str
    last_attempt: datetime | None
    last_ok: datetime | None
    failing_since: datetime | None  # the first failure after the last success
    last_error: str | None
    new_articles: int  # over the history window

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


@dataclass
class _Tally:
    last_attempt: datetime | None = None
    last_ok: datetime | None = None
    failing_since: datetime | None = None
    last_error: str | None = None


def source_health(ledger: Ledger, names: Sequence[str], now: datetime) -> list[SourceHealth]:
    """Health of the named sources and of any other source crawled in the last two weeks.

    This reads the per-source outcomes each crawl run records. A dedicated source-health
    table (crawl stage) can replace this body; callers only need the SourceHealth values.
    """
    since = now - HISTORY
    runs = ledger.runs_since("crawl", since)
    order = list(dict.fromkeys([*names, *(s for r in runs for s in r.sources)]))
    tally = {n: _Tally() for n in order}
    for run in runs:  # oldest first
        when = run.ended_at or run.started_at
        for name in run.sources:
            t = tally[name]
            t.last_attempt = when
            error = run.errors.get(name)
            if error is None:
                t.last_ok, t.failing_since = when, None
            else:
                t.failing_since = t.failing_since or when
                t.last_error = error
    new = ledger.new_articles_by_source(since)
    return [
        SourceHealth(n, t.last_attempt, t.last_ok, t.failing_since, t.last_error, new.get(n, 0))
        for n, t in tally.items()
    ]


def failing_alerts(health: Sequence[SourceHealth], hours: float, now: datetime) -> list[Alert]:
    """One alert per source that has failed every crawl for `hours`, once per failing spell."""
    alerts = []
    for h in health:
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
