"""How far headline vectors can go on UCI News: `digest cluster`'s grouping against classifiers
that are *given* most of the gold stories, on the same vectors. BCubed P/R/F1 per split.

Run by hand: .venv/bin/python bench/uci_ceiling.py
A supervised figure is no target for clustering (it sees the labels); it bounds what the
vectors carry. Classifiers: k-nearest-neighbour vote (leave one out, k = 10) and logistic
regression (5-fold cross-validated), on MiniLM title vectors alone and with TF-IDF of the
title and URL words added. Then, per split, the two gold stories whose articles are most
alike, and how often an article's 10 nearest neighbours share its gold story there (0.5 is
chance for two stories of similar size: no headline signal can split them).
Vectors are cached in .cache/vectors.db; UCI timestamps are dropped (they leak the labels).
"""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp
from corpora import CACHE, uci, url_words
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from digest.analyze.embed import embed_articles, make_embedder
from digest.analyze.evaluate import BCubed, bcubed
from digest.analyze.items import article_from_item
from digest.analyze.stories import group_stories
from digest.config import AnalyzeSettings
from digest.store import Store

K = 10


def knn_vote(similarity: np.ndarray, labels: np.ndarray) -> np.ndarray:
    similarity = similarity.copy()
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argpartition(-similarity, K, axis=1)[:, :K]
    return np.array([np.bincount(labels[row]).argmax() for row in nearest])


def as_assignment(ids: list[str], labels: np.ndarray) -> dict[str, str]:
    return {i: str(label) for i, label in zip(ids, labels.tolist(), strict=True)}


def closest_pair(vectors: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """The two gold stories with the highest mean cross cosine, and their neighbours' purity."""
    stories = np.unique(labels)
    mean = np.array(
        [
            [float((vectors[labels == a] @ vectors[labels == b].T).mean()) for b in stories]
            for a in stories
        ]
    )
    within = np.diag(mean).copy()
    np.fill_diagonal(mean, -1.0)
    a, b = np.unravel_index(int(np.argmax(mean)), mean.shape)
    members = np.flatnonzero((labels == stories[a]) | (labels == stories[b]))
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argpartition(-similarity[members], K, axis=1)[:, :K]
    same = float(np.mean(labels[nearest] == labels[members, None]))
    return {
        "sizes": [int((labels == stories[a]).sum()), int((labels == stories[b]).sum())],
        "cross_cosine": round(float(mean[a, b]), 3),
        "within_cosine": [round(float(within[a]), 3), round(float(within[b]), 3)],
        "neighbours_same_story": round(same, 3),
    }


def main() -> None:
    warnings.filterwarnings("ignore")
    embedder = make_embedder()
    store = Store(f"sqlite:///{CACHE}")
    figures: dict[str, Any] = {}
    settings = AnalyzeSettings()
    try:
        for split in ("dev", "test"):
            items, gold = uci(split)
            articles = [article_from_item({**i, "published_at": None}, split) for i in items]
            ids = [a.id for a in articles]
            vectors = embed_articles(articles, embedder, store)
            names = sorted(set(gold.values()))
            labels = np.array([names.index(gold[i]) for i in ids])
            grouping = group_stories(
                articles,
                vectors,
                [],
                settings.story_threshold,
                timedelta(days=settings.story_window_days),
            )
            words = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(
                [f"{a.title} {url_words(a.url)}" for a in articles]
            )
            both = sp.hstack([sp.csr_matrix(vectors), words]).tocsr()
            regression = LogisticRegression(C=10, max_iter=2000)
            rows: dict[str, BCubed] = {
                "digest cluster (unsupervised)": bcubed(grouping.assignments, gold),
                "kNN vote, vectors": bcubed(
                    as_assignment(ids, knn_vote(vectors @ vectors.T, labels)), gold
                ),
                "kNN vote, vectors + TF-IDF": bcubed(
                    as_assignment(
                        ids, knn_vote(vectors @ vectors.T + (words @ words.T).toarray(), labels)
                    ),
                    gold,
                ),
                "logistic regression, vectors": bcubed(
                    as_assignment(ids, cross_val_predict(regression, vectors, labels, cv=5)), gold
                ),
                "logistic regression, vectors + TF-IDF": bcubed(
                    as_assignment(ids, cross_val_predict(regression, both, labels, cv=5)), gold
                ),
            }
            figures[split] = {}
            for name, s in rows.items():
                print(
                    f"uci {split:4s} {name:40s} P {s.precision:.3f}  R {s.recall:.3f}  "
                    f"F1 {s.f1:.3f}"
                )
                figures[split][name] = round(s.f1, 4)
            pair = closest_pair(vectors, labels)
            print(f"uci {split:4s} closest gold stories: {pair}")
            figures[split]["closest_pair"] = pair
    finally:
        store.close()
    print(json.dumps(figures, sort_keys=True))


if __name__ == "__main__":
    main()
