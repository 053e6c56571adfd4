"""Publish stage costs: site build for a year of issues, email rendering, and SMTP send rate.

Run by hand: `.venv/bin/python bench/publish.py`. Sends only to an aiosmtpd server on
127.0.0.1. Ends with one line of JSON holding the figures.
"""

from __future__ import annotations

import json
import resource
import smtplib
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from digest.models import Delivery
from digest.publish import PublishSettings, build_site, prepare
from digest.publish.email import SMTP_POLICY, Unsubscribe
from digest.publish.send import SmtpSettings, send_edition
from tests.issues import BASE_URL, two_weeks
from tests.smtp import smtp_server

WEEKS, RECIPIENTS, REPEAT = 52, 300, 3


class _Ledger:
    def __init__(self, n: int) -> None:
        self.rows = [Delivery(i, f"r{i}@example.net", "", 0) for i in range(n)]

    def due(self, issue_id: str) -> list[Delivery]:
        return list(self.rows)

    def claim(self, issue_id: str, subscriber_id: int) -> bool:
        return True

    def release(self, issue_id: str, subscriber_id: int) -> None:
        return None

    def record(self, issue_id: str, subscriber_id: int, status: str, answer: str) -> None:
        return None


def year_of_issues() -> list:
    newer, _ = two_weeks()
    issues = []
    for n in range(WEEKS):
        monday = newer.week_start - timedelta(weeks=n)
        year, week, _ = monday.isocalendar()
        issues.append(replace(newer, id=f"{year}-w{week:02d}", week_start=monday))
    return issues


def _median(times: list[float]) -> dict[str, float]:
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def main() -> None:
    root = Path(tempfile.mkdtemp())
    settings = PublishSettings(root / "site", root / "email", BASE_URL)
    issues = year_of_issues()
    site = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        build_site(issues[0], issues[1:], settings)
        site.append(time.perf_counter() - start)
    pages = sum(1 for _ in (root / "site").rglob("*.html"))
    edition = prepare(issues[0], settings)
    start = time.perf_counter()
    for i in range(RECIPIENTS):
        unsubscribe = Unsubscribe(f"{BASE_URL}unsubscribe/?token={i}.x", "d@example.com", "t")
        edition.message("d <d@example.com>", f"r{i}@example.net", unsubscribe).as_bytes(
            policy=SMTP_POLICY
        )
    per_message = (time.perf_counter() - start) / RECIPIENTS
    with smtp_server(root) as server:
        data = edition.message("d <d@example.com>", "r@example.net").as_bytes(policy=SMTP_POLICY)
        start = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", server.port) as smtp:
            for i in range(RECIPIENTS):
                smtp.sendmail("d@example.com", [f"b{i}@example.net"], data)
        bare = RECIPIENTS / (time.perf_counter() - start)
        smtp_settings = SmtpSettings("127.0.0.1", server.port, "none", rate_per_minute=1e9)
        start = time.perf_counter()
        send_edition(
            edition,
            _Ledger(RECIPIENTS),
            smtp_settings,
            "d <d@example.com>",
            lambda d: Unsubscribe(f"{BASE_URL}u/?t={d.subscriber_id}", "d@e.com", "t"),
        )
        ours = RECIPIENTS / (time.perf_counter() - start)
    figures = {
        "site_build_s_52_issues": _median(site),
        "pages": pages,
        "email_render_ms_per_recipient": per_message * 1000,
        "smtp_bare_msgs_per_s": bare,
        "send_edition_msgs_per_s": ours,
        "send_vs_bare_ratio": ours / bare,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(f"site: {pages} pages for {WEEKS} issues in {figures['site_build_s_52_issues']}")
    print(f"email: {figures['email_render_ms_per_recipient']:.2f} ms to address one message")
    print(f"smtp: bare smtplib {bare:.0f}/s, send_edition (no ledger I/O) {ours:.0f}/s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
