"""`digest send`, `subscribers` and `serve`: the issue by email, who gets it, and the web site."""

from __future__ import annotations

import argparse
import csv
from datetime import timedelta
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from digest import pipeline
from digest.addresses import parse_address
from digest.cli import show
from digest.cli.context import Command, Option, console, issue_arg, opened
from digest.errors import SubscriberError


def cmd_send(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        report = pipeline.send_issue(
            ctx.settings, ctx.store, issue_arg(args.week), args.resend_interrupted, console.print
        )
    show.sent(report)
    return 0  # everyone delivered, rejected (suppressed) or deferred with a reason


def cmd_subscribers(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        mailing = pipeline.Mailing(ctx.store.engine)
        if args.action == "list":
            table = Table(title="Subscribers", title_justify="left")
            for column in ("id", "address", "name", "status", "since", "why"):
                table.add_column(column)
            for s in mailing.subscribers():
                since = (s.bounced_at or s.added_at).date().isoformat()
                why = (
                    f"bounced {s.bounced_at:%Y-%m-%d %H:%M} UTC: {s.bounce}" if s.bounced_at else ""
                )
                table.add_row(str(s.id), s.address, s.name, s.status, since, escape(why))
            valid = timedelta(hours=ctx.settings.serve.confirm_hours)
            for address, asked in pipeline.Signups(ctx.store.engine, valid).pending():
                table.add_row("", address, "", "unconfirmed", asked.date().isoformat())
            console.print(table)
        elif args.action == "remove":
            for address in args.addresses:
                done = mailing.remove(parse_address(address)[1])
                console.print(
                    f"{address}: {'unsubscribed' if done else 'not an active subscriber'}"
                )
        elif args.action == "add":
            _added(mailing.add([parse_address(a) for a in args.addresses], resubscribe=True))
        else:
            entries, bad = _address_file(args.file)
            for line, problem in bad:
                console.print(f"[yellow]{args.file}:{line}: {escape(problem)}; skipped[/yellow]")
            _added(mailing.add(entries))
    return 0


def _added(report: pipeline.AddReport) -> None:
    console.print(f"{len(report.added)} added, {len(report.already)} already subscribed")
    if report.left:
        console.print(
            f"[yellow]{len(report.left)} unsubscribed earlier and were not added back: "
            f"{', '.join(report.left)}; "
            "`digest subscribers add` re-adds one who asks[/yellow]"
        )


def _address_file(file: Path) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """(name, address) pairs from a file, and (line number, problem) for each row skipped.

    The file holds one address per line ('Name <a@b>' or a@b, '#' starts a comment), or is
    a CSV whose header names an email column (any case, any order; a 'name' column is used,
    other columns are ignored).
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SubscriberError(f"{file}: cannot be read ({why}); check the path") from exc
    numbered = [
        (n, line.strip())
        for n, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    header = next(csv.reader([numbered[0][1]])) if numbered else []
    columns = [c.strip().lower() for c in header]
    # a header cell such as 'email' or 'E-mail address'; an address is a row, not a header
    email = next((i for i, c in enumerate(columns) if "mail" in c and "@" not in c), None)
    rows: list[tuple[int, str, str]]  # line number, name from a column, the address text
    if email is None:
        rows = [(n, "", line) for n, line in numbered]
    else:
        name = columns.index("name") if "name" in columns else None
        rows = []
        for n, line in numbered[1:]:
            cells = next(csv.reader([line]))
            address = cells[email].strip() if email < len(cells) else ""
            who = cells[name].strip() if name is not None and name < len(cells) else ""
            rows.append((n, who, address))
    entries, bad = [], []
    for n, who, text in rows:
        try:
            found, address = parse_address(text)
        except SubscriberError as exc:
            bad.append((n, str(exc) if text else "no address in the email column"))
            continue
        entries.append((who or found, address))
    return entries, bad


def cmd_serve(args: argparse.Namespace) -> int:
    with opened(args.config, logs=True) as ctx:
        served = pipeline.site_app(ctx.settings, ctx.store)
        sock = pipeline.listening_socket(args.host, args.port)
        host = f"[{args.host}]" if ":" in args.host else args.host
        console.print(
            f"serving {ctx.settings.site.dir} at http://{host}:{sock.getsockname()[1]}/ "
            "(Ctrl-C stops)"
        )
        try:
            pipeline.serve_forever(served.app, sock, ctx.settings.serve)
        finally:
            served.outbox.close()
    return 0


def add_commands(command: Command, with_config: Option, with_week: Option) -> None:
    p = command("send", "Email a published issue to subscribers not sent it yet (resumable).")
    with_config(p)
    with_week(p)
    p.add_argument(
        "--resend-interrupted",
        action="store_true",
        help="also resend messages in flight when an earlier send died (they may arrive twice)",
    )
    p.set_defaults(run=cmd_send)

    p = command("subscribers", "Add, remove, import or list email subscribers.")
    with_config(p)
    actions = p.add_subparsers(
        dest="action", required=True, metavar="ACTION", help="add, remove, import or list"
    )
    for name, text in (
        ("add", "Subscribe addresses (re-subscribes one who had left)."),
        ("remove", "Unsubscribe addresses."),
    ):
        a = actions.add_parser(name, help=text, description=text)
        a.add_argument("addresses", nargs="+", help="addresses, like reader@example.com")
    a = actions.add_parser(
        "import",
        help="Subscribe every address in a file.",
        description="Subscribe every "
        "address in a file (one per line, or a CSV with an email column); never re-adds one "
        "who unsubscribed.",
    )
    a.add_argument("file", type=Path, help="the file of addresses")
    actions.add_parser("list", help="Show every subscriber.", description="Show every subscriber.")
    p.set_defaults(run=cmd_subscribers)

    p = command("serve", "Serve the site, its subscribe form, confirmation and unsubscribe links.")
    with_config(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port to listen on")
    p.set_defaults(run=cmd_serve)
