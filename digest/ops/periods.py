"""Which week's issue is due: the weekly cron expression, read in its time zone, against a clock."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from digest.config import ScheduleSettings
from digest.pipeline import Week

# A weekly schedule fired at least once in the last 8 days; a missed fire older than that
# belongs to a week whose issue would be stale anyway.
LOOKBACK = timedelta(days=8)


def weekly_trigger(schedule: ScheduleSettings) -> CronTrigger:
    return CronTrigger.from_crontab(schedule.weekly, timezone=ZoneInfo(schedule.timezone))


def last_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` when the trigger fired (or would have)."""
    fire = trigger.get_next_fire_time(None, now - LOOKBACK)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


def next_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    fire: datetime | None = trigger.get_next_fire_time(None, now)
    return fire


def week_of(moment: datetime, schedule: ScheduleSettings) -> date:
    """The Monday of the week an issue made at `moment` covers, per [schedule] issue_week."""
    week = Week.containing(moment, ZoneInfo(schedule.timezone))
    return (week.previous() if schedule.issue_week == "previous" else week).monday


def due_week(schedule: ScheduleSettings, now: datetime) -> date | None:
    """The week whose issue the most recent weekly fire asked for, or None if none fired lately."""
    fire = last_fire(weekly_trigger(schedule), now)
    return week_of(fire, schedule) if fire is not None else None
