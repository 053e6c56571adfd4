"""The week an issue covers: its ISO week, its window of articles and the zone it is read in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from digest.errors import AnalyzeError, ConfigError
from digest.store import Store


@dataclass(frozen=True)
class Week:
    """One ISO week: the issue `id` it makes (2026-w47) and its articles' window, from Monday
    00:00 to the next Monday 00:00 in `zone` (UTC for the issue's articles)."""

    monday: date
    zone: tzinfo = UTC

    @classmethod
    def parse(cls, text: str) -> Week:
        """The week written like 2026-W47 (or 2026w47)."""
        match = re.fullmatch(r"(\d{4})-?[Ww](\d{1,2})", text.strip())
        if not match:
            raise ConfigError(f"week {text!r} is not an ISO week; write it like 2026-W47")
        try:
            return cls(date.fromisocalendar(int(match[1]), int(match[2]), 1))
        except ValueError as exc:
            raise ConfigError(f"week {text!r} does not exist ({exc})") from exc

    @classmethod
    def containing(cls, moment: datetime | date, zone: tzinfo = UTC) -> Week:
        """The week that holds `moment`, read in `zone` (a date is taken as it is)."""
        day = moment.astimezone(zone).date() if isinstance(moment, datetime) else moment
        return cls(day - timedelta(days=day.weekday()), zone)

    @property
    def id(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-w{week:02d}"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(), self.zone)

    @property
    def end(self) -> datetime:
        """The first moment after the week: the next Monday 00:00."""
        return datetime.combine(self.monday + timedelta(days=7), time(), self.zone)

    def previous(self) -> Week:
        return Week(self.monday - timedelta(days=7), self.zone)


def parse_week(text: str) -> date:
    """The Monday of an ISO week written like 2026-W47."""
    return Week.parse(text).monday


def issue_id(monday: date) -> str:
    return Week(monday).id


def latest_week(store: Store) -> date:
    """The Monday of the week holding the newest stored article."""
    newest = store.newest_published()
    if newest is None:
        raise AnalyzeError("the store holds no articles yet; run `digest crawl` first")
    return Week.containing(newest.date()).monday
