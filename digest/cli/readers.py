"""`digest send`, `subscribers` and `serve`: the issue by email, who gets it, and the web site."""

from __future__ import annotations

import argparse
import csv
import io
from datetime import timedelta
from pathlib import Path

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
    return 1 if report.result.failed else 0


def cmd_subscribers(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        mailing = pipeline.Mailing(ctx.store.engine)
        if args.action == "list":
            table = Table(title="Subscribers", title_justify="left")
            for column in ("id", "address", "name", "status", "since"):
                table.add_column(column)
            for s in mailing.subscribers():
                table.add_row(str(s.id), s.address, s.name, s.status, s.added_at.date().isoformat())
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
        else:
            lines = args.addresses if args.action == "add" else _address_lines(args.file)
            report = mailing.add(
                [parse_address(a) for a in lines], resubscribe=args.action == "add"
            )
            console.print(f"{len(report.added)} added, {len(report.already)} already subscribed")
            if report.left:
                console.print(
                    f"[yellow]{len(report.left)} unsubscribed earlier and were not added back: "
                    f"{', '.join(report.left)}; "
                    "`digest subscribers add` re-adds one who asks[/yellow]"
                )
    return 0


def _address_lines(file: Path) -> list[str]:
    """Addresses from a file: one per line ('Name <a@b>' or a@b), or a CSV with an email column."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SubscriberError(f"{file}: cannot be read ({exc.strerror}); check the path") from exc
    rows = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if rows and "," in rows[0] and "email" in rows[0].lower():
        reader = csv.DictReader(io.StringIO(text))
        key = next(k for k in reader.fieldnames or [] if "email" in k.lower())
        name = next((k for k in reader.fieldnames or [] if k.lower() == "name"), None)
        return [f"{r[name]} <{r[key]}>" if name and r[name] else r[key] for r in reader]
    return rows


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
