"""Sign-ups through the site's form: double opt-in over a real SMTP server, in headless
Chromium and over plain HTTP, rate-limited, telling no one who is subscribed."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from digest import cli
from digest.config import load_settings
from digest.pipeline.serving import site_app
from digest.publish import PublishSettings, publish
from digest.publish.serve import listening_socket, running
from digest.store import Store
from digest.store.mailing import Mailing
from tests.browser import ARTIFACTS, chromium
from tests.issues import two_weeks
from tests.smtp import Server, smtp_server

SECRET = "test-secret-0123456789abcdef"
_LINK = re.compile(r"http://\S+/subscribe/confirm/\?token=\S+")


@dataclass
class Signup:
    base: str
    config: Path
    store: Store
    smtp: Server

    @property
    def mailing(self) -> Mailing:
        return Mailing(self.store.engine)

    def post(self, address: str, client: str = "") -> tuple[int, str]:
        """Submit the subscribe form as a browser would; client: an X-Forwarded-For."""
        headers = {"X-Forwarded-For": client} if client else {}
        data = urllib.parse.urlencode({"email": address}).encode()
        return _answer(urllib.request.Request(self.base + "subscribe/", data, headers))

    def mail_to(self, address: str, count: int = 1, wait: float = 15.0) -> list[EmailMessage]:
        """The sign-up emails the address got, once there are count of them."""
        deadline = time.monotonic() + wait
        while True:
            with self.smtp.inbox.lock:
                got = [m for rcpt, m in self.smtp.inbox.messages if rcpt == address]
            if len(got) >= count or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    def status(self, address: str) -> str:
        found = [s.status for s in self.mailing.subscribers() if s.address == address]
        return found[0] if found else "none"

    def send_issue(self) -> list[str]:
        """`digest send`, then who got the issue (not a sign-up email)."""
        assert cli.main(["send", "--config", str(self.config)]) == 0
        with self.smtp.inbox.lock:
            return sorted(
                rcpt
                for rcpt, m in self.smtp.inbox.messages
                if str(m["Message-ID"]).startswith("<issue.")
            )


def _answer(request: urllib.request.Request) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _link(message: EmailMessage) -> str:
    found = _LINK.search(message.get_content())
    assert found, message
    return found.group(0)


def _shows(driver: Any, text: str, seconds: float = 15.0) -> None:
    """Wait until the page (after a click, the next page) shows the text in <main>."""
    deadline = time.monotonic() + seconds
    while True:
        main = driver.execute_script("return document.querySelector('main')?.innerText || ''")
        if text in main:
            return
        assert time.monotonic() < deadline, f"{text!r} never shown; the page says {main!r}"
        time.sleep(0.05)


def _confirm(link: str) -> tuple[int, str]:
    token = link.split("token=")[1]
    form = urllib.parse.urlencode({"token": token}).encode()
    return _answer(urllib.request.Request(link.split("?")[0], form))


@pytest.fixture
def signup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AbstractContextManager[Signup]]:
    """A built site and its store served as `digest serve` serves them, with an SMTP server."""
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)

    @contextmanager
    def make(**serve: object) -> Iterator[Signup]:
        sock = listening_socket("127.0.0.1", 0)
        base = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        newer, older = two_weeks()
        publish(older, [], PublishSettings(tmp_path / "site", tmp_path / "email", base))
        publish(newer, [older], PublishSettings(tmp_path / "site", tmp_path / "email", base))
        with smtp_server(tmp_path) as smtp:
            config = tmp_path / "digest.toml"
            lines = "".join(f"{key} = {json.dumps(value)}\n" for key, value in serve.items())
            config.write_text(
                f'[store]\nurl = "sqlite:///{tmp_path / "digest.db"}"\n'
                f'[site]\nbase_url = "{base}"\ndir = "site"\n'
                f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
                f'smtp_security = "none"\nrate_per_minute = 6000.0\n[serve]\n{lines}'
            )
            settings = load_settings(config)
            store = Store(settings.store.url)
            store.save_issue(newer)
            served = site_app(settings, store)
            try:
                with running(served.app, settings.serve, sock) as url:
                    yield Signup(url, config, store, smtp)
            finally:
                served.outbox.close()
                store.close()

    return make


def test_reader_signs_up_in_chromium_confirms_by_email_and_gets_the_next_issue(
    signup: Callable[..., AbstractContextManager[Signup]],
) -> None:
    with signup() as s, chromium() as browser:
        driver: Any = browser
        for address in ("reader@example.net", "undecided@example.net"):
            driver.get(s.base + "issues/2026-w47/index.html")
            driver.find_element("id", "subscribe-email").send_keys(address)
            driver.find_element("css selector", "form.subscribe button").click()
            _shows(driver, f"Check the inbox of {address}")
            assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "signup-sent.png"))
        [confirmation] = s.mail_to("reader@example.net")
        assert confirmation["Subject"] == "Confirm your subscription to digest"
        assert confirmation["From"] == "digest <digest@example.com>"
        assert s.status("reader@example.net") == "none"  # pending: not a subscriber yet
        driver.get(_link(confirmation))
        _shows(driver, "Send digest to reader@example.net?")
        assert s.status("reader@example.net") == "none"  # opening the link only asks
        driver.find_element("css selector", "main form button").click()
        _shows(driver, "Done: reader@example.net will receive")
        assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
        assert s.status("reader@example.net") == "active"
        assert len(s.mail_to("undecided@example.net")) == 1
        assert s.send_issue() == ["reader@example.net"]  # the unconfirmed one gets nothing


def test_the_answer_never_tells_whether_an_address_is_subscribed(
    signup: Callable[..., AbstractContextManager[Signup]], capsys: pytest.CaptureFixture[str]
) -> None:
    with signup() as s:
        s.mailing.add([("", "member@example.net")])
        answers = {
            address: s.post(address, client=f"198.51.100.{n}")
            for n, address in enumerate(("member@example.net", "new@example.net"))
        }
        statuses = {status for status, _ in answers.values()}
        pages = {page.replace(address, "ADDRESS") for address, (_, page) in answers.items()}
        assert statuses == {200} and len(pages) == 1
        [note] = s.mail_to("member@example.net")
        assert note["Subject"] == "You already receive digest"
        assert not _LINK.search(note.get_content())
        [confirmation] = s.mail_to("new@example.net")
        assert _LINK.search(confirmation.get_content())
        assert s.post("not an address")[0] == 400
        assert cli.main(["subscribers", "--config", str(s.config), "list"]) == 0
        listed = [line for line in capsys.readouterr().out.splitlines() if "@" in line]
        assert any("new@example.net" in line and "unconfirmed" in line for line in listed)
        assert any("member@example.net" in line and "active" in line for line in listed)


def test_an_unsubscribed_reader_who_signs_up_again_must_confirm_again(
    signup: Callable[..., AbstractContextManager[Signup]],
) -> None:
    with signup() as s:
        s.mailing.add([("", "back@example.net")])
        s.mailing.remove("back@example.net")
        assert s.post("back@example.net")[0] == 200
        [confirmation] = s.mail_to("back@example.net")
        assert s.status("back@example.net") == "unsubscribed"
        assert s.send_issue() == []
        assert _confirm(_link(confirmation))[0] == 200
        assert s.status("back@example.net") == "active"
        assert s.send_issue() == ["back@example.net"]


def test_links_cannot_be_forged_reused_or_used_late(
    signup: Callable[..., AbstractContextManager[Signup]],
) -> None:
    with signup(confirm_hours=0.0005) as s:  # links last 1.8 s
        s.post("late@example.net", client="198.51.100.1")
        s.post("quick@example.net", client="198.51.100.2")
        late = _link(s.mail_to("late@example.net")[0])
        quick = _link(s.mail_to("quick@example.net")[0])
        forged = quick[:-2] + ("AA" if not quick.endswith("AA") else "BB")
        assert _confirm(forged)[0] == 400
        assert _confirm(quick)[0] == 200
        status, page = _confirm(quick)
        assert status == 400 and "not valid" in page  # used up
        time.sleep(2.2)
        assert _confirm(late)[0] == 400
        assert s.status("late@example.net") == "none"


def test_sign_ups_are_rate_limited_per_client_and_per_address(
    signup: Callable[..., AbstractContextManager[Signup]],
) -> None:
    with signup(signups_per_client="3/hour", signups_per_address="2/day") as s:
        for n in range(3):
            assert s.post(f"reader{n}@example.net")[0] == 200
        status, page = s.post("reader9@example.net")
        assert status == 429 and "Too many sign-ups" in page
        assert s.post("reader9@example.net", client="203.0.113.9")[0] == 200  # another client
        # one address asked for from many clients: the same answer, but two emails at most
        answers = {s.post("target@example.net", client=f"192.0.2.{n}") for n in range(5)}
        assert len(answers) == 1 and answers.pop()[0] == 200
        assert len(s.mail_to("target@example.net", count=3, wait=3.0)) == 2
        assert s.mail_to("reader9@example.net")
