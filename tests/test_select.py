"""Which stories make the issue: news over chatter, each event once, an event that goes on as
an update."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from digest.analyze import SECTION_RANK, plan_issue
from digest.analyze.events import event_section
from digest.analyze.kinds import outlet, own_site, post_kind
from digest.analyze.select import engagement_ranks, is_news, select_stories, story_value
from digest.families import reporting
from digest.models import Article, Story

WEEK_END = datetime(2026, 11, 23, tzinfo=UTC)
REDDIT = "reddit/r/LocalLLaMA"
HN = "hackernews"


def post(n: int, title: str, source: str = REDDIT, **fields: object) -> Article:
    thread = f"https://reddit.com/r/LocalLLaMA/comments/{n}"
    base = Article(
        f"a{n}",
        thread,
        title,
        "",
        source,
        datetime(2026, 11, 17, tzinfo=UTC) + timedelta(hours=n),
        f"h{n}",
        discussion_url=thread,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def story(sid: str, *articles: Article) -> Story:
    return Story(sid, articles[0].title, articles)


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=float)
    return v / np.linalg.norm(v)


def test_help_threads_and_show_offs_are_known_by_flair_or_by_their_words() -> None:
    assert post_kind(post(1, "GPU not being used", tags=("Question | Help",))) == "help"
    assert post_kind(post(2, "Noob question: which model for 8GB VRAM?")) == "help"
    assert post_kind(post(3, "Kimi K2 is out", summary="I have one 3090. Can I run it?")) == "help"
    assert post_kind(post(4, "My new 4x3090 build")) == "showoff"
    for title in ("Qwen3 0.6b MNN acting weird", "Issues with Qwen 3 Embedding models"):
        assert post_kind(post(7, title)) == "help", title
    assert post_kind(post(8, "Ollama won't use my GPU")) == "help"
    assert post_kind(post(9, "Meta says it won't sign Europe's AI code")) != "help"  # news
    assert post_kind(post(6, "Kimi K2", tags=("New Model",))) == "release"
    # A request in the title, or in the first sentence of the post, with no question mark.
    assert post_kind(post(10, "Advice on building an AI pc")) == "help"
    asks = "Are there any workstations built by Dell with 4 RTX 6000 Pro GPUs"
    assert post_kind(post(11, "AI workstation", summary=asks)) == "help"


def test_with_no_flair_a_post_linking_a_model_page_is_a_release_and_the_press_news() -> None:
    """A plain feed gives no flair: what the post links tells its kind, as the forum's flair
    would have (a model page: "New Model"; a newspaper's report: "News")."""
    assert post_kind(post(5, "EXAONE 4.0 32B", url="https://huggingface.co/LGAI/EXAONE")) == (
        "release"
    )
    meta = "Meta says it won't sign Europe AI agreement"
    assert post_kind(post(6, meta, url="https://www.cnbc.com/2025/07/18/meta.html")) == "news"
    assert post_kind(post(7, "A tiny kernel", url="https://github.com/x/tilck")) == ""
    assert post_kind(post(8, "Datasets", url="https://huggingface.co/datasets/x/y")) == ""
    # A forum's own post: a model page linked early releases it, a link's query asks nothing,
    # and a title that announces is news.
    hf = "Weights: [model](https://huggingface.co/codys12/Qwen3-8B-BitNet). Thoughts?"
    assert post_kind(post(10, "Qwen3-8B-BitNet", summary=hf)) == "release"
    chart = "https://preview.redd.it/a.png?width=680 Kyutai has open-sourced Kyutai TTS."
    assert post_kind(post(11, "Kyutai TTS: real-time voice cloning", summary=chart)) == (
        "discussion"
    )
    assert post_kind(post(12, "Kyutai Unmute (incl. TTS) released")) == "news"
    # The flair wins over the link.
    flaired = post(9, "Cheap GPUs", url="https://www.cnbc.com/x", tags=("Funny",))
    assert post_kind(flaired) == "meme"


def test_a_help_thread_or_an_item_not_about_ai_is_not_news_unless_its_source_is_general() -> None:
    assert not is_news(story("s1", post(1, "How do I run Llama on a Pi?")))
    cooking = story("s2", post(2, "Ten years of running every day, visualized", source=HN))
    assert not is_news(cooking)
    assert is_news(cooking, general_sources={HN})
    assert is_news(story("s3", post(3, "Grok 4 launch", source=HN)))
    # A model's size in parameters says it is about AI; a sum of money does not.
    assert is_news(story("s4", post(4, "EXAONE 4.0 32B", url="https://huggingface.co/L/E")))
    assert not is_news(story("s5", post(5, "Figma raises $3B", source=HN)))


def test_one_companys_pages_are_one_outlet_and_model_pages_count_as_the_thread() -> None:
    news = post(1, "a", url="https://www.anthropic.com/news/x")
    research = post(2, "b", url="https://anthropic.com/research/y")
    assert outlet(news) == outlet(research) == "Anthropic"
    # A model page is the thing reported, not an outlet: three of them in one story, posted
    # on one forum, are one outlet.
    pages = [post(n, "d", url=f"https://huggingface.co/lab{n}/model") for n in range(3, 6)]
    assert {outlet(p) for p in pages} == {REDDIT}
    # Hugging Face's own blog is Hugging Face reporting, not a page it hosts.
    assert outlet(post(6, "SmolLM3", url="https://huggingface.co/blog/smollm3")) == "Hugging Face"


def test_pictures_videos_and_galleries_posted_to_a_forum_count_as_the_forum() -> None:
    uploads = [
        post(1, "My rig", url="https://i.redd.it/x1.png"),
        post(2, "It runs on a phone", url="https://v.redd.it/x2"),
        post(3, "Benchmarks", url="https://www.reddit.com/gallery/x3"),
    ]
    assert {outlet(p) for p in uploads} == {"r/LocalLLaMA"}
    # Not "3 outlets": one community alone told it.
    told = reporting([*uploads, post(4, "A thread")])
    assert (told.outlets, told.only) == (0, "r/LocalLLaMA")


def test_many_sources_and_a_first_party_page_outweigh_one_popular_post() -> None:
    launch = story(
        "launch",
        post(1, "Kiro: a new agentic IDE", source=HN, url="https://kiro.dev/blog/intro"),
        post(2, "Amazon launches Kiro, an agentic IDE", url="https://aws.amazon.com/kiro"),
    )
    meme = story("meme", post(3, "when the model says no", score=5000, tags=("Funny",)))
    ranks = {"a3": 1.0, "a1": 0.5, "a2": 0.2}
    assert story_value(launch, ranks, WEEK_END) > story_value(meme, ranks, WEEK_END)


def test_pieces_of_one_event_are_told_once_and_help_posts_are_taken_out_of_a_story() -> None:
    release = story(
        "k1",
        post(1, "Kimi K2 released", url="https://moonshotai.github.io/Kimi-K2/"),
        post(2, "How do I fit Kimi K2 in 24GB?"),
    )
    quants = story("k2", post(3, "Kimi K2 quants are up", url="https://huggingface.co/u/k2-gguf"))
    other = story("g", post(4, "Grok 4 benchmarks", url="https://x.ai/news/grok-4"))
    vectors = np.vstack([unit(1, 0.8, 0), unit(1, 0.9, 0.4), unit(0, 0, 1)])
    chosen = select_stories([release, quants, other], vectors, WEEK_END, limit=5)
    assert len(chosen.stories) == 2
    kimi = next(s for s in chosen.stories if s.id != "g")
    assert [a.id for a in kimi.articles] == ["a1", "a3"]


def test_an_event_an_earlier_issue_told_comes_back_as_an_update_of_that_story() -> None:
    told = story("s-old", post(1, "Kimi K2 released", url="https://moonshotai.github.io/Kimi-K2/"))
    later = story("s-new", post(200, "Kimi K2 tops the creative writing benchmark"))
    fresh = story("s-grok", post(201, "Grok 4 launch", url="https://x.ai/news/grok-4"))
    chosen = select_stories(
        [later, fresh],
        np.vstack([unit(1, 0.2, 0), unit(0, 0, 1)]),
        WEEK_END,
        limit=5,
        published=[told],
        published_vectors=np.vstack([unit(1, 0.1, 0)]),
    )
    by_id = {s.id: s for s in chosen.stories}
    assert set(by_id) == {"s-old", "s-grok"}
    assert by_id["s-old"].is_update and [a.id for a in by_id["s-old"].articles] == ["a200"]
    assert not by_id["s-grok"].is_update


def test_an_event_that_runs_on_is_matched_to_its_published_story_by_the_names_it_carries() -> None:
    told = story("s-old", post(1, "moonshotai/Kimi-K2-Instruct (and Kimi-K2-Base)"))
    teaser = story("s-tease", post(2, "Moonshot AI about to release their 1T model?"))
    later = [
        story(f"s-{n}", post(100 + n, f"Kimi K2 {what}"))
        for n, what in enumerate(["tops creative writing", "on Aider", "is cheap", "on Groq"])
    ]
    moonshot = story("s-m", post(110, "Moonshot AI's open source Kimi K2 outperforms GPT-4"))
    # Each new post is fairly close to both (closer to neither than one event's pieces are).
    vectors = np.vstack([unit(1, 0.9, 0.6 + 0.01 * n) for n in range(4)] + [unit(0.8, 1, 0.6)])
    chosen = select_stories(
        [*later, moonshot],
        vectors,
        WEEK_END,
        limit=10,
        published=[told, teaser],
        published_vectors=np.vstack([unit(1, 0, 0), unit(0, 1, 0)]),
    )
    assert [(s.id, s.is_update, len(s.articles)) for s in chosen.stories] == [("s-old", True, 5)]


def test_pieces_sharing_a_launchs_versioned_name_are_one_entry_titled_by_the_news() -> None:
    # Four threads about Grok 4 the grouping left apart, loosely alike; one about Grok 3; and
    # the rest of a week, each of its own subject.
    pieces = [
        story("g1", post(1, "Grok 4 Benchmarks", tags=("News",), score=200)),
        story("g2", post(2, "Added Grok 4 to the UGI leaderboard today", tags=("Discussion",))),
        story(
            "g3", post(3, "xAI launches Grok 4 with a $300 a month plan", tags=("News",), score=120)
        ),
        story("g4", post(4, "Grok 4 is now live on LMArena", tags=("News",), score=40)),
        story("o1", post(5, "Grok 3 weights should be open by now", tags=("Discussion",))),
    ]
    others = [
        story(f"w{n}", post(10 + n, f"Lab{n} ships an LLM", tags=("News",))) for n in range(60)
    ]
    axes = np.eye(70)
    vectors = np.vstack(
        [
            unit(*(axes[0] + 0.9 * axes[1])),
            unit(*(axes[0] + 0.9 * axes[2])),
            unit(*(axes[0] + 0.6 * axes[3])),
            unit(*(axes[0] + 0.8 * axes[4])),
            unit(*(0.2 * axes[0] + axes[5])),
            *axes[6 : 6 + len(others)],
        ]
    )
    chosen = select_stories([*pieces, *others], vectors, WEEK_END, limit=70)
    grok = [s for s in chosen.stories if "Grok" in s.title]
    assert len(grok) == 2, [s.title for s in grok]  # the four Grok 4 pieces are one entry
    launch = next(s for s in grok if len(s.articles) == 4)
    assert "Grok 3" not in " ".join(a.title for a in launch.articles)
    # Titled by a news post that names the launch and says what happened, not the chatter.
    assert launch.title == "xAI launches Grok 4 with a $300 a month plan"


def test_engagement_counts_ten_times_the_upvotes_for_more_than_one_rank() -> None:
    week = [post(n, f"Model {n} released", score=s) for n, s in enumerate([3, 5, 8, 12, 40, 900])]
    week.append(post(9, "Model 9 released", score=90))
    ranks = engagement_ranks(week)
    assert ranks["a5"] == 1.0 > ranks["a9"] > ranks["a4"] > ranks["a0"]
    # A tenth of the top still counts for most of it: big posts are all big news.
    assert ranks["a9"] > 0.6


def test_a_launch_the_week_talks_about_is_a_section_named_after_it() -> None:
    titles = [
        "moonshotai/Kimi-K2-Instruct (and Kimi-K2-Base)",
        "Kimi K2 - 1T MoE, 32B active params",
        "Damn this is a deepseek moment for open source",
        "Kimi K2 is a state-of-the-art mixture-of-experts language model",
        "The 1T Kimi K2 model is using DeepSeek V3 architecture",
        "Interesting info about Kimi K2",
    ]
    launch = story("s-k2", *(post(n, t, tags=("New Model",)) for n, t in enumerate(titles)))
    section = event_section(launch)
    assert section is not None and section.name == "Kimi K2" and section.stories == (launch,)
    assert event_section(replace(launch, articles=launch.articles[:3])) is None  # not big
    chatter = story("s-gpu", *(post(n, f"My GPU setup number {n}") for n in range(8)))
    assert event_section(chatter) is None  # no name most of its posts carry


def test_one_product_at_two_versions_is_two_events_however_close() -> None:
    """ "Grok 3 should be open-sourced" and "Grok 4 is live" read alike; they are two events,
    and Grok 4's news joins Grok 4's launch, not the thread about Grok 3."""
    launch = story("g4", post(1, "Grok 4 Launch", score=900), post(2, "Grok 4 benchmarks"))
    grok3 = story("g3", post(3, "Grok 3 should be open-sourced now", score=400))
    live = story("live", post(4, "GROK 4 IS NOW LIVE ON LMARENA"))
    vectors = np.vstack([unit(1, 0, 0), unit(0.6, 1, 0), unit(0.5, 1, 0)])
    chosen = select_stories([launch, grok3, live], vectors, WEEK_END, limit=5)
    by_id = {s.id: {a.id for a in s.articles} for s in chosen.stories}
    assert by_id == {"g4": {"a1", "a2", "a4"}, "g3": {"a3"}}


def test_a_link_to_the_site_its_title_names_counts_as_first_party() -> None:
    """HN's link to Kiro's own announcement is the thing itself, like a lab's blog; a press
    report naming its paper, or a forum thread, is not."""
    kiro = post(1, "Kiro: A new agentic IDE", source=HN, url="https://kiro.dev/blog/introducing")
    press = post(2, "Grok 4 tops charts | TechCrunch", source=HN, url="https://techcrunch.com/x")
    blog = post(3, "Notes on agentic IDEs", source=HN, url="https://example.dev/blog/kiro")
    assert own_site(kiro)
    assert not own_site(press) and not own_site(blog)
    assert not own_site(post(4, "Reddit thread about Reddit"))
    # A site the outlet table does not know, signing its title, is not the thing it reports.
    signed = post(
        5, "MAXSUN preparing a Mini Station - VideoCardz.com", url="https://videocardz.com/x"
    )
    assert not own_site(signed)
    ranks = {"a1": 0.5, "a3": 0.5}
    assert story_value(story("k", kiro), ranks, WEEK_END) > story_value(
        story("b", blog), ranks, WEEK_END
    )


def test_a_forum_post_that_opens_on_the_things_own_page_counts_as_first_party() -> None:
    """W27: the whistleblower's post opens on the whistleblower's repository, Apple's
    DiffuCoder post on its model page; each is a post of that link in all but form. A link
    further down, or first to a blog, is not the post's."""
    repo = "https://github.com/HW-whistleblower/True-Story-of-Pangu"
    title, flair = "Huawei's Pangu AI rocked by claims of fraud", ("Discussion",)
    opens = f"[{repo}]({repo})\nafter reading the translation, is it true or a fake story?"
    claims = post(1, title, summary=opens, tags=flair)
    later = post(2, title, summary=f"Read the blog https://example.dev/day6 first, then {repo}")
    talk = post(3, title, summary="Is it true or a fake story?", tags=flair)
    ranks = {"a1": 0.9, "a2": 0.9, "a3": 0.9}
    value = {p.id: story_value(story(p.id, p), ranks, WEEK_END) for p in (claims, later, talk)}
    assert value["a1"] > value["a3"]
    assert value["a2"] == story_value(story("a2", replace(later, summary="")), ranks, WEEK_END)
    # The poster's own app, linked first in a post about llama.cpp's speed, is not the thing.
    app = "I am author of Hyprnote(https://github.com/fastrepl/hyprnote). llama.cpp got faster."
    speed = post(4, "Real numbers on how llama.cpp got faster", summary=app, tags=flair)
    bare = replace(speed, summary="")
    assert story_value(story("s", speed), ranks, WEEK_END) == story_value(
        story("s", bare), ranks, WEEK_END
    )


def test_two_reports_of_one_event_hours_apart_join_at_a_lower_closeness_than_days_apart() -> None:
    """ "OpenAI's open-weight model will debut next week" and "OpenAI's open LLM, coming next
    Thursday" came 2.6 h apart at cosine 0.70: one event; its delay three days later, as close
    in words, is another."""
    debut = story("s1", post(1, "open-weight model will debut as soon as next week"))
    reasoning = story("s2", post(3, "open source model is a reasoning model, coming next thursday"))
    delay = story("s3", post(80, "open weight model delayed again for safety tests"))
    side = (1 - 0.70**2) ** 0.5
    vectors = np.vstack([unit(1, 0, 0), unit(0.70, side, 0), unit(0.70, -side, 0)])
    chosen = select_stories([debut, reasoning, delay], vectors, WEEK_END, limit=5)
    assert sorted(sorted(a.id for a in s.articles) for s in chosen.stories) == [
        ["a1", "a3"],
        ["a80"],
    ]


def test_an_old_models_name_joins_no_chatter_but_a_new_launchs_name_joins_its_pieces() -> None:
    """Two threads that name DeepSeek R1, an old model talked of before the week, and are not
    close are two stories; a week's launch that was teased once before ("the upcoming ERNIE
    4.5") still holds its pieces together."""
    p40 = story("p40", post(1, "Deepseek R1 at 6,5 tk/s on an Nvidia Tesla P40"))
    web = story("web", post(3, "Deepseek R1 Web outputs much more chain-of-thought"))
    launch = story("ernie", post(5, "Baidu releases ERNIE 4.5 models"))
    bench = story("bench", post(7, "NYT Connections Benchmark updated with ERNIE 4.5"))
    side = (1 - 0.35**2) ** 0.5
    vectors = np.vstack(
        [unit(1, 0, 0, 0), unit(0.35, side, 0, 0), unit(0, 0, 1, 0), unit(0, 0, 0.35, side)]
    )
    before = [
        "DeepSeek-R1 70B jailbreaks are all ineffective",
        "Is there a deepseek r1 uncensored?",
        "support for the upcoming ERNIE 4.5 0.3B model has been merged into llama.cpp",
    ]
    stories = [p40, web, launch, bench]

    def told(before: list[str]) -> list[list[str]]:
        chosen = select_stories(stories, vectors, WEEK_END, limit=5, before=before)
        return sorted(sorted(a.id for a in s.articles) for s in chosen.stories)

    assert told([]) == [["a1", "a3"], ["a5", "a7"]]
    assert told(before) == [["a1"], ["a3"], ["a5", "a7"]]


def test_two_press_reports_of_one_name_within_a_day_and_a_half_are_one_event() -> None:
    """Wired's list of Zuckerberg's hires and Sam Altman slamming Meta's talent poaching share
    only "Meta" and read apart (0.38): two outlets telling one news cycle. A forum thread that
    names Meta is not a report, nor is a report days later the same news, and a lab's two
    launches of a day ("Veo 4", "Lyria 3") are two events."""

    def report(n: int, title: str, where: str) -> Article:
        return post(n, title, source=HN, url=f"https://www.wired.com/story/{where}")

    hires = story("hires", report(1, "Everyone Zuckerberg has hired for Meta's AI lab", "hires"))
    slams = story("slams", report(20, "Sam Altman slams Meta's AI talent poaching", "slams"))
    thread = story("thread", post(22, "Llama models from Meta keep falling behind"))
    later = story("later", report(90, "Meta delays its next AI model", "delay"))
    side = (1 - 0.38**2) ** 0.5
    vectors = np.vstack([unit(1, 0, 0), unit(0.38, side, 0), unit(0.38, -side, 0)])

    def told(*stories: Story) -> list[list[str]]:
        chosen = select_stories(list(stories), vectors[: len(stories)], WEEK_END, limit=5)
        return sorted(sorted(a.id for a in s.articles) for s in chosen.stories)

    assert told(hires, slams, thread) == [["a1", "a20"], ["a22"]]
    assert told(hires, later) == [["a1"], ["a90"]]
    veo = story("veo", report(2, "Google's Veo 4 makes minute-long AI videos", "veo"))
    lyria = story("lyria", report(5, "Google's Lyria 3 writes whole AI songs", "lyria"))
    assert told(veo, lyria) == [["a2"], ["a5"]]


def test_sections_tell_the_weeks_best_stories_and_chatter_goes_to_the_quick_hits() -> None:
    """The week's best stories lead sections of their own though no theme holds them; a theme
    of chatter none of whose stories is among the week's best SECTION_RANK is told as quick
    hits."""
    n = SECTION_RANK + 2
    dim = n + 6
    news = [
        story(
            f"n{k}",
            post(2 * k, f"Lab {chr(65 + k)} launches an open model", score=900 - 10 * k),
            post(2 * k + 1, f"Lab {chr(65 + k)} model is out", source=HN, score=500 - 10 * k),
        )
        for k in range(n)
    ]
    chatter = [story(f"c{k}", post(90 + k, f"my llama rig, take {k}", score=5)) for k in range(4)]
    rows = [np.eye(dim)[k] for k in range(n)]
    rows += [unit(*(np.eye(dim)[n + 1] + 0.8 * np.eye(dim)[n + 2 + k])) for k in range(4)]
    analysis = plan_issue(
        [*news, *chatter], np.vstack(rows), {}, WEEK_END, min_theme_size=2, max_themes=8
    )
    leads = [t.stories[0].id for t in analysis.themes]
    assert set(leads[:3]) == {"n0", "n1", "n2"}
    # With no topic or launch name to go by, each is a "Top story" of its own page.
    assert [t.name for t in analysis.themes[:3]] == ["Top story"] * 3
    assert len({t.slug for t in analysis.themes}) == len(analysis.themes)
    assert not any(s.id.startswith("c") for t in analysis.themes for s in t.stories)
    assert {s.id for s in analysis.unthemed} >= {"n3", "n4", "c0"}


def test_a_paper_among_the_weeks_best_leaves_its_lead_section_to_the_next_story() -> None:
    """W29: Apple's multi-token paper was the week's second story; it is told in the research
    corner, so the fourth best story (EXAONE 4.0) leads a section in its place."""
    news = [
        story(
            f"n{k}",
            post(2 * k, f"Lab {chr(65 + k)} launches an open model", score=900 - 100 * k),
            post(2 * k + 1, f"Lab {chr(65 + k)} model is out", source=HN, score=500 - 100 * k),
        )
        for k in range(5)
    ]
    paper = story(
        "p",
        post(20, "A paper shows multi-token prediction for any LLM", score=850,
             url="https://arxiv.org/abs/2507.11851"),
        post(21, "Multi-token prediction paper", source=HN, score=450,
             url="https://arxiv.org/abs/2507.11851"),
    )  # fmt: skip
    stories = [news[0], paper, *news[1:]]
    analysis = plan_issue(
        stories, np.eye(len(stories), 8), {}, WEEK_END, min_theme_size=2, max_themes=8
    )
    assert [s.id for s in analysis.papers] == ["p"]
    assert [t.stories[0].id for t in analysis.themes] == ["n0", "n1", "n2"]
