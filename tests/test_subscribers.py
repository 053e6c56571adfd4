"""`digest subscribers`: add, remove, import and list, and the tokens in unsubscribe links."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest import cli
from digest.addresses import parse_address
from digest.errors import SubscriberError
from digest.publish.tokens import make_token, token_matches, token_subscriber
from digest.store import Store
from digest.store.mailing import Mailing


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "digest.toml"
    path.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "digest.db"}"\n')
    assert cli.main(["init", "--config", str(path)]) == 0
    return path


def _run(config: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    lines: list[str] = []
    monkeypatch.setattr(cli.console, "print", lambda *a, **_: lines.append(" ".join(map(str, a))))
    monkeypatch.setattr(cli.console, "print", lambda *a, **_: lines.append(" ".join(map(str, a))))
    code = cli.main(["subscribers", "--config", str(config), *args])
    return code, "\n".join(lines)


def _statuses(config: Path) -> dict[str, str]:
    store = Store(f"sqlite:///{config.parent / 'digest.db'}")
    found = {s.address: s.status for s in Mailing(store.engine).subscribers()}
    store.close()
    return found


def test_add_import_remove_list(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(config, monkeypatch, "add", "Ada <Ada@Example.NET>", "bob@example.net")[0] == 0
    listing = config.parent / "list.csv"
    listing.write_text("name,email\nCy,cy@example.net\n,bob@example.net\n")
    code, out = _run(config, monkeypatch, "import", str(listing))
    assert code == 0 and "1 added, 1 already subscribed" in out
    code, out = _run(config, monkeypatch, "remove", "bob@example.net")
    assert "bob@example.net: unsubscribed" in out
    plain = config.parent / "list.txt"
    plain.write_text("# one per line\nbob@example.net\ndee@example.net\n")
    code, out = _run(config, monkeypatch, "import", str(plain))
    assert "1 added" in out and "were not added back: bob@example.net" in out
    assert _statuses(config) == {
        "ada@example.net": "active",
        "bob@example.net": "unsubscribed",
        "cy@example.net": "active",
        "dee@example.net": "active",
    }
    monkeypatch.undo()
    assert cli.main(["subscribers", "--config", str(config), "list"]) == 0
    table = capsys.readouterr().out
    assert "ada@example.net" in table and "Ada" in table and "unsubscribed" in table
    _run(config, monkeypatch, "add", "bob@example.net")  # asked to come back
    assert _statuses(config)["bob@example.net"] == "active"


@pytest.mark.parametrize(
    "bad", ["not an address", "a@b", "x@example.com\r\nBcc: victim@example.com", "<>"]
)
def test_bad_addresses_are_refused(bad: str) -> None:
    with pytest.raises(SubscriberError, match="not an email address"):
        parse_address(bad)


def test_bad_address_in_cli_names_it(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(config, monkeypatch, "add", "nobody")
    assert code == 1 and "'nobody' is not an email address" in out


def test_tokens_are_bound_to_subscriber_and_secret() -> None:
    token = make_token(b"k" * 32, 7, "ada@example.net")
    assert token_subscriber(token) == 7
    assert token_matches(b"k" * 32, token, 7, "ADA@example.net")
    assert not token_matches(b"k" * 32, token, 8, "ada@example.net")
    assert not token_matches(b"j" * 32, token, 7, "ada@example.net")
    assert token_subscriber("7.short") is None and token_subscriber("x.y") is None


def test_import_csv_by_its_email_column_and_skip_bad_rows(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_column = config.parent / "one.csv"
    one_column.write_text("email\nann@example.net\nben@example.net\n")
    code, out = _run(config, monkeypatch, "import", str(one_column))
    assert code == 0 and "2 added" in out
    reordered = config.parent / "export.csv"
    reordered.write_text(
        "Joined,Name,EMAIL,Plan\n"
        "2025-01-02,Cat,cat@example.net,free\n"
        "2025-01-03,,nobody,free\n"
        '2025-01-04,"Dan, Jr.",dan@example.net,paid\n'
        "2025-01-05,Eve\n"
    )
    code, out = _run(config, monkeypatch, "import", str(reordered))
    assert code == 0 and "2 added" in out
    assert "export.csv:3: 'nobody' is not an email address" in out
    assert "export.csv:5:" in out and "skipped" in out
    plain = config.parent / "plain.txt"
    plain.write_text("fay@example.net\nFay Two <gus@example.net>\nnot-an-address\n")
    code, out = _run(config, monkeypatch, "import", str(plain))
    assert code == 0 and "2 added" in out and "plain.txt:3:" in out
    assert set(_statuses(config)) == {
        f"{n}@example.net" for n in ("ann", "ben", "cat", "dan", "fay", "gus")
    }
