"""How the commands print what the pipeline did: crawls, issues, writing, checks and sends."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from digest import pipeline
from digest.cli.context import console


def notice(text: str) -> None:
    console.print(f"[yellow]{escape(text)}[/yellow]")


def expat_notice() -> None:
    if notice := pipeline.slow_expat_notice():
        console.print(f"[yellow]note:[/yellow] {notice}")


def crawl_report(report: pipeline.CrawlReport) -> None:
    table = Table(title="Crawl", title_justify="left")
    for column in ("source", "items", "new", "problem"):
        table.add_column(column, justify="right" if column in ("items", "new") else "left")
    for o in report.outcomes:
        problem = f"[red]{escape(o.error)}[/red]" if o.error else f"[dim]{escape(o.note)}[/dim]"
        if o.warning:
            problem = f"[yellow]salvaged: {escape(o.warning)}[/yellow]"
        table.add_row(o.source, str(o.fetched), str(o.new), problem)
    console.print(table)
    ok = len(report.outcomes) - len(report.failed)
    console.print(
        f"{report.new_articles} new articles from {ok} of {len(report.outcomes)} sources"
        + (f"; [red]{len(report.failed)} failed and were skipped[/red]" if report.failed else "")
    )


def issue(report: pipeline.BuildReport) -> None:
    console.print(
        f"Issue [bold]{report.issue.id}[/bold]: {len(report.issue.sections)} themes, "
        f"{len(report.issue.quick_hits)} quick hits, from {report.articles} articles in "
        f"{report.stories} stories"
    )
    for section in report.issue.sections:
        console.print(f"  • {section.theme.name} ({len(section.theme.stories)} stories)")
    if report.writing is not None:
        writing(report.writing)
    published(report.published)


def published(p: pipeline.PublishResult) -> None:
    console.print(
        f"site:  {p.index}\nissue: {p.issue_page}\nfeed:  {p.feed}\njson:  {p.issue_json}\n"
        f"email: {p.email}"
    )


def writing(w: pipeline.WriteReport) -> None:
    """How writing went: grounding, the LLM's calls and cost, what was written extractively."""
    g = w.grounding
    console.print(
        f"writer: {w.backend}; grounding checked {g.checked} sentences, dropped {g.dropped} "
        f"(bad citation {g.bad_citation}, made-up quote {g.made_up_quote}, link "
        f"{g.foreign_link}, unsupported {g.unsupported}, order to a model {g.instruction}, "
        f"unknown name or number {g.unknown_name}), repeated {w.repeated}, "
        f"rewritten extractively {g.regenerated}"
    )
    if w.usage is not None:
        u = w.usage
        console.print(
            f"LLM: {u.calls} calls ({u.retries} retries, {u.failed} failed), {u.cached} from "
            f"cache, {u.input_tokens} input + {u.output_tokens} output tokens, "
            f"about ${u.cost:.4f}"
            + (f"; {u.skipped_budget} skipped over budget" if u.skipped_budget else "")
            + (f"; {u.skipped_breaker} skipped by the circuit breaker" if u.skipped_breaker else "")
        )
    for line in w.fallbacks:
        console.print(f"  [yellow]extractive instead:[/yellow] {line}")


def check(report: pipeline.CheckReport) -> None:
    """The editorial check as the editor reads it: grounding, then each rule broken."""
    grounding, broken = report.grounding, len(report.violations)
    console.print(
        f"editorial check of {report.issue_id}: grounding checked {grounding.checked} sentences, "
        f"{grounding.dropped} unsupported or miscited; {broken} rule(s) broken"
    )
    if not report.violations:
        return
    table = Table(title_justify="left", show_lines=False)
    for column in ("rule", "where", "what"):
        table.add_column(column, overflow="fold")
    for v in report.violations:
        table.add_row(v.rule, v.where, v.detail)
    console.print(table)


def sent(report: pipeline.SendReport) -> None:
    for line in pipeline.send_summary(report.result):
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


def delivered(report: pipeline.DeliveryReport) -> None:
    r = report.result
    console.print(f"webhooks: {len(r.sent)} sent, {len(r.skipped)} skipped (sent before)")
    for label, found in (
        ("deferred, the next `digest deliver` tries again", r.deferred),
        ("refused by the receiver (fix the target; the next run tries again)", r.rejected),
        ("sent with no answer (perhaps received; not resent)", r.unknown),
    ):
        for name, why in found.items():
            console.print(f"[yellow]  {escape(name)}: {label}: {escape(why)}[/yellow]")
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.ledger.items()))
    console.print(f"issue {report.issue_id} so far: {counts or 'no webhook targets'}")
    if report.interrupted:
        console.print(
            f"[yellow]{len(report.interrupted)} webhook(s) were in flight when an earlier run "
            f"died and were not sent again (the receiver may have them): "
            f"{', '.join(report.interrupted)}; `digest deliver --resend-interrupted` sends "
            "them[/yellow]"
        )
