"""Email to subscribers through a real SMTP server on 127.0.0.1: headers, TLS, ledger, retries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from starlette.types import ASGIApp

from digest import cli, pipeline
from digest.config import EmailSettings, ServeSettings, Settings, SiteSettings, StoreSettings
from digest.errors import ConfigError, PublishError
from digest.publish.render import make_environment
from digest.publish.serve import make_app, running
from digest.publish.tokens import make_token
from digest.store import Store
from digest.store.mailing import Mailing
from tests.issues import BASE_URL, two_weeks
from tests.smtp import PASSWORD, USER, Server, smtp_server

SECRET = "test-secret-0123456789abcdef"
READERS = [f"reader{n}@example.net" for n in range(1, 6)]


@dataclass
class Setup:
    tmp: Path
    store: Store
    mailing: Mailing
    issue_id: str

    def settings(self, server: Server, **email: object) -> Settings:
        values: dict[str, object] = {
            "smtp_host": "127.0.0.1",
            "smtp_port": server.port,
            "smtp_security": "none",
            "rate_per_minute": 60000.0,
            "retry_delay": 0.05,
            "dir": self.tmp / "outbox",
            **email,
        }
        return Settings(
            store=StoreSettings(url=str(self.store.engine.url)),
            site=SiteSettings(base_url=BASE_URL, dir=self.tmp / "site"),
            email=EmailSettings(**values),  # type: ignore[arg-type]
        )


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", PASSWORD)
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    issue = two_weeks()[0]
    store.save_issue(issue)
    mailing = Mailing(store.engine)
    mailing.add([("", a) for a in READERS])
    yield Setup(tmp_path, store, mailing, issue.id)
    store.close()


def test_each_subscriber_gets_one_well_formed_message(setup: Setup, tmp_path: Path) -> None:
    with smtp_server(tmp_path, auth=True) as server:
        settings = setup.settings(server, smtp_user=USER)
        report = pipeline.send_issue(settings, setup.store)
        again = pipeline.send_issue(settings, setup.store)
    assert report.result.sent == 5 and again.result.sent == 0
    assert sorted(server.inbox.recipients()) == READERS
    assert server.inbox.logins
    ids = set()
    for rcpt, message in server.inbox.messages:
        assert message["To"] == rcpt
        assert message.get_content_type() == "multipart/alternative"
        parts = [p.get_content_type() for p in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "=?" not in str(message.get("List-Unsubscribe"))  # plain ASCII, never encoded
        https, mailto = [v.strip(" <>") for v in str(message["List-Unsubscribe"]).split(",")]
        assert https.startswith(f"{BASE_URL}unsubscribe/?token=")
        assert mailto.startswith("mailto:digest@example.com?subject=unsubscribe%20")
        token = https.split("token=")[1]
        assert mailto.endswith(token)
        html = BeautifulSoup(message.get_body(("html",)).get_content(), "html.parser")
        assert html.find("style") is None and html.find("h1")["style"]
        assert html.find("a", string="Unsubscribe")["href"] == https
        assert f"Unsubscribe: {https}" in message.get_body(("plain",)).get_content()
        ids.add(message["Message-ID"])
    assert len(ids) == 5
    assert setup.mailing.counts(setup.issue_id) == {"sent": 5}


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_login(setup: Setup, tmp_path: Path, security: str) -> None:
    with smtp_server(tmp_path, security=security, auth=True) as server:
        settings = setup.settings(
            server, smtp_security=security, smtp_user=USER, smtp_cafile=server.cafile
        )
        report = pipeline.send_issue(settings, setup.store)
    assert report.result.sent == 5
    assert server.inbox.logins


def test_untrusted_certificate_and_wrong_password_are_refused(
    setup: Setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(tmp_path, security="starttls", auth=True) as server:
        untrusted = setup.settings(server, smtp_security="starttls", smtp_user=USER)
        with pytest.raises(PublishError, match="could not reach SMTP server"):
            pipeline.send_issue(untrusted, setup.store)
        monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong")
        wrong = setup.settings(
            server, smtp_security="starttls", smtp_user=USER, smtp_cafile=server.cafile
        )
        with pytest.raises(PublishError, match="refused the login of 'digest'"):
            pipeline.send_issue(wrong, setup.store)
    assert server.inbox.messages == []
    assert setup.mailing.counts(setup.issue_id) == {"pending": 5}


def test_try_later_is_retried_and_rejection_is_marked(setup: Setup, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        server.inbox.answers = {
            READERS[1]: ["451 4.7.1 greylisted, try later"],
            READERS[2]: ["550 5.1.1 no such user"],
            READERS[3]: ["452 full"] * 10,
        }
        settings = setup.settings(server, max_attempts=3)
        report = pipeline.send_issue(settings, setup.store)
        assert sorted(server.inbox.recipients()) == [READERS[0], READERS[1], READERS[4]]
        assert list(report.result.rejected) == [READERS[2]]
        assert report.result.deferred == {READERS[3]: "452 full"}
        assert report.ledger == {"sent": 3, "rejected": 1, "deferred": 1}
        again = pipeline.send_issue(settings, setup.store)
    assert again.result.sent == 0 and len(server.inbox.messages) == 3
    assert list(again.result.deferred) == [READERS[3]]  # tried once more, told why again


def test_server_down_then_up_resumes_without_duplicates(setup: Setup, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        port = server.port
        server.inbox.answers = {READERS[2]: ["421 4.3.2 shutting down"]}
        settings = setup.settings(server, max_attempts=1)
        first = pipeline.send_issue(settings, setup.store)
        delivered = server.inbox.recipients()
    assert list(first.result.deferred) == [READERS[2]]
    setup.mailing.add([("", "late@example.net")])
    with pytest.raises(PublishError, match="could not reach SMTP server"):
        pipeline.send_issue(settings, setup.store)
    assert setup.mailing.counts(setup.issue_id)["pending"] == 2  # the deferred one and late
    with smtp_server(tmp_path, port=port) as server:
        second = pipeline.send_issue(settings, setup.store)
        assert server.inbox.recipients() == [READERS[2], "late@example.net"]
    assert second.result.sent == 2 and len(delivered) == 4


def _unsubscribe_app(setup: Setup) -> ASGIApp:
    return make_app(
        setup.tmp,
        make_environment(),
        {"site_title": "digest", "base_url": BASE_URL},
        pipeline.unsubscriber(setup.store),
        ServeSettings(),
    )


def test_unsubscribe_during_a_send_is_honoured(setup: Setup, tmp_path: Path) -> None:
    leaving = setup.mailing.subscribers()[3]
    token = make_token(SECRET.encode(), leaving.id, leaving.address)
    with running(_unsubscribe_app(setup), ServeSettings()) as web:

        def one_click(count: int) -> None:
            if count == 1:  # a mail program's one-click POST while the send runs
                url = f"{web}unsubscribe/?token={token}"
                request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click")
                with urllib.request.urlopen(request, timeout=10) as response:
                    assert response.status == 200

        with smtp_server(tmp_path) as server:
            server.inbox.on_message = one_click
            report = pipeline.send_issue(setup.settings(server), setup.store)
    assert leaving.address not in server.inbox.recipients()
    assert report.result.sent == 4 and report.result.skipped == 1
    assert report.ledger == {"sent": 4, "skipped": 1}


def test_missing_secret_is_a_clear_error(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIGEST_UNSUBSCRIBE_SECRET")
    with pytest.raises(ConfigError, match="DIGEST_UNSUBSCRIBE_SECRET is not set"):
        pipeline.send_issue(
            Settings(store=StoreSettings(url=str(setup.store.engine.url))), setup.store
        )


def test_rate_limit_spaces_messages(setup: Setup, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        start = time.monotonic()
        pipeline.send_issue(setup.settings(server, rate_per_minute=600.0), setup.store)
        elapsed = time.monotonic() - start
    assert len(server.inbox.messages) == 5
    assert elapsed >= 4 * 0.1 * 0.9  # five messages at 10 a second: four gaps


def test_kill_9_mid_send_then_send_again_gives_exactly_one_each(
    setup: Setup, tmp_path: Path
) -> None:
    setup.mailing.add([("", f"more{n}@example.net") for n in range(15)])
    everyone = [s.address for s in setup.mailing.subscribers()]
    with smtp_server(tmp_path) as server:
        config = tmp_path / "digest.toml"
        config.write_text(
            f'[store]\nurl = "{setup.store.engine.url}"\n'
            f'[site]\nbase_url = "{BASE_URL}"\n'
            f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {server.port}\n'
            'smtp_security = "none"\nrate_per_minute = 1200.0\n'
        )
        sender = subprocess.Popen(
            [sys.executable, "-m", "digest.cli", "send", "--config", str(config)],
            env={**os.environ, "DIGEST_UNSUBSCRIBE_SECRET": SECRET},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def kill_at_seven(count: int) -> None:
            if count == 7:
                os.kill(sender.pid, signal.SIGKILL)

        server.inbox.on_message = kill_at_seven
        assert sender.wait(timeout=60) == -signal.SIGKILL
        assert len(server.inbox.messages) == 7
        settings = setup.settings(server)
        report = pipeline.send_issue(settings, setup.store)
        assert report.interrupted in ((), (server.inbox.recipients()[6],))
    received = Counter(server.inbox.recipients())
    assert received == Counter(everyone)
    assert report.result.sent == len(everyone) - 7


def test_one_click_post_unsubscribes_but_get_only_asks(setup: Setup, tmp_path: Path) -> None:
    reader = setup.mailing.subscribers()[0]
    token = make_token(SECRET.encode(), reader.id, reader.address)
    with running(_unsubscribe_app(setup), ServeSettings()) as web:
        base = f"{web}unsubscribe/"
        with urllib.request.urlopen(f"{base}?token={token}", timeout=10) as response:
            page = BeautifulSoup(response.read(), "html.parser")
            assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert page.find("form", method="post").find("button").get_text() == "Unsubscribe"
        assert setup.mailing.subscriber(reader.id).status == "active"  # type: ignore[union-attr]
        form = f"token={token}".encode()
        with urllib.request.urlopen(urllib.request.Request(base, data=form), timeout=10) as r:
            assert "You are unsubscribed" in r.read().decode()
        assert setup.mailing.subscriber(reader.id).status == "unsubscribed"  # type: ignore[union-attr]
        forged = token[:-1] + ("0" if token[-1] != "0" else "1")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(base, data=f"token={forged}".encode()))
        assert refused.value.code == 400
        other = setup.mailing.subscribers()[1]
        assert setup.mailing.subscriber(other.id).status == "active"  # type: ignore[union-attr]
    assert urlsplit(base).hostname == "127.0.0.1"


def _cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    lines: list[str] = []

    def keep(*a: object, **_: object) -> None:
        lines.append(" ".join(map(str, a)))

    with monkeypatch.context() as m:
        m.setattr(cli.console, "print", keep)
        m.setattr(cli.console, "print", keep)
        code = cli.main(list(args))
    return code, "\n".join(lines)


def test_hard_bounce_is_suppressed_and_421_hangups_are_retried(
    setup: Setup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gone, busy, greylisted = READERS[1], READERS[2], READERS[3]
    with smtp_server(tmp_path) as server:
        server.inbox.answers = {
            gone: ["550 5.1.1 <reader2@example.net>: no such user"],
            busy: ["421 4.3.2 too busy, closing"] * 2,  # each one hangs up the session
            greylisted: ["450 4.7.1 greylisted"] * 10,
        }
        config = tmp_path / "digest.toml"
        config.write_text(
            f'[store]\nurl = "{setup.store.engine.url}"\n'
            f'[site]\nbase_url = "{BASE_URL}"\n'
            f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {server.port}\n'
            'smtp_security = "none"\nrate_per_minute = 60000.0\n'
            "retry_delay = 0.02\nmax_attempts = 3\n"
        )
        code, out = _cli(monkeypatch, "send", "--config", str(config))
        assert code == 0, out
        received = Counter(server.inbox.recipients())
        assert received == Counter([READERS[0], busy, READERS[4]])  # busy once, after 2 hang-ups
        assert "rejected" in out and gone in out and "no such user" in out
        assert "deferred" in out and greylisted in out and "greylisted" in out
        statuses = {s.address: s for s in setup.mailing.subscribers()}
        assert statuses[gone].status == "bounced" and "550" in statuses[gone].bounce
        assert statuses[gone].bounced_at is not None
        assert all(statuses[r].status == "active" for r in READERS if r != gone)

        # The next issue goes to everyone but the bounced address, which is never tried again.
        setup.store.save_issue(two_weeks()[1])
        server.inbox.answers = {}
        code, out = _cli(monkeypatch, "send", "--config", str(config), "--week", "2026-W46")
        assert code == 0, out
        later = Counter(server.inbox.recipients()) - received
    assert gone not in later and later == Counter(r for r in READERS if r != gone)
    monkeypatch.undo()
    assert cli.main(["subscribers", "--config", str(config), "list"]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if gone in line)
    assert "bounced" in row and "550" in listing
