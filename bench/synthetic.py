"""A seeded synthetic week of AI news: distinct events, each told by outlets in their own words.

Real AI news (../shared/data/ai_news_multisource_2025-07) has titles of 24-96 characters
(median 52) and summaries from nothing to about 1,700 characters (median about 380). One event
(a model release, a funding round, a bill) is told by a few outlets, sometimes by a dozen; what
tells two events apart is their specifics: who, which product, which numbers. So every event
here gets its own fact sheet (actor, product, numbers, places, partners), and every report of
it picks its own title, lede, subset of facts, phrasing of each fact and order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from synthetic_words import (
    BACKGROUND,
    BENCHMARKS,
    CITIES,
    COMMENTARY,
    FIRST,
    INVESTORS,
    LABS,
    LAST,
    LICENSES,
    NOISE,
    PLATFORMS,
    REGIONS,
    USES,
)


@dataclass(frozen=True)
class Item:
    """One feed item of the synthetic week; `event` is the truth (negative: an off-topic item)."""

    source: int
    title: str
    link: str
    summary: str
    published: datetime
    event: int


Facts = dict[str, str]
Coin = Callable[[], str]  # a made-up name not used before this week
# Per kind: how facts are drawn, then titles, ledes and fact sentences (one or more wordings).
Kind = tuple[
    Callable[[random.Random, Facts, Coin], None],
    list[str],
    list[str],
    dict[str, list[str]],
]


def _model(rng: random.Random, f: Facts, coin: Coin) -> None:
    f["area"] = rng.choice(
        ["reasoning", "coding", "multilingual", "vision-language", "speech", "small on-device"]
    )
    f["params"] = str(rng.choice([1, 3, 7, 8, 14, 24, 32, 70, 120, 235, 405, 480, 671, 1000]))
    f["active"] = str(rng.randint(2, 40))
    f["bench"] = rng.choice(BENCHMARKS)
    f["score"] = f"{rng.randint(20, 96)}.{rng.randint(0, 9)}"
    f["ctx"] = str(rng.choice([32, 64, 128, 200, 256, 512, 1000, 2000]))
    f["price"] = f"{rng.randint(1, 15)}.{rng.choice(['00', '20', '50', '75'])}"
    f["license"] = rng.choice(LICENSES)
    f["platform"] = rng.choice(PLATFORMS)
    f["tokens"] = str(rng.randint(4, 40))


def _funding(rng: random.Random, f: Facts, coin: Coin) -> None:
    f["startup"] = f"{coin()}{rng.choice(['AI', ' Labs', ' Systems', 'ly', 'ify'])}"
    f["amount"] = str(rng.choice([12, 18, 25, 40, 65, 80, 110, 150, 250, 400, 600, 900, 1500]))
    f["round"] = rng.choice(["seed", "Series A", "Series B", "Series C", "Series D"])
    f["investor"] = rng.choice(INVESTORS)
    f["valuation"] = f"{rng.randint(1, 60)}.{rng.randint(0, 9)}"
    f["city"] = rng.choice(CITIES)
    f["staff"] = str(rng.randint(9, 400))
    f["product"] = f["use"]
    f["founder"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _policy(rng: random.Random, f: Facts, coin: Coin) -> None:
    f["region"] = rng.choice(REGIONS)
    f["bill"] = f"{rng.choice(['SB', 'AB', 'HB', 'Bill C-', 'Act No. '])}{rng.randint(10, 2999)}"
    f["fine"] = str(rng.randint(1, 9))
    f["cap"] = str(rng.choice([10, 20, 35, 50, 100, 500]))
    f["month"] = rng.choice(["January", "March", "April", "June", "September", "October"])
    f["year"] = str(rng.choice([2027, 2028]))
    f["vote"] = f"{rng.randint(30, 90)} to {rng.randint(2, 29)}"
    f["rule"] = rng.choice(
        ["watermark AI-generated images", "disclose training data", "report safety incidents",
         "register frontier models", "label chatbots as machines", "audit hiring algorithms"]
    )  # fmt: skip
    f["agency"] = rng.choice(["the data protection authority", "the AI Office", "the FTC",
                              "the attorney general", "a new AI safety board"])  # fmt: skip


def _chip(rng: random.Random, f: Facts, coin: Coin) -> None:
    f["chip"] = f"{coin()[:4].upper()}-{rng.randint(2, 9)}{rng.choice(['00', '50', '10'])}"
    f["pflops"] = str(rng.randint(2, 60))
    f["mem"] = str(rng.choice([96, 141, 192, 288, 384, 512]))
    f["nm"] = str(rng.choice([2, 3, 4, 5]))
    f["cloud"] = rng.choice(["AWS", "Azure", "Google Cloud", "Oracle", "CoreWeave", "Lambda"])
    f["quarter"] = f"Q{rng.randint(1, 4)} {rng.choice([2027, 2028])}"
    f["watts"] = str(rng.choice([700, 1000, 1200, 1400, 1800]))
    f["site"] = rng.choice(CITIES)
    f["mw"] = str(rng.choice([50, 120, 300, 500, 1000, 2000]))


def _paper(rng: random.Random, f: Facts, coin: Coin) -> None:
    f["method"] = f"{coin()}{rng.choice(['Net', 'Former', 'RL', 'Search', 'Mix'])}"
    f["gain"] = str(rng.randint(3, 45))
    f["task"] = f["use"]
    f["uni"] = rng.choice(
        ["Stanford", "MIT", "ETH Zurich", "Tsinghua", "Oxford", "CMU", "Mila", "KAIST", "EPFL"]
    )
    f["author"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    f["venue"] = rng.choice(["NeurIPS", "ICLR", "ICML", "ACL", "CVPR", "COLM"])
    f["data"] = f"{rng.randint(2, 900)}"
    f["speed"] = f"{rng.randint(2, 12)}"


def _security(rng: random.Random, f: Facts, coin: Coin) -> None:
    f["service"] = rng.choice(["ChatGPT", "Claude", "Gemini", "Copilot", "Grok", "Le Chat", ""])
    f["service"] = f["service"] or f"{coin()} {rng.choice(['Chat', 'Assistant', 'Studio'])}"
    f["hours"] = str(rng.randint(2, 19))
    f["users"] = f"{rng.randint(2, 95)}"
    f["cve"] = f"CVE-2026-{rng.randint(10000, 99999)}"
    f["flaw"] = rng.choice(
        ["prompt injection in browsing", "a leaked API key", "a misconfigured cache",
         "a malicious plugin", "a jailbreak via images", "a poisoned dependency"]
    )  # fmt: skip
    f["bounty"] = str(rng.choice([5, 10, 20, 25, 50, 100]))
    f["researcher"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _tool(rng: random.Random, f: Facts, coin: Coin) -> None:
    f["tool"] = f"{coin().lower()}{rng.choice(['-cli', '.cpp', 'kit', '-rs', 'db'])}"
    f["ver"] = f"{rng.randint(0, 4)}.{rng.randint(1, 30)}"
    f["stars"] = str(rng.randint(2, 90))
    f["lang"] = rng.choice(["Rust", "Go", "Python", "C++", "TypeScript", "Zig"])
    f["feature"] = rng.choice(
        ["speculative decoding", "4-bit quantisation", "tool calling", "a web UI",
         "multi-GPU offload", "structured output", "an MCP server", "vision input"]
    )  # fmt: skip
    f["tps"] = str(rng.randint(15, 400))
    f["hw"] = rng.choice(["an RTX 5090", "a Mac Studio", "two 3090s", "a Raspberry Pi 6",
                          "a Ryzen AI laptop", "a single H200"])  # fmt: skip


def _deal(rng: random.Random, f: Facts, coin: Coin) -> None:
    f["target"] = f"{coin()}{rng.choice(['AI', ' Robotics', ' Data', 'works'])}"
    f["price"] = str(rng.choice([45, 90, 200, 350, 700, 1200, 3200, 6500]))
    f["staff"] = str(rng.randint(12, 800))
    f["city"] = rng.choice(CITIES)
    f["close"] = rng.choice(["by the end of the year", f"in Q{rng.randint(1, 3)} 2027",
                             "pending regulatory approval"])  # fmt: skip
    f["exec"] = f"{rng.choice(FIRST)} {rng.choice(LAST)}"


KINDS: dict[str, Kind] = {
    "model": (
        _model,
        [
            "{lab} releases {name}, a {params}B {area} model for {use}",
            "{name}: {lab}'s new {area} model scores {score} on {bench}",
            "{lab} {name} is out ({params}B, {ctx}K context)",
            "Hands-on with {name}, the {area} model from {lab}",
            "{name} beats rivals on {bench}",
            "{lab} open-sources {name} for {use}",
            "{name} from {lab} takes on {use}",
        ],
        [
            "{lab} released {name}, a {area} model for {use} with {params} billion parameters.",
            "{lab} has unveiled {name}, its new {area} model, which scores {score} on {bench}.",
            "On {day}, {lab} announced {name}, a {params}B model aimed at {use}.",
            "{name}, a new {lab} model built for {use}, is now available on {platform}.",
        ],
        {
            "active": [
                "It uses a mixture of experts with {active} billion active parameters.",
                "Only {active}B parameters are active per token.",
            ],
            "bench": [
                "{name} scores {score} on {bench}, according to {lab}.",
                "On {bench} it reaches {score}, ahead of the previous {lab} model.",
            ],
            "ctx": [
                "The context window is {ctx}K tokens.",
                "{name} reads up to {ctx},000 tokens at once.",
            ],
            "price": [
                "API pricing is ${price} per million output tokens.",
                "{lab} charges ${price} per million tokens of output.",
            ],
            "license": [
                "Weights are published under {license} on {platform}.",
                "The weights come with {license}.",
            ],
            "tokens": [
                "It was trained on {tokens} trillion tokens.",
                "{lab} says the training run used {tokens}T tokens of data.",
            ],
        },
    ),
    "funding": (
        _funding,
        [
            "{startup} raises ${amount}M {round} led by {investor}",
            "{startup}, a {product} startup, raises ${amount} million",
            "{investor} leads ${amount}M round in {startup}",
            "{startup} is now valued at ${valuation}B",
        ],
        [
            "{startup}, a {city} startup building AI for {product}, raised ${amount} million.",
            "{startup} has closed a ${amount}M {round} round led by {investor}.",
            "AI {product} company {startup} said on {day} it raised ${amount} million.",
        ],
        {
            "round": [
                "The {round} round was led by {investor}.",
                "{investor} led the round, a {round}.",
            ],
            "valuation": [
                "The deal values {startup} at ${valuation} billion.",
                "{startup} is now worth ${valuation}B, people familiar said.",
            ],
            "staff": [
                "The company employs {staff} people in {city}.",
                "{startup} plans to grow from {staff} staff.",
            ],
            "founder": [
                "{founder}, the chief executive, founded {startup} after leaving {lab}.",
                "Co-founder {founder} previously worked at {lab}.",
            ],
            "product": [
                "Its software automates {product} with language models.",
                "Customers use {startup} for {product}.",
            ],
        },
    ),
    "policy": (
        _policy,
        [
            "{region} passes {bill} to {rule} in {use}",
            "Lawmakers in {region} approve AI bill {bill}",
            "{bill}: {region} will require companies to {rule}",
            "New AI rules in {region}: fines of up to {fine}% of revenue",
        ],
        [
            "Lawmakers in {region} approved {bill}, which requires AI used for {use} to {rule}.",
            "{region} voted {vote} on {day} to pass {bill}.",
            "A new law in {region}, {bill}, will force makers of AI for {use} to {rule}.",
        ],
        {
            "fine": [
                "Violations can cost up to {fine}% of annual revenue.",
                "Fines reach {fine} percent of global turnover.",
            ],
            "cap": [
                "It applies to firms with more than ${cap} million in revenue.",
                "Companies below ${cap}M in revenue are exempt.",
            ],
            "month": [
                "The rules take effect in {month} {year}.",
                "Companies have until {month} {year} to comply.",
            ],
            "vote": ["The bill passed {vote}.", "The final vote was {vote}."],
            "agency": ["Enforcement falls to {agency}.", "{agency} will oversee compliance."],
        },
    ),
    "chip": (
        _chip,
        [
            "{lab} unveils {chip} AI accelerator",
            "{chip}: {lab} builds a chip for {use}",
            "{lab}'s {chip} chip promises {pflops} petaflops",
            "{lab} {chip}: {mem}GB of memory, shipping {quarter}",
            "{lab} to build {mw} MW data centre in {site}",
        ],
        [
            "{lab} announced the {chip}, a {pflops}-petaflop accelerator pitched at {use}.",
            "{lab} unveiled its {chip} chip on {day}, with {mem} GB of HBM.",
            "The {chip} from {lab} will ship in {quarter}, the company said.",
        ],
        {
            "mem": [
                "Each {chip} carries {mem} GB of high-bandwidth memory.",
                "Memory rises to {mem}GB per package.",
            ],
            "nm": [
                "It is made on a {nm}-nanometre process.",
                "The chip uses {nm}nm manufacturing.",
            ],
            "cloud": [
                "{cloud} will be the first cloud to offer the {chip}.",
                "First deployments go to {cloud}.",
            ],
            "watts": ["It draws {watts} watts per chip.", "Power per chip is {watts} W."],
            "mw": [
                "{lab} also plans a {mw} MW data centre in {site}.",
                "A {mw}-megawatt campus in {site} will house the chips.",
            ],
        },
    ),
    "paper": (
        _paper,
        [
            "{method} improves {task} by {gain}%",
            "{uni} researchers present {method} for {task}",
            "Paper: {method}, {gain}% better {task} ({venue})",
            "New {venue} paper from {uni}: {method}",
        ],
        [
            "Researchers at {uni} introduced {method}, a method for {task}.",
            "A paper at {venue} from {uni} reports that {method} improves {task} by {gain}%.",
            "{method}, from a team led by {author} at {uni}, targets {task}.",
        ],
        {
            "gain": [
                "It beats the previous best by {gain}% on standard {task} tests.",
                "Accuracy improves {gain} percent over baselines.",
            ],
            "data": [
                "The team trained it on {data} thousand examples.",
                "Training used a dataset of {data}K samples.",
            ],
            "speed": [
                "It runs {speed} times faster than earlier methods.",
                "Inference is {speed}x faster.",
            ],
            "author": ["The work is led by {author}.", "{author} is the first author."],
            "venue": ["The paper appears at {venue}.", "It was accepted to {venue}."],
        },
    ),
    "security": (
        _security,
        [
            "{service} outage lasts {hours} hours",
            "Security flaw in {service}: {flaw} ({cve})",
            "{service} hit by {flaw}",
            "{service} leaked {use} data, researcher says",
            "{lab} patches {cve} in {service}",
        ],
        [
            "{service} was down for {hours} hours on {day} after {flaw}.",
            "A security researcher found {flaw} in {service}, tracked as {cve}.",
            "{lab} said {flaw} exposed {use} data of {users} thousand {service} users.",
        ],
        {
            "users": [
                "About {users} thousand accounts were affected.",
                "The issue touched {users}K users.",
            ],
            "cve": ["The flaw is tracked as {cve}.", "It was assigned {cve}."],
            "bounty": [
                "{researcher} received a ${bounty},000 bounty.",
                "The bug bounty paid ${bounty}K to {researcher}.",
            ],
            "hours": [
                "Service was restored after {hours} hours.",
                "The outage lasted {hours} hours in total.",
            ],
        },
    ),
    "tool": (
        _tool,
        [
            "{tool} {ver} adds {feature}",
            "{tool}: local LLMs for {use}",
            "{tool} {ver} released: {tps} tokens/s on {hw}",
            "Show HN: {tool}, a {lang} tool for local LLMs",
            "{tool} hits {stars}K GitHub stars",
        ],
        [
            "{tool} {ver}, an open-source {lang} tool for running models locally, adds {feature}.",
            "Version {ver} of {tool}, popular for {use}, is out with {feature}.",
            "The {lang} inference tool {tool} released {ver} this week.",
        ],
        {
            "tps": [
                "Users report {tps} tokens per second on {hw}.",
                "On {hw} it generates about {tps} tok/s.",
            ],
            "stars": [
                "The repository has {stars}K stars on GitHub.",
                "{tool} passed {stars},000 GitHub stars.",
            ],
            "lang": ["It is written in {lang}.", "The code base is {lang}."],
            "feature": ["The headline change is {feature}.", "{feature} was the most requested."],
        },
    ),
    "deal": (
        _deal,
        [
            "{lab} acquires {target} for ${price}M",
            "{lab} buys {target}",
            "{target} sold to {lab} in ${price} million deal",
            "{lab} to acquire {target}, maker of AI for {use}",
        ],
        [
            "{lab} agreed to buy {target}, a {city} startup for {use}, for ${price} million.",
            "{lab} is acquiring {target} in a deal worth ${price}M.",
            "{target}, based in {city}, will join {lab}, the companies said on {day}.",
        ],
        {
            "staff": [
                "All {staff} {target} employees will join {lab}.",
                "{target} has {staff} staff.",
            ],
            "close": ["The deal is expected to close {close}.", "Closing is expected {close}."],
            "exec": [
                "{target} chief executive {exec} will report to {lab}'s AI chief.",
                "{exec}, who runs {target}, stays on.",
            ],
        },
    ),
}
KIND_WEIGHTS = {"model": 30, "funding": 15, "policy": 8, "chip": 8, "paper": 14, "security": 7,
                "tool": 12, "deal": 6}  # fmt: skip
# How many outlets tell one event: most events once, a few by a dozen (mean about 2.5).
REPORTS = ([1, 2, 3, 4, 5, 6, 8, 10, 14], [46, 21, 12, 7, 5, 4, 2.5, 1.5, 1])
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _capital(sentence: str) -> str:
    """'the AI Office will...' opens a sentence as 'The AI Office will...' (names keep case)."""
    return f"T{sentence[1:]}" if sentence.startswith("the ") else sentence


def _fill(text: str, facts: Facts) -> str:
    return text.format(**facts)


def _summary(rng: random.Random, facts: Facts, kind: Kind) -> str:
    """One outlet's text: a lede, some of the event's facts in its wording, maybe commentary."""
    _, _, ledes, sentences = kind
    shape = rng.random()
    if shape < 0.06:
        return ""  # a link post: title only
    lede = _capital(_fill(rng.choice(ledes), facts))
    if shape < 0.16:
        return lede
    keys = rng.sample(list(sentences), rng.randint(2, len(sentences)))
    said = [lede, *(_fill(rng.choice(sentences[k]), facts) for k in keys)]
    said += rng.sample(COMMENTARY, rng.randint(0, 3))
    if shape > 0.6:  # a longer piece: more commentary and some background
        said += rng.sample(COMMENTARY, rng.randint(1, 4))
        said += rng.sample(BACKGROUND, rng.randint(5, 12) if shape > 0.85 else rng.randint(1, 3))
    return " ".join(_capital(_fill(s, facts)) for s in dict.fromkeys(said))


SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ven",
    "tor",
    "zu",
    "qi",
    "nel",
    "dar",
    "sen",
    "vo",
    "lis",
    "mar",
    "tek",
    "ro",
    "ba",
    "fi",
    "gon",
    "hal",
]
ORGS = ["AI", "Labs", "Research", "Systems", "Robotics", "Intelligence", "Compute"]


def _coiner(rng: random.Random) -> Coin:
    """Names like 'Kalomi' or 'Tekvo', each given out once."""
    taken: set[str] = set()

    def coin() -> str:
        while True:
            word = "".join(rng.choices(SYLLABLES, k=rng.choice([2, 2, 3]))).capitalize()
            if word not in taken:
                taken.add(word)
                return word

    return coin


def _event_facts(rng: random.Random, kind: str, coin: Coin) -> Facts:
    """Who and what: a known lab a third of the time, else a smaller outfit of its own."""
    lab = rng.choice(LABS) if rng.random() < 0.35 else f"{coin()} {rng.choice(ORGS)}"
    facts: Facts = {"lab": lab, "city": rng.choice(CITIES), "use": rng.choice(USES)}
    version = f"{rng.randint(1, 9)}{rng.choice(['', '.5', ' Pro', '-Mini', '.1'])}"
    facts["name"] = f"{coin()}{rng.choice(['-', ' '])}{version}"
    KINDS[kind][0](rng, facts, coin)
    return facts


def generate(articles: int, sources: int, seed: int = 47) -> list[Item]:
    """About `articles` items over `sources` feeds, in events each told by 1-14 outlets."""
    rng = random.Random(seed)
    monday = datetime(2026, 11, 16, tzinfo=UTC)
    last = monday + timedelta(days=7, seconds=-1)
    items: list[Item] = []
    coin = _coiner(rng)
    event = 0
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    while len(items) < articles:
        event += 1
        if rng.random() < 0.1:
            title, text = rng.choice(NOISE)
            fill = {"n": rng.randint(2, 400), "m": rng.randint(2, 90), "name": coin()}
            fill |= {
                "city": rng.choice(CITIES),
                "person": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            }
            when = monday + timedelta(minutes=rng.randint(0, 7 * 24 * 60 - 1))
            src = rng.randrange(sources)
            link = _link(src, event, 0)
            items.append(Item(src, title.format(**fill), link, text.format(**fill), when, -event))
            continue
        kind_name = rng.choices(kinds, weights)[0]
        kind = KINDS[kind_name]
        facts = _event_facts(rng, kind_name, coin)
        start = monday + timedelta(minutes=rng.randint(0, 6 * 24 * 60))
        reports = rng.choices(*REPORTS)[0]
        titles = kind[1]
        for report, src in enumerate(rng.sample(range(sources), min(reports, sources))):
            when = min(start + timedelta(minutes=rng.randint(0, 36 * 60)), last)
            facts["day"] = DAYS[when.weekday()]
            title = _capital(_fill(rng.choice(titles), facts))
            summary = _summary(rng, facts, kind)
            items.append(Item(src, title, _link(src, event, report), summary, when, event))
    return items[:articles]


def _link(source: int, event: int, report: int) -> str:
    return f"https://outlet{source}.example/news/{event}-{report}"


def rss(items: list[Item], title: str) -> bytes:
    """An RSS 2.0 document of these items."""
    entries = "".join(
        f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
        f"<guid>{escape(i.link)}</guid><pubDate>{format_datetime(i.published)}</pubDate>"
        f"<description>{escape('<p>' + i.summary + '</p>' if i.summary else '')}</description>"
        f"</item>"
        for i in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link>"
        f"<description>synthetic</description>{entries}</channel></rss>"
    ).encode()
