"""Hand-built issues for the publish tests: an ordinary week, and one full of hostile text."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from digest.models import Article, Citation, Issue, Note, Section, Sentence, Story, Summary, Theme

BASE_URL = "https://digest.example.com/"


def _article(key: str, title: str, url: str, summary: str, author: str = "") -> Article:
    return Article(
        id=f"a-{key}",
        url=url,
        title=title,
        summary=summary,
        source=f"{key.split('-')[0].title()} News",
        published_at=datetime(2026, 11, 18, 9, 0, tzinfo=UTC),
        content_hash=f"h-{key}",
        author=author,
    )


def _section(theme_id: str, name: str, story_titles: list[str], tag: str) -> Section:
    stories = []
    citations = []
    for n, title in enumerate(story_titles, 1):
        key = f"{theme_id}-{tag}-{n}"
        url = f"https://{theme_id}.example.org/{tag}/{n}"
        article = _article(key, title, url, f"{title}, as reported in week {tag}.")
        stories.append(Story(id=f"s-{key}", title=title, articles=(article,)))
        citations.append(Citation(n, article.id, url, title, article.source))
    summary = Summary(
        headline=f"{story_titles[0]} leads the week",
        what_happened=tuple(Sentence(f"{t}.", (n,)) for n, t in enumerate(story_titles, 1)),
        why_it_matters=(Sentence(f"{name} moves faster than expected.", (1,)),),
    )
    theme = Theme(theme_id, name, (theme_id,), tuple(stories))
    return Section(theme, summary, tuple(citations))


def week_issue(monday: date, stories: dict[str, list[str]], title: str) -> Issue:
    """An issue for the week of monday; stories maps a theme name to its story titles."""
    year, week, _ = monday.isocalendar()
    tag = f"w{week}"
    sections = tuple(
        _section(name.lower().split()[0], name, titles, tag) for name, titles in stories.items()
    )
    hit_url = f"https://hits.example.com/{tag}"
    hit = Note(
        Sentence(f"A small model tops a leaderboard in week {week}.", (1,)),
        (Citation(1, f"hit-{tag}", hit_url, "Leaderboard", "LB Blog"),),
    )
    return Issue(
        id=f"{year}-w{week:02d}",
        title=title,
        week_start=monday,
        week_end=monday + timedelta(days=6),
        built_at=datetime.combine(monday + timedelta(days=7), datetime.min.time(), UTC),
        intro=f"Week {week}: {', '.join(stories)}.",
        published_at=datetime.combine(monday + timedelta(days=7), time(9), UTC),
        sections=sections,
        quick_hits=(hit,),
    )


def two_weeks() -> list[Issue]:
    """Two ordinary issues, newest first, sharing the theme 'Agents'."""
    older = week_issue(
        date(2026, 11, 9),
        {
            "Agents at work": ["Lighthouse agent books travel", "Agents learn spreadsheets"],
            "Chips and supply": ["Foundry doubles accelerator output"],
        },
        "digest — week 46: Lighthouse agent books travel",
    )
    newer = week_issue(
        date(2026, 11, 16),
        {
            "Agents at work": ["Coding agents ship to everyone", "Agent benchmarks saturate"],
            "Audio models": ["Open speech model rivals studio voices"],
        },
        "digest — week 47: Coding agents ship to everyone",
    )
    return [newer, older]


PAYLOADS = (
    "<script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=1">',
    '"><svg onload="window.pwned=1">',
    "</title><script>window.pwned=1</script>",
    "]]><script>window.pwned=1</script>",
    '<a href="javascript:window.pwned=1">click</a>',
    '<iframe src="data:text/html,<script>parent.pwned=1</script>"></iframe>',
    "\x00\x0b<style>body{display:none}</style>",
    "{{ 7*7 }}{% raw %}",
)
HOSTILE_URLS = (
    "javascript:window.pwned=1",
    " JaVaScRiPt:window.pwned=1",
    "data:text/html;base64,PHNjcmlwdD5wYXJlbnQucHduZWQ9MTwvc2NyaXB0Pg==",
    'https://ok.example.com/" onmouseover="window.pwned=1',
    "vbscript:msgbox(1)",
)


def hostile_issue() -> Issue:
    """Every text and link a source or an LLM controls, filled with attempts to run code."""
    evil = " ".join(PAYLOADS)
    articles = tuple(
        _article(f"evil-{n}", f"{p} title", url, f"{p} summary", author=p)
        for n, (p, url) in enumerate(zip(PAYLOADS, HOSTILE_URLS * 2, strict=False), 1)
    )
    stories = tuple(Story(f"s-{a.id}", a.title, (a,)) for a in articles)
    citations = tuple(
        Citation(n, a.id, a.url, a.title, f"{a.author} source") for n, a in enumerate(articles, 1)
    )
    cite_all = tuple(range(1, len(citations) + 1))
    summary = Summary(
        headline=f"Headline {evil}",
        what_happened=tuple(Sentence(f"{p} happened.", (n,)) for n, p in enumerate(PAYLOADS, 1)),
        why_it_matters=(Sentence(f"It matters {evil}", cite_all),),
        technical=(Sentence(f"Technically {evil}", (1,)),),
        winners_losers=(Sentence(f"Winners {evil}", (2,)),),
    )
    section = Section(Theme("evil", f"Theme {evil}", PAYLOADS, stories), summary, citations)
    notes = tuple(
        Note(Sentence(f"{p} note", (1,)), (Citation(1, f"n{n}", url, p, p),))
        for n, (p, url) in enumerate(zip(PAYLOADS, HOSTILE_URLS * 2, strict=False))
    )
    return Issue(
        id="2026-w48",
        title=f"Week 48 {evil}",
        week_start=date(2026, 11, 23),
        week_end=date(2026, 11, 29),
        built_at=datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
        intro=f"Intro {evil}",
        sections=(section,),
        quick_hits=notes,
        research=notes,
        watch=notes,
    )
