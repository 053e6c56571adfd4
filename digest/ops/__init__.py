"""Every stage run goes through here: recorded in the runs table, under the lock, stoppable."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import FrameType

from digest import clock
from digest.config import Settings
from digest.errors import DigestError
from digest.ops.alerts import Alert, Alerter
from digest.pipeline import RunLog, Store
from digest.processes import alive

_log = logging.getLogger("digest.ops")

Clock = Callable[[], datetime]
LOCK = "pipeline"
LOCK_TTL = timedelta(minutes=10)  # renewed every LOCK_TTL / 4 while held


def utcnow() -> datetime:
    return clock.now()


def new_owner() -> str:
    """Names the process (and the holder within it) in the runs table and the lock."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def holder_is_gone(owner: str) -> bool:
    """Whether a lock or run owner (see new_owner) is a process of this host that has ended."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process: only its lock's expiry tells
    return not alive(int(pid))


class StopFlag:
    """A stop request, safe to set from a signal handler.

    threading.Event is not: its set() takes a lock that the interrupted main thread may be
    holding inside Event.wait(), and the process would hang.
    """

    def __init__(self) -> None:
        self._requested = False

    def set(self) -> None:
        self._requested = True

    def is_set(self) -> bool:
        return self._requested

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking early when a stop is requested; True if requested."""
        until = time.monotonic() + seconds
        while not self._requested and (left := until - time.monotonic()) > 0:
            time.sleep(min(0.1, left))
        return self._requested


class Stopped(DigestError):
    """A stop (SIGTERM or SIGINT) was asked for; the run ended at a clean point."""


class LockBusy(DigestError):
    """Another process holds the store's lock."""


@dataclass
class RunNotes:
    """What a running stage has to say about itself; written to its runs row when it ends."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    status: str = "ok"
    alert: bool = True  # False when the failure is alerted another way (failing sources)


class Operations:
    """One process's handle on the ledger: runs, the lock, alerts, the stop flag and the clock."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Clock = utcnow,
        stop: StopFlag | None = None,
        unattended: bool = False,
        say: Callable[[str], None] = _log.warning,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.stop = stop or StopFlag()
        self.unattended = unattended  # alert when a run fails: nobody is watching
        self.owner = new_owner()
        self.say = say  # one-line notices for whoever started the run
        self.ledger = RunLog(store)
        self.alerter = Alerter(settings, self.ledger, clock)

    @contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the store's pipeline lock, waiting up to `wait` seconds; LockBusy if not had."""
        give_up = time.monotonic() + wait
        while not self.ledger.take_lock(LOCK, self.owner, self.clock(), LOCK_TTL):
            if self._took_over():
                break
            left = give_up - time.monotonic()
            if left <= 0 or self.stop.is_set():
                holder = self.ledger.lock_holder(LOCK, self.clock())
                who = f"{holder.owner} until {holder.expires_at:%H:%M} UTC" if holder else "?"
                raise LockBusy(
                    f"another digest process holds the store's lock ({who}); "
                    "wait for it to finish, or stop it"
                )
            self.stop.wait(min(1.0, left))
        self.ledger.close_unfinished_runs(self.clock())
        done = threading.Event()
        beat = threading.Thread(target=self._renew, args=(done,), daemon=True)
        beat.start()
        try:
            yield
        finally:
            done.set()
            beat.join()
            self.ledger.release_lock(LOCK, self.owner)

    def _took_over(self) -> bool:
        """Take the lock from a holder on this host whose process has ended (killed)."""
        holder = self.ledger.lock_holder(LOCK, self.clock())
        if holder is None or not holder_is_gone(holder.owner):
            return False
        if not self.ledger.take_over_lock(LOCK, holder.owner, self.owner, self.clock(), LOCK_TTL):
            return False
        why = f"process {holder.owner} ended without finishing (killed?)"
        self.ledger.interrupt_runs_of(holder.owner, self.clock(), why)
        self.say(f"took over the store's lock from {why}; its run is marked interrupted")
        return True

    def _renew(self, done: threading.Event) -> None:
        while not done.wait(LOCK_TTL.total_seconds() / 4):
            if not self.ledger.take_lock(LOCK, self.owner, self.clock(), LOCK_TTL):
                _log.error("lost the store's lock to another process while running")

    @contextmanager
    def run(self, stage: str, period: str | None = None) -> Iterator[RunNotes]:
        """Record one run of `stage`: running, then ok, failed or interrupted, with its notes."""
        run_id = self.ledger.start_run(stage, self.owner, self.clock(), period)
        context = {"stage": stage, "run": run_id, "period": period}
        _log.info("%s started%s", stage, f" for {period}" if period else "", extra=context)
        notes = RunNotes()
        try:
            yield notes
        except BaseException as exc:
            stopped = isinstance(exc, Stopped | KeyboardInterrupt)
            notes.status = "interrupted" if stopped else "failed"
            notes.errors.setdefault("run", str(exc) or type(exc).__name__)
            self._finish(run_id, stage, period, notes, context)
            raise
        self._finish(run_id, stage, period, notes, context)

    def _finish(
        self,
        run_id: int,
        stage: str,
        period: str | None,
        notes: RunNotes,
        context: dict[str, object],
    ) -> None:
        self.ledger.finish_run(
            run_id, notes.status, self.clock(), notes.counts, notes.errors, tuple(notes.sources)
        )
        level = logging.INFO if notes.status == "ok" else logging.ERROR
        summary = ", ".join(f"{k} {v}" for k, v in notes.counts.items())
        _log.log(
            level,
            "%s %s%s",
            stage,
            notes.status,
            f": {summary}" if summary else "",
            extra={**context, "status": notes.status, "counts": notes.counts},
        )
        if notes.status == "failed" and notes.alert and self.unattended:
            what = f"{stage} of {period}" if period else stage
            why = "\n".join(f"{k}: {v}" for k, v in notes.errors.items())
            self.alerter.send(
                Alert(
                    key=f"run:{run_id}",
                    event="run_failed",
                    subject=f"digest: the scheduled {what} run failed",
                    text=f"Run {run_id} ({what}) by {self.owner} failed:\n{why}\n"
                    "Fix the cause, then run `digest run` or wait for the next scheduled run; "
                    "`digest status` shows the runs.",
                )
            )

    def check_stop(self, what: str) -> None:
        """Raise Stopped if a stop was asked for: call between units of work."""
        if self.stop.is_set():
            raise Stopped(f"stopped on request before {what}; the next start picks up from here")


def stop_on_signals(stop: StopFlag, say: Callable[[str], None]) -> None:
    """First SIGTERM/SIGINT: finish the current unit, then stop. Second: stop at once."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        say(f"{signal.Signals(signum).name}: stopping after the current step (again to stop now)")

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
