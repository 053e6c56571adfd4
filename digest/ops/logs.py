"""Logging for unattended runs: plain text lines or one JSON object per line, on stderr."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from digest.config import LogSettings

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept in JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(settings: LogSettings) -> None:
    """Send digest's and the scheduler's logs to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.format == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_digest", False)]:
        root.removeHandler(old)
    handler._digest = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(settings.level)
    # APScheduler says "Added job" and httpx logs every request at INFO: keep those for DEBUG.
    for noisy in ("apscheduler", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
