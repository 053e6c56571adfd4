"""Run by test_schedule: one digest scheduler on a shared store, clock fixed at argv[2].

Prints one JSON line: whether this process made the issue.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from digest.config import load_settings
from digest.crawl.sources import load_sources
from digest.ops.scheduler import DigestScheduler
from digest.store import Store
from digest.store.runs import RunLog
from tests.opskit import WordHashEmbedder


def main() -> None:
    settings = load_settings(Path(sys.argv[1]))
    start, now = time.monotonic(), datetime.fromisoformat(sys.argv[2])
    store = Store(settings.store.url)
    scheduler = DigestScheduler(
        settings,
        load_sources(settings.sources),
        store,
        lambda: now + timedelta(seconds=time.monotonic() - start),
        WordHashEmbedder,
    )
    scheduler.start()
    caught_up = scheduler.caught_up.wait(200)
    scheduler.shutdown()
    owner = scheduler.ops.owner
    runs = RunLog(store).runs(50)
    made = any(r.owner == owner and r.stage == "publish" and r.status == "ok" for r in runs)
    store.close()
    print(json.dumps({"made": made, "caught_up": caught_up}))


if __name__ == "__main__":
    main()
