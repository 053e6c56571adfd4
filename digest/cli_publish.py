"""The `digest` commands of the publish stage: draft, publish, send, subscribers and serve."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from digest import pipeline
from digest.check import CheckReport
from digest.config import load_settings, load_sources
from digest.errors import SubscriberError
from digest.logs import configure_logging
from digest.publish.send import summary
from digest.publish.serve import listening_socket, serve
from digest.serving import site_app
from digest.store import Store
from digest.store.mailing import AddReport, Mailing, parse_address
from digest.store.signups import Signups
from digest.write.compose import WriteReport

console = Console(highlight=False)
Command = Callable[[str, str], argparse.ArgumentParser]
Option = Callable[[argparse.ArgumentParser], None]


def _issue_arg(week: str | None) -> str | None:
    return pipeline.issue_id(pipeline.parse_week(week)) if week else None


def _print_send(report: pipeline.SendReport) -> None:
    for line in summary(report.result):
        console.print(line)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.ledger.items()))
    console.print(f"issue {report.issue_id} so far: {counts or 'no subscribers'}")
    if report.interrupted:
        console.print(
            f"[yellow]{len(report.interrupted)} message(s) were in flight when an earlier send "
            f"died and were not sent again (the server may have them): "
            f"{', '.join(report.interrupted)}; "
            "`digest send --resend-interrupted` sends them[/yellow]"
        )


def cmd_draft(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url, create=False)
    try:
        if args.preview:
            report = pipeline.preview_draft(settings, store, _issue_arg(args.week))
        else:
            monday = pipeline.parse_week(args.week) if args.week else None
            sources = load_sources(settings.sources)
            with console.status("building the draft") as status:
                report = pipeline.draft(
                    settings, store, sources, monday, say=status.update, fresh=args.fresh
                )
    finally:
        store.close()
    console.print(
        f"Draft of issue [bold]{report.issue.id}[/bold]: {len(report.issue.sections)} themes\n"
        f"edit:    {report.markdown}\npreview: {report.preview}\n"
        "then `digest publish` (site and feeds, then email)"
    )
    if report.writing is not None:
        print_writing(report.writing)
    if report.check is not None:
        print_check(report.check)
    return 0


def print_writing(w: WriteReport, out: Console = console) -> None:
    """How writing went: grounding, the LLM's calls and cost, what was written extractively."""
    g = w.grounding
    out.print(
        f"writer: {w.backend}; grounding checked {g.checked} sentences, dropped {g.dropped} "
        f"(bad citation {g.bad_citation}, made-up quote {g.made_up_quote}, link "
        f"{g.foreign_link}, unsupported {g.unsupported}, order to a model {g.instruction}, "
        f"unknown name or number {g.unknown_name}), repeated {w.repeated}, "
        f"rewritten extractively {g.regenerated}"
    )
    if w.usage is not None:
        u = w.usage
        out.print(
            f"LLM: {u.calls} calls ({u.retries} retries, {u.failed} failed), {u.cached} from "
            f"cache, {u.input_tokens} input + {u.output_tokens} output tokens, "
            f"about ${u.cost:.4f}"
            + (f"; {u.skipped_budget} skipped over budget" if u.skipped_budget else "")
            + (f"; {u.skipped_breaker} skipped by the circuit breaker" if u.skipped_breaker else "")
        )
    for line in w.fallbacks:
        out.print(f"  [yellow]extractive instead:[/yellow] {line}")


def print_check(report: CheckReport) -> None:
    """The editorial check as the editor reads it: grounding, then each rule broken."""
    g = report.grounding
    console.print(
        f"editorial check of {report.issue_id}: grounding checked {g.checked} sentences, "
        f"{g.dropped} unsupported or miscited; {len(report.violations)} rule(s) broken"
    )
    if not report.violations:
        return
    table = Table(title_justify="left", show_lines=False)
    for column in ("rule", "where", "what"):
        table.add_column(column, overflow="fold")
    for v in report.violations:
        table.add_row(v.rule, v.where, v.detail)
    console.print(table)


def cmd_check(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url)
    try:
        with console.status("checking the issue"):
            report = pipeline.check_week(settings, store, _issue_arg(args.week))
    finally:
        store.close()
    print_check(report)
    return 0 if report.ok else 1


def cmd_publish(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url, create=False)
    try:
        report = pipeline.publish_draft(
            settings,
            store,
            _issue_arg(args.week),
            send=not args.no_email,
            say=console.print,
            force=args.force,
        )
    finally:
        store.close()
    p = report.published
    console.print(f"site:  {p.index}\nissue: {p.issue_page}\nfeed:  {p.feed}\nemail: {p.email}")
    if report.sent is not None:
        _print_send(report.sent)
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url, create=False)
    try:
        report = pipeline.send_issue(
            settings, store, _issue_arg(args.week), args.resend_interrupted, say=console.print
        )
    finally:
        store.close()
    _print_send(report)
    return 0  # everyone delivered, rejected (suppressed) or deferred with a reason


def cmd_subscribers(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    store = Store(settings.store.url, create=False)
    mailing = Mailing(store.engine)
    try:
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
            valid = timedelta(hours=settings.serve.confirm_hours)
            for address, asked in Signups(store.engine, valid).pending():
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
    finally:
        store.close()
    return 0


def _added(report: AddReport) -> None:
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
    settings = load_settings(args.config)
    configure_logging(settings.log)
    store = Store(settings.store.url, create=False)
    try:
        served = site_app(settings, store)
        sock = listening_socket(args.host, args.port)
        host = f"[{args.host}]" if ":" in args.host else args.host
        console.print(
            f"serving {settings.site.dir} at http://{host}:{sock.getsockname()[1]}/ (Ctrl-C stops)"
        )
        try:
            serve(served.app, sock, settings.serve)
        finally:
            served.outbox.close()
    finally:
        store.close()
    return 0


def add_commands(command: Command, with_config: Option, with_week: Option) -> None:
    """Register draft, publish, send, subscribers and serve on the digest parser."""
    p = command(
        "draft", "Build one week's issue as a draft: a Markdown file to edit and a preview."
    )
    with_config(p)
    with_week(p)
    p.add_argument("--fresh", action="store_true", help="rebuild, replacing an edited draft file")
    p.add_argument(
        "--preview", action="store_true", help="only rebuild the preview with the edits so far"
    )
    p.set_defaults(run=cmd_draft)

    p = command("publish", "Publish the edited draft: site and feeds first, then email.")
    with_config(p)
    with_week(p)
    p.add_argument("--no-email", action="store_true", help="publish the site and feeds only")
    p.add_argument(
        "--force", action="store_true", help="publish even when the editorial check finds errors"
    )
    p.set_defaults(run=cmd_publish)

    p = command("check", "List every editorial rule the week's draft (or issue) breaks, and where.")
    with_config(p)
    with_week(p)
    p.set_defaults(run=cmd_check)

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
