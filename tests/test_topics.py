"""Topic subscriptions: a reader chooses topics in Chromium on the signed page `digest serve`
serves, and their next email holds the top story and those topics only, sent once."""

from __future__ import annotations

import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from digest import pipeline
from digest.config import Settings, load_settings
from digest.models import Issue
from digest.publish import PublishSettings, publish
from digest.publish.preferences import issue_for_topics, topic_choices
from digest.publish.serve import listening_socket, running
from digest.store import Store
from digest.store.mailing import Mailing
from tests.browser import ARTIFACTS, chromium
from tests.issues import week_issue
from tests.smtp import Server, smtp_server

SECRET = "test-secret-0123456789abcdef"
_TOPICS_LINK = re.compile(r"Choose your topics: (http://\S+)")
HEADLINES = {
    "agents": "Coding agents ship to everyone leads the week",
    "audio": "Open speech model rivals studio voices leads the week",
    "chips": "Foundry doubles accelerator output leads the week",
}


def _week(monday: date) -> Issue:
    themes = {
        "Agents at work": ["Coding agents ship to everyone", "Agent benchmarks saturate"],
        "Audio models": ["Open speech model rivals studio voices"],
        "Chips and supply": ["Foundry doubles accelerator output"],
    }
    return week_issue(monday, themes, f"digest — {monday}: Coding agents ship to everyone")


@dataclass
class Served:
    base: str
    settings: Settings
    store: Store
    smtp: Server

    @property
    def mailing(self) -> Mailing:
        return Mailing(self.store.engine)

    def send(self, issue_id: str) -> dict[str, EmailMessage]:
        """`digest send` of that issue; the messages of that issue each reader got."""
        pipeline.send_issue(self.settings, self.store, issue_id)
        with self.smtp.inbox.lock:
            return {
                rcpt: m
                for rcpt, m in self.smtp.inbox.messages
                if str(m["Message-ID"]).startswith(f"<issue.{issue_id}.")
            }


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    sock = listening_socket("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    older = _week(date(2026, 11, 9))
    publish(older, [], PublishSettings(tmp_path / "site", tmp_path / "email", base))
    with smtp_server(tmp_path) as smtp:
        config = tmp_path / "digest.toml"
        config.write_text(
            f'[store]\nurl = "sqlite:///{tmp_path / "digest.db"}"\n'
            f'[site]\nbase_url = "{base}"\ndir = "site"\n'
            f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
            'smtp_security = "none"\nrate_per_minute = 6000.0\n'
        )
        settings = load_settings(config)
        store = Store(settings.store.url)
        store.save_issue(older)
        Mailing(store.engine).add([("Ada", "ada@example.net"), ("Bob", "bob@example.net")])
        app = pipeline.site_app(settings, store)
        try:
            with running(app.app, settings.serve, sock) as url:
                yield Served(url, settings, store, smtp)
        finally:
            app.outbox.close()
            store.close()


def _plain(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _shows(driver: Any, text: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        main = driver.execute_script("return document.querySelector('main')?.innerText || ''")
        if text in main:
            return
        assert time.monotonic() < deadline, f"{text!r} never shown; the page says {main!r}"
        time.sleep(0.05)


def _post(url: str, fields: dict[str, str]) -> tuple[int, str]:
    data = urllib.parse.urlencode(fields).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data), timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_reader_chooses_topics_in_chromium_and_gets_only_those_after_the_top_story(
    served: Served,
) -> None:
    first = served.send("2026-w46")
    assert sorted(first) == ["ada@example.net", "bob@example.net"]
    for message in first.values():  # nobody chose yet: every topic
        assert all(h in _plain(message) for h in HEADLINES.values())
    link = _TOPICS_LINK.search(_plain(first["ada@example.net"]))
    assert link and link.group(1).startswith(f"{served.base}preferences/?token=")
    assert link.group(1) in first["ada@example.net"].get_body(("html",)).get_content()

    with chromium() as browser:
        driver: Any = browser
        driver.get(link.group(1))
        _shows(driver, "Choose the topics you want in your email")
        boxes = driver.find_elements("css selector", "main input[type=checkbox]")
        assert sorted(b.get_attribute("id") for b in boxes) == [
            "topic-agents",
            "topic-audio",
            "topic-chips",
        ]
        driver.find_element("id", "topic-chips").click()
        driver.find_element("css selector", "main form button").click()
        _shows(driver, "these topics only: Chips and supply")
        assert driver.find_element("id", "topic-chips").is_selected()  # the page shows the choice
        assert not driver.find_element("id", "topic-audio").is_selected()
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "topics-saved.png"))
    ada, bob = (s.id for s in served.mailing.subscribers())
    assert served.mailing.topics(ada) == ("chips",) and served.mailing.topics(bob) == ()

    newer = _week(date(2026, 11, 16))
    served.store.save_issue(newer)
    second = served.send(newer.id)
    again = served.send(newer.id)
    assert sorted(second) == ["ada@example.net", "bob@example.net"] and again == second
    ada_text, bob_text = _plain(second["ada@example.net"]), _plain(second["bob@example.net"])
    assert HEADLINES["agents"] in ada_text  # the top story, whatever she chose
    assert HEADLINES["chips"] in ada_text and HEADLINES["audio"] not in ada_text
    assert "Only the topics you chose, after the week's top story: Chips and supply." in ada_text
    assert all(h in bob_text for h in HEADLINES.values()) and "Only the topics" not in bob_text
    ledger = served.mailing.counts(newer.id)
    assert ledger == {"sent": 2}  # each (issue, subscriber) once


def test_the_topics_page_refuses_forged_links_and_unknown_topics(served: Served) -> None:
    first = served.send("2026-w46")
    link = _TOPICS_LINK.search(_plain(first["ada@example.net"]))
    assert link
    url, token = link.group(1).split("?token=")
    ada = int(token.split(".")[0])
    bob_token = _TOPICS_LINK.search(_plain(first["bob@example.net"]))
    assert bob_token
    forged = f"{ada}.{bob_token.group(1).split('.')[-1]}"  # Ada's id with Bob's signature
    for bad in (forged, f"{ada}.{'0' * 32}", "", "nonsense"):
        status, page = _post(url, {"token": bad, "topic-audio": "on"})
        assert status == 400 and "This link is not valid" in page
    assert served.mailing.topics(ada) == ()
    status, page = _post(url, {"token": token, "topic-audio": "on", "topic-evil,x": "on"})
    assert status == 200 and "these topics only: Audio models" in page
    assert served.mailing.topics(ada) == ("audio",)
    status, page = _post(url, {"token": token})  # nothing ticked: every topic again
    assert status == 200 and "holds every topic" in page and served.mailing.topics(ada) == ()


def test_an_issue_for_topics_keeps_the_lead_and_the_notes() -> None:
    issue = _week(date(2026, 11, 16))
    assert issue_for_topics(issue, ()) == issue
    cut = issue_for_topics(issue, ("chips",))
    assert [s.theme.id for s in cut.sections] == ["agents", "chips"]
    assert cut.quick_hits == issue.quick_hits and cut.title == issue.title
    assert [s.theme.id for s in issue_for_topics(issue, ("agents",)).sections] == ["agents"]
    assert topic_choices([issue]) == [
        ("agents", "Agents at work"),
        ("audio", "Audio models"),
        ("chips", "Chips and supply"),
    ]
