"""Real weeks of AI news replayed through the CLI and scored against the dev split's event labels.

    python bench/realweek.py [--weeks 2025-W27,2025-W28,2025-W29] [--step-hours 8]
                             [--plain | --engagement] [--keep DIR] [--rebuild DIR]

A loopback server replays ../shared/data/ai_news_multisource_2025-07 (dev split) as its sources
serve it: r/LocalLLaMA's listing JSON (score, comments, flair), Hacker News through Algolia
(points, comments), the lab blogs' RSS snapshots of `raw_feeds/`; each shows only what was
published before a simulated clock. `digest crawl` runs every --step-hours simulated hours from
2025-06-27 to 2025-07-21 (DIGEST_NOW is the clock), and each week is made and published by
`digest run --week` (the scheduler's path, `[schedule] action = "publish"`) when it ends, so the
next week knows what was told. By default it runs twice: with engagement, and "plain",
the same posts as RSS with no score, comments or flair. It prints per week and overall
coverage, repeats, help share, missed events, story quality (BCubed, pairwise) and the crawl
and build seconds; the last line is a JSON object of every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time as timer
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest.analyze.coverage import (  # noqa: E402
    Events,
    Items,
    item_groups,
    load_events,
    load_items,
    published_in,
    score_issue,
    story_quality,
)
from digest.pipeline import issue_id, parse_week  # noqa: E402
from digest.store import Store  # noqa: E402
from digest.store.mailing import Mailing  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ai_news_multisource_2025-07"
START = datetime(2025, 6, 27, tzinfo=UTC)
END = datetime(2025, 7, 21, tzinfo=UTC)
WEEKS = "2025-W27,2025-W28,2025-W29"
FRONT_PAGE_HOURS = 48  # how long an HN story stays on the replayed front page
# `python -m digest.cli` from the checkout: a shared venv's `digest` script would run the
# package it was installed from, not this checkout's.
DIGEST = [sys.executable, "-m", "digest.cli"]
BLOGS = {
    "feed_anthropic_news.xml": ("Anthropic News", 1.2),
    "feed_anthropic_research.xml": ("Anthropic Research", 1.2),
    "feed_anthropic_engineering.xml": ("Anthropic Engineering", 1.2),
    "feed_anthropic.xml": ("Anthropic", 1.2),
    "feed_openai_research.xml": ("OpenAI Research", 1.2),
    "feed_ollama.xml": ("Ollama Blog", 1.0),
    "feed_paulgraham.xml": ("Paul Graham", 0.8),  # essays, seldom about AI
}


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _none(value: Any) -> Any:
    return None if value in (None, "", "None") else value


def _int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


@dataclass
class Replay:
    """The dev split as its sources served it, up to `clock`."""

    rows: list[dict[str, Any]]
    snapshots: list[tuple[datetime, Path]]
    clock: datetime = START
    _feeds: dict[Path, bytes] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Replay:
        rows = [json.loads(line) for line in (DATA / "items.dev.jsonl").open(encoding="utf-8")]
        for r in rows:
            r["_at"] = _when(r["published_at"])
        rows.sort(key=lambda r: r["_at"], reverse=True)
        provenance = json.loads((DATA / "provenance.json").read_text())
        snapshots = sorted(
            (_when(s["commit_date"]), DATA / "raw_feeds" / s["snapshot"])
            for s in provenance["blog_snapshots"]
        )
        return cls(rows, snapshots)

    def _published(self, kind: str, since: datetime | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.rows
            if r["source_kind"] == kind
            and r["_at"] <= self.clock
            and (since is None or r["_at"] > since)
        ]

    def reddit_listing(self, limit: int) -> dict[str, Any]:
        """r/LocalLLaMA/new.json: the newest posts, with score, comments and flair."""
        children = []
        for r in self._published("reddit")[:limit]:
            url = _none(r.get("url"))
            permalink = r["permalink"].removeprefix("https://www.reddit.com")
            post_id = r["item_id"].removeprefix("reddit:")
            children.append(
                {
                    "kind": "t3",
                    "data": {
                        "id": post_id,
                        "name": f"t3_{post_id}",
                        "title": r["title"],
                        "selftext": r.get("text") or "",
                        "is_self": url is None,
                        "url": url or r["permalink"],
                        "permalink": permalink,
                        "created_utc": r["_at"].timestamp(),
                        "score": _int(r.get("score_at_capture")),
                        "num_comments": _int(r.get("num_comments_at_capture")),
                        "link_flair_text": _none(r.get("label_flair")),
                        "upvote_ratio": float(_none(r.get("upvote_ratio")) or 0),
                    },
                }
            )
        return {"kind": "Listing", "data": {"children": children, "after": None}}

    def hn_front_page(self, limit: int) -> dict[str, Any]:
        """Algolia's front page: the stories of the last two days, most points first."""
        since = self.clock - timedelta(hours=FRONT_PAGE_HOURS)
        stories = sorted(
            self._published("hn", since), key=lambda r: -_int(r.get("score_at_capture"))
        )
        hits = [
            {
                "objectID": r["item_id"].removeprefix("hn:"),
                "title": r["title"],
                "url": _none(r.get("url")),
                "story_text": r.get("text") or None,
                "points": _int(r.get("score_at_capture")),
                "num_comments": _int(r.get("num_comments_at_capture")),
                "created_at_i": int(r["_at"].timestamp()),
                "author": "",
            }
            for r in stories[:limit]
        ]
        return {"hits": hits, "nbHits": len(hits), "hitsPerPage": limit}

    def plain_rss(self, kind: str, title: str, limit: int) -> bytes:
        """The same posts as a bare RSS feed: title, link, text and date, no engagement."""
        rows = self._published(kind)
        if kind == "hn":
            since = self.clock - timedelta(hours=FRONT_PAGE_HOURS)
            rows = [r for r in rows if r["_at"] > since]
        items = []
        for r in rows[:limit]:
            link = _none(r.get("url")) or r["permalink"]
            # HN's own RSS links each story's thread in <comments>; Reddit's carries none.
            thread = f"<comments>{escape(r['permalink'])}</comments>" if kind == "hn" else ""
            items.append(
                f"<item><title>{escape(r['title'])}</title><link>{escape(link)}</link>{thread}"
                f"<description>{escape(r.get('text') or '')}</description>"
                f'<guid isPermaLink="false">{r["item_id"]}</guid>'
                f"<pubDate>{format_datetime(r['_at'])}</pubDate></item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{escape(title)}</title><link>https://example.org/</link>"
            f"<description>{escape(title)}</description>{''.join(items)}</channel></rss>"
        ).encode()

    def blog_feed(self, name: str) -> bytes | None:
        """The newest snapshot of the feed taken by the clock, less items dated after it."""
        taken = [path for at, path in self.snapshots if at <= self.clock] or [self.snapshots[0][1]]
        folder = taken[-1]
        if not (folder / name).is_file():
            return None
        path = folder / name
        if path not in self._feeds:
            self._feeds[path] = path.read_bytes()
        root = ET.fromstring(self._feeds[path])
        channel = root.find("channel")
        assert channel is not None
        for item in channel.findall("item"):
            date_text = item.findtext("pubDate")
            if date_text and parsedate_to_datetime(date_text) > self.clock:
                channel.remove(item)
        return bytes(ET.tostring(root, xml_declaration=True, encoding="utf-8"))


def serve(replay: Replay) -> tuple[ThreadingHTTPServer, str]:
    """The replay on 127.0.0.1: Reddit, Algolia, the blogs, and the plain RSS twins."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            body: bytes | None
            if parts.path == "/r/LocalLLaMA/new.json":
                limit = min(_int(query.get("limit", 25)), 100)
                body, kind = json.dumps(replay.reddit_listing(limit)).encode(), "application/json"
            elif parts.path == "/hn/search":
                limit = _int(query.get("hitsPerPage", 20))
                body, kind = json.dumps(replay.hn_front_page(limit)).encode(), "application/json"
            elif parts.path == "/plain/reddit.xml":
                body, kind = replay.plain_rss("reddit", "r/LocalLLaMA", 100), "application/rss+xml"
            elif parts.path == "/plain/hn.xml":
                body, kind = replay.plain_rss("hn", "Hacker News", 30), "application/rss+xml"
            elif parts.path.startswith("/blogs/"):
                body, kind = replay.blog_feed(parts.path[7:]), "application/rss+xml"
            else:
                body, kind = None, ""
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def sources_yaml(base: str, plain: bool) -> str:
    """An ordinary sources.yaml: the replayed sources, as a user would list the real ones."""
    if plain:
        forums = [
            f'  - {{name: r/LocalLLaMA, kind: feed, url: "{base}/plain/reddit.xml", '
            "weight: 0.8, tags: [forum]}",
            f'  - {{name: Hacker News, kind: feed, url: "{base}/plain/hn.xml", '
            "weight: 0.9, tags: [forum]}",
        ]
    else:
        forums = [
            f'  - {{name: r/LocalLLaMA, kind: reddit, url: "{base}", subreddit: LocalLLaMA, '
            "listing: new, max_items: 100, weight: 0.8, tags: [forum]}",
            f'  - {{name: Hacker News, kind: hackernews, url: "{base}/hn", front_page: true, '
            "max_items: 30, weight: 0.9, tags: [forum]}",
        ]
    blogs = [
        f'  - {{name: {name}, kind: feed, url: "{base}/blogs/{file}", '
        f"weight: {weight}, tags: [{'essays' if 'paulgraham' in file else 'lab'}]}}"
        for file, (name, weight) in BLOGS.items()
    ]
    return "sources:\n" + "\n".join(forums + blogs) + "\n"


def digest_toml(base: str) -> str:
    # Every replayed source is on one loopback origin: it is allowed for them (the per-source
    # allowance), and the politeness delay between two fetches of one host is dropped.
    return (
        'sources = "sources.yaml"\n[store]\nurl = "sqlite:///digest.db"\n'
        f'[crawl]\nallowed_hosts = ["{base}"]\nhost_delay = 0.0\n'
        '[site]\nbase_url = "https://digest.example.com/"\n[email]\ndir = "outbox"\n'
        '[schedule]\naction = "publish"\n'
    )


def digest(folder: Path, now: datetime, *args: str) -> float:
    """Run `digest <args>` against the folder's config at simulated time `now`; its seconds."""
    env = {
        **os.environ,
        "DIGEST_NOW": now.isoformat(),
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
        # Publishing signs each email's unsubscribe link (the replay has no subscribers).
        "DIGEST_UNSUBSCRIBE_SECRET": os.environ.get("DIGEST_UNSUBSCRIBE_SECRET", "0" * 32),
    }
    started = timer.perf_counter()
    done = subprocess.run(
        [*DIGEST, *args, "--config", str(folder / "digest.toml")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"digest {' '.join(args)} at {now:%Y-%m-%d %H:%M} failed ({done.returncode}):\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return timer.perf_counter() - started


@dataclass
class Run:
    """One replay of the weeks: where it was built, and the crawl and build times."""

    mode: str
    folder: Path
    crawl_seconds: float = 0.0
    crawls: int = 0
    build_seconds: dict[str, float] = field(default_factory=dict)


def replay_weeks(mode: str, folder: Path, weeks: list[date], step: timedelta) -> Run:
    """Crawl every `step` of simulated time; make each week's issue once the week has ended."""
    replay = Replay.load()
    server, base = serve(replay)
    run = Run(mode, folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "sources.yaml").write_text(sources_yaml(base, mode == "plain"))
        (folder / "digest.toml").write_text(digest_toml(base))
        digest(folder, START, "init")
        ends = {m: min(datetime.combine(m + timedelta(days=7), time(), UTC), END) for m in weeks}
        now = START
        while now <= END:
            replay.clock = now
            run.crawl_seconds += digest(folder, now, "crawl")
            run.crawls += 1
            for monday, end in ends.items():
                week = issue_id(monday)
                if now >= end and week not in run.build_seconds:
                    run.build_seconds[week] = digest(folder, now, "run", "--week", week)
                    print(f"  {mode}: made {week} at {now:%Y-%m-%d %H:%M}", file=sys.stderr)
            now += step
    finally:
        server.shutdown()
        server.server_close()
    return run


# What making and publishing the weeks wrote; a rebuild clears it and keeps the crawl and the
# articles' stories.
_MADE = (
    "UPDATE stories SET published_in = NULL; DELETE FROM issues; DELETE FROM drafts; "
    "DELETE FROM theme_history; DELETE FROM runs; DELETE FROM locks;"
)


def rebuild_weeks(mode: str, kept: Path, folder: Path, weeks: list[date]) -> Run:
    """The weeks made again, in order, from the crawl a `--keep` run left in `kept`: selection
    and writing measured in about a minute a week, with no replay (the crawl and the stories
    its articles joined are the kept run's)."""
    if not (kept / "digest.db").is_file():
        raise SystemExit(f"{kept}: no kept run here; make one with --keep first")
    if folder.resolve() == kept.resolve():
        raise SystemExit(f"{kept}: --keep must name another folder than --rebuild")
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(kept, folder, ignore=shutil.ignore_patterns("drafts", "site", "outbox"))
    config = folder / "digest.toml"
    config.write_text(config.read_text().replace('action = "draft"', 'action = "publish"'))
    with sqlite3.connect(folder / "digest.db") as db:
        db.executescript(_MADE)
    run = Run(mode, folder)
    for monday in weeks:
        end = datetime.combine(monday + timedelta(days=7), time(), UTC)
        week = issue_id(monday)
        run.build_seconds[week] = digest(folder, end, "run", "--week", week)
        print(f"  {mode}: made {week} again", file=sys.stderr)
    return run


def _round(value: float) -> float:
    return round(value, 3)


def score(run: Run, weeks: list[date], events: Events, items: Items) -> dict[str, Any]:
    """The figures of one replay, per week and overall."""
    store = Store(f"sqlite:///{run.folder / 'digest.db'}", create=False)
    try:
        mailing = Mailing(store.engine)
        articles = store.articles_between(date(2025, 6, 1), date(2025, 8, 1))
        groups = item_groups(store.story_of([a.id for a in articles]), items)
        per_week: dict[str, Any] = {}
        toc: dict[str, list[str]] = {}
        totals = {"events": 0, "cited": 0, "repeats": 0, "reddit": 0, "help": 0}
        for monday in weeks:
            week = issue_id(monday)
            issue = store.issue(week) or mailing.draft(week)
            if issue is None:
                raise SystemExit(f"{run.mode}: no issue {week} was made")
            s = score_issue(issue, monday, events, items)
            q = story_quality(groups, events, published_in(monday, items))
            per_week[s.week] = {
                **s.as_dict(),
                **_quality(q),
                "build_seconds": _round(run.build_seconds.get(week, 0.0)),
            }
            toc[s.week] = [sec.theme.name for sec in issue.sections] + [
                heading
                for heading, notes in (
                    ("Quick hits", issue.quick_hits),
                    ("Research corner", issue.research),
                    ("What to watch", issue.watch),
                )
                if notes
            ]
            totals["events"] += len(s.events)
            totals["cited"] += len(s.cited_events)
            totals["repeats"] += s.repeats
            totals["reddit"] += s.cited_reddit
            totals["help"] += s.cited_help
        in_weeks = set().union(*(published_in(m, items) for m in weeks))
        overall = {
            "coverage": _round(totals["cited"] / totals["events"]) if totals["events"] else 0.0,
            "cited_events": totals["cited"],
            "events": totals["events"],
            "repeats": totals["repeats"],
            "help_share": _round(totals["help"] / totals["reddit"]) if totals["reddit"] else 0.0,
            **_quality(story_quality(groups, events, in_weeks)),
            "crawl_seconds": _round(run.crawl_seconds),
            "crawls": run.crawls,
            "build_seconds": _round(sum(run.build_seconds.values())),
        }
    finally:
        store.close()
    return {"weeks": per_week, "overall": overall, "toc": toc, "folder": str(run.folder)}


def _quality(q: Any) -> dict[str, Any]:
    return {
        "bcubed_p": _round(q.bcubed_precision),
        "bcubed_r": _round(q.bcubed_recall),
        "bcubed_f1": _round(q.bcubed_f1),
        "pairwise_p": _round(q.pairwise_precision),
        "pairwise_r": _round(q.pairwise_recall),
        "judged": q.judged,
    }


def report(mode: str, figures: dict[str, Any]) -> None:
    print(f"\n== {mode} ==")
    names = ("cover", "rep", "help", "B3 P", "B3 R", "B3 F1", "pw P", "pw R")
    header = f"{'week':9} " + " ".join(f"{n:>6}" for n in names) + f" {'build s':>8}"
    print(header)
    rows = [*figures["weeks"].items(), ("overall", figures["overall"])]
    for week, f in rows:
        cited = f["cited_events"] if week == "overall" else len(f["cited_events"])
        events = f["events"] if week == "overall" else len(f["events"])
        print(
            f"{week:9} {f['coverage']:>6.3f} {f['repeats']:>4} {f['help_share']:>6.3f} "
            f"{f['bcubed_p']:>6.3f} {f['bcubed_r']:>6.3f} {f['bcubed_f1']:>6.3f} "
            f"{f['pairwise_p']:>6.3f} {f['pairwise_r']:>6.3f} {f['build_seconds']:>8.1f}"
            f"  ({cited} of {events} events)"
        )
    for week, f in figures["weeks"].items():
        print(f"{week} missed: {', '.join(f['missed_events']) or 'none'}")
        if f["repeated"]:
            print(f"{week} repeated: {', '.join(f'{e} x{n}' for e, n in f['repeated'].items())}")
    o = figures["overall"]
    print(f"crawl: {o['crawls']} crawls in {o['crawl_seconds']:.1f} s")


def measured_commit() -> str:
    """The checkout's commit, marked +dirty when its code differs from it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--", "digest", "bench"], capture_output=True, text=True
    )
    return head.stdout.strip() + ("+dirty" if changed.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", default=WEEKS, help=f"ISO weeks to make (default {WEEKS})")
    parser.add_argument(
        "--step-hours", type=float, default=8.0, help="simulated hours between crawls"
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--plain", action="store_true", help="only the plain RSS run")
    which.add_argument("--engagement", action="store_true", help="only the run with engagement")
    parser.add_argument("--jobs", type=int, default=2, help="replays run at once (default 2)")
    parser.add_argument("--keep", type=Path, help="keep each run's store and built sites here")
    parser.add_argument(
        "--rebuild",
        type=Path,
        metavar="DIR",
        help="no replay: make the weeks again from the crawl a --keep DIR run left there",
    )
    args = parser.parse_args()
    if not (DATA / "events.dev.jsonl").is_file():
        raise SystemExit(
            f"shared data not found at {DATA}: ../shared/data must sit beside the repo"
        )
    weeks = [parse_week(w) for w in args.weeks.split(",") if w.strip()]
    modes = (
        ["plain"] if args.plain else ["engagement"] if args.engagement else ["engagement", "plain"]
    )
    events, items = load_events(DATA / "events.dev.jsonl"), load_items(DATA / "items.dev.jsonl")
    commit = measured_commit()
    started = timer.perf_counter()
    results: dict[str, Any] = {}
    step = timedelta(hours=args.step_hours)
    with tempfile.TemporaryDirectory(prefix="realweek-") as tmp:
        # The two replays run side by side (a CLI process each at a time): one per core.
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            into = args.keep or Path(tmp)
            runs = {
                m: pool.submit(rebuild_weeks, m, args.rebuild / m, into / m, weeks)
                if args.rebuild
                else pool.submit(replay_weeks, m, into / m, weeks, step)
                for m in modes
            }
            for mode, run in runs.items():
                results[mode] = score(run.result(), weeks, events, items)
        for mode, figures in results.items():
            report(mode, figures)
    total = timer.perf_counter() - started
    for mode, figures in results.items():
        if "2025-W28" in figures["toc"]:
            print(f"\n2025-W28 ({mode}): " + " | ".join(figures["toc"]["2025-W28"]))
    print(f"\ntotal {total:.1f} s")
    print(
        json.dumps(
            {
                "commit": commit,
                "total_seconds": _round(total),
                "step_hours": args.step_hours,
                **results,
            }
        )
    )


if __name__ == "__main__":
    main()
