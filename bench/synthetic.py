"""A seeded synthetic week of AI news: events told by one to four sources in different words."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

LABS = [
    "OpenAI",
    "Anthropic",
    "Google DeepMind",
    "Meta",
    "Mistral",
    "Alibaba Qwen",
    "DeepSeek",
    "Moonshot",
    "Cohere",
    "xAI",
    "NVIDIA",
    "Microsoft",
    "Apple",
    "Amazon",
    "Hugging Face",
]
FAMILIES = [
    "Nova",
    "Atlas",
    "Orion",
    "Vega",
    "Lyra",
    "Helix",
    "Quill",
    "Falcon",
    "Cedar",
    "Juno",
    "Pico",
    "Sable",
    "Tern",
    "Umbra",
    "Wren",
    "Zephyr",
    "Kestrel",
    "Ibis",
]
TOPICS = {
    "reasoning": ("reasoning model", "scores {n}% on AIME 2026", "chain-of-thought", "math"),
    "coding": ("coding agent", "resolves {n}% of SWE-bench Verified issues", "repositories", "IDE"),
    "speech": ("speech model", "cuts word error rate to {n}%", "voice", "transcription"),
    "video": ("video model", "renders {n}-second clips at 1080p", "video", "frames"),
    "policy": ("AI rule", "fines of up to {n}% of turnover", "regulators", "compliance"),
    "chips": ("accelerator", "delivers {n} petaflops per rack", "data centre", "GPUs"),
    "robotics": ("robot policy", "succeeds on {n}% of household tasks", "robots", "manipulation"),
    "safety": ("interpretability tool", "finds {n} deceptive features", "alignment", "evals"),
    "distillation": (
        "distilled model",
        "keeps {n}% of the teacher's quality",
        "students",
        "traces",
    ),
}
OPENERS = [
    "{lab} released {name}, a new {kind} that {claim}.",
    "{lab} has unveiled {name}, its latest {kind}, saying it {claim}.",
    "On {day}, {lab} announced {name}; the {kind} {claim}, according to the company.",
    "{name}, a {kind} from {lab}, {claim} in tests published this week.",
]
FOLLOWERS = [
    "The release focuses on {a} and {b}, areas where rivals have moved quickly this year.",
    "Researchers said the gains come mostly from better {a} data and longer {b} training.",
    "For developers, this means cheaper {a} workloads and fewer hand-written {b} pipelines.",
    "Critics noted that independent evaluations of {a} and {b} are still missing.",
    "The company plans wider availability next month, starting with {a} customers.",
    "Early users on forums compared it with last year's {b} systems and found it faster.",
    "Pricing was not disclosed, though {lab} said enterprise {a} access comes first.",
]
NOISE = [
    "A new release of a popular database adds {n} performance fixes and a faster planner.",
    "A city council approved {n} kilometres of protected bike lanes after a long debate.",
    "A mechanical keyboard maker shipped a {n}-key board with hot-swappable switches.",
    "A programming language's {n}th minor release tightens its borrow checker rules.",
]


@dataclass(frozen=True)
class Item:
    """One feed item of the synthetic week."""

    source: int
    title: str
    link: str
    summary: str
    published: datetime
    event: int


def generate(articles: int, sources: int, seed: int = 47) -> list[Item]:
    """About `articles` items over `sources` feeds; each event is told 1-4 times in other words."""
    rng = random.Random(seed)
    monday = datetime(2026, 11, 16, tzinfo=UTC)
    last = monday + timedelta(days=7, seconds=-1)
    items: list[Item] = []
    event = 0
    while len(items) < articles:
        event += 1
        if rng.random() < 0.12:
            text = rng.choice(NOISE).format(n=rng.randint(2, 400))
            when = monday + timedelta(minutes=rng.randint(0, 7 * 24 * 60 - 1))
            src = rng.randrange(sources)
            items.append(
                Item(src, text.split(" after ")[0][:90], _link(src, event, 0), text, when, -event)
            )
            continue
        topic = rng.choice(list(TOPICS))
        kind, claim, a, b = TOPICS[topic]
        lab = rng.choice(LABS)
        name = f"{rng.choice(FAMILIES)}-{rng.randint(2, 9)}.{rng.randint(0, 9)}"
        number = rng.randint(5, 98)
        start = monday + timedelta(minutes=rng.randint(0, 6 * 24 * 60))
        reports = rng.choices([1, 2, 3, 4], weights=[45, 30, 15, 10])[0]
        for report, src in enumerate(rng.sample(range(sources), min(reports, sources))):
            when = min(start + timedelta(minutes=rng.randint(0, 36 * 60)), last)
            fields = {
                "lab": lab,
                "name": name,
                "kind": kind,
                "claim": claim.format(n=number),
                "day": when.strftime("%A"),
                "a": a,
                "b": b,
            }
            lede = rng.choice(OPENERS).format(**fields)
            body = " ".join(f.format(**fields) for f in rng.sample(FOLLOWERS, rng.randint(2, 4)))
            title = rng.choice(
                [
                    f"{lab} launches {name} {kind}",
                    f"{name}: {claim.format(n=number)}",
                    f"{lab}'s {name} {kind} is here",
                    f"Hands-on with {lab} {name}",
                ]
            )
            items.append(Item(src, title, _link(src, event, report), f"{lede} {body}", when, event))
    return items[:articles]


def _link(source: int, event: int, report: int) -> str:
    return f"https://outlet{source}.example/news/{event}-{report}"


def rss(items: list[Item], title: str) -> bytes:
    """An RSS 2.0 document of these items."""
    entries = "".join(
        f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
        f"<guid>{escape(i.link)}</guid><pubDate>{format_datetime(i.published)}</pubDate>"
        f"<description>{escape('<p>' + i.summary + '</p>')}</description></item>"
        for i in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link>"
        f"<description>synthetic</description>{entries}</channel></rss>"
    ).encode()
