"""`digest draft`, `check`, `publish` and `deliver`: a week's issue drafted, checked, published."""

from __future__ import annotations

import argparse

from digest import pipeline
from digest.cli import show
from digest.cli.context import Command, Option, console, issue_arg, opened


def cmd_draft(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        if args.preview:
            report = pipeline.preview_draft(ctx.settings, ctx.store, issue_arg(args.week))
        else:
            monday = pipeline.parse_week(args.week) if args.week else None
            sources = pipeline.load_sources(ctx.settings.sources)
            with console.status("building the draft") as status:
                report = pipeline.draft(
                    ctx.settings, ctx.store, sources, monday, say=status.update, fresh=args.fresh
                )
    console.print(
        f"Draft of issue [bold]{report.issue.id}[/bold]: {len(report.issue.sections)} themes\n"
        f"edit:    {report.markdown}\npreview: {report.preview}\n"
        "then `digest publish` (site and feeds, then email)"
    )
    if report.writing is not None:
        show.writing(report.writing)
    if report.check is not None:
        show.check(report.check)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    with opened(args.config, create=True) as ctx, console.status("checking the issue"):
        report = pipeline.check_week(ctx.settings, ctx.store, issue_arg(args.week))
    show.check(report)
    return 0 if report.ok else 1


def cmd_publish(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        report = pipeline.publish_draft(
            ctx.settings,
            ctx.store,
            issue_arg(args.week),
            send=not args.no_email,
            say=console.print,
            force=args.force,
            webhooks=not args.no_webhooks,
        )
    show.published(report.published)
    if report.delivered is not None:
        show.delivered(report.delivered)
    if report.sent is not None:
        show.sent(report.sent)
    return 0


def cmd_deliver(args: argparse.Namespace) -> int:
    with opened(args.config) as ctx:
        report = pipeline.deliver_issue(
            ctx.settings, ctx.store, issue_arg(args.week), args.resend_interrupted, console.print
        )
    show.delivered(report)
    return 0


def add_commands(command: Command, with_config: Option, with_week: Option) -> None:
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

    p = command("publish", "Publish the edited draft: site and feeds, then webhooks and email.")
    with_config(p)
    with_week(p)
    p.add_argument("--no-email", action="store_true", help="send no email to subscribers")
    p.add_argument("--no-webhooks", action="store_true", help="post to no webhook target")
    p.add_argument(
        "--force", action="store_true", help="publish even when the editorial check finds errors"
    )
    p.set_defaults(run=cmd_publish)

    p = command("check", "List every editorial rule the week's draft (or issue) breaks, and where.")
    with_config(p)
    with_week(p)
    p.set_defaults(run=cmd_check)

    p = command(
        "deliver", "POST a published issue to every webhook target not sent it yet; safe to rerun."
    )
    with_config(p)
    with_week(p)
    p.add_argument(
        "--resend-interrupted",
        action="store_true",
        help="also POST to targets whose delivery was in flight when a run died (may repeat)",
    )
    p.set_defaults(run=cmd_deliver)
