"""Which text of an article to embed for story grouping, measured: story BCubed F1 (P/R) on
UCI News dev (headlines only), the AI-news exact-URL groups (Reddit, HN, blogs, with their
text) and the sample week, for the title alone, the title with the first 150/300/600
characters of the text (300 ships), the title with the whole text (the model reads its first
256 tokens), and the title with the words of the URL's path.

Run by hand: .venv/bin/python bench/embed_text.py
Vectors are cached in .cache/vectors.db, so only the first run embeds (a few minutes, most of
it the whole texts). UCI timestamps are dropped (they leak the labels). For HN and Reddit
items the title is the discussion's title and the text is the post's own (for a link post,
often empty): the linked page is not fetched here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from corpora import CACHE, ai_news, sample_week, uci, url_words

from digest.analyze.embed import LEDE_CHARS, embed_texts, embedding_text, make_embedder
from digest.analyze.evaluate import bcubed
from digest.analyze.items import article_from_item
from digest.analyze.stories import group_stories
from digest.config import AnalyzeSettings
from digest.models import Article
from digest.store import Store


def title_and_url_words(article: Article) -> str:
    words = url_words(article.url)
    return f"{article.title}. {words}" if words else article.title


VARIANTS: dict[str, Callable[[Article], str]] = {
    "title": lambda a: a.title,
    "title + 150 chars": lambda a: embedding_text(a, 150),
    f"title + {LEDE_CHARS} chars (shipped)": embedding_text,
    "title + 600 chars": lambda a: embedding_text(a, 600),
    "title + whole text": lambda a: embedding_text(a, 1_000_000),
    "title + URL words": title_and_url_words,
}


def main() -> None:
    settings = AnalyzeSettings()
    window = timedelta(days=settings.story_window_days)
    week_items, week_gold, _ = sample_week()
    dev_items, dev_gold = uci("dev")
    corpora: dict[str, tuple[list[dict[str, Any]], dict[str, str]]] = {
        "uci_dev": ([{**i, "published_at": None} for i in dev_items], dev_gold),
        "ai_news_url_groups": ai_news(),
        "sample_week": (week_items, week_gold),
    }
    embedder = make_embedder()
    store = Store(f"sqlite:///{CACHE}")
    figures: dict[str, Any] = {}
    try:
        for corpus, (items, gold) in corpora.items():
            articles = [article_from_item(item, corpus) for item in items]
            for variant, text in VARIANTS.items():
                texts = [text(a) for a in articles]
                vectors = embed_texts(texts, embedder, store)
                grouping = group_stories(articles, vectors, [], settings.story_threshold, window)
                s = bcubed(grouping.assignments, gold)
                chars = sum(map(len, texts)) / len(texts)
                print(
                    f"{corpus:20s} {variant:32s} P {s.precision:.3f}  R {s.recall:.3f}  "
                    f"F1 {s.f1:.3f}   ({chars:.0f} chars per text)"
                )
                figures.setdefault(corpus, {})[variant] = round(s.f1, 4)
    finally:
        store.close()
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
