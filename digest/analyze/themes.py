"""Weekly themes: HDBSCAN over story vectors, each theme named by class-based TF-IDF."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from digest.analyze.topics import telling_phrase

# scikit-learn and scipy are imported where they are used: ~2 s of import that every process
# importing digest.analyze (the crawl's worker server among them) would pay otherwise.

# Words every AI news item uses; they would name every theme the same.
NEWS_WORDS = frozenset(
    [
        "new",
        "says",
        "said",
        "today",
        "week",
        "announced",
        "announces",
        "launch",
        "launches",
        "launched",
        "release",
        "releases",
        "released",
        "company",
        "companies",
        "update",
        "updates",
        "using",
        "use",
        "used",
        "just",
        "like",
        "also",
        "year",
        "years",
        "according",
        "report",
        "reports",
        "people",
        "way",
        "make",
        "makes",
        "made",
        "comments",
        "thread",
        "post",
        "blog",
    ]
)
# Words too general to name a theme of an AI newsletter alone, though phrases may hold them.
GENERIC = frozenset(
    ["ai", "model", "models", "llm", "llms", "data", "system", "systems", "tool", "tools"]
)
UNASSIGNED = -1
PHRASE_SHARE = 0.6
# Most stories HDBSCAN is fitted on; the rest are placed by their nearest fitted story.
FIT_CAP = 2000
# A theme holds together at this mean cosine between its parts (average linkage) or is split.
# On the sample week anything in 0.25-0.40 splits the one theme HDBSCAN made of coding agents
# and speech models (theme BCubed P 0.86 -> 0.95, F1 0.710 -> 0.738); 0.15-0.20 does not,
# 0.45 and up breaks true themes apart (measured in bench/themes.py).
THEME_COHESION = 0.33


def cluster_stories(
    vectors: np.ndarray, min_size: int, priority: np.ndarray | None = None
) -> np.ndarray:
    """A theme label per story (UNASSIGNED for stories that fit no theme).

    HDBSCAN costs O(n²) in time on these vectors (about 50 s at 10,000 stories on 2 cores), so
    beyond FIT_CAP stories it is fitted on the FIT_CAP of highest `priority` (the first ones
    when None) and every other story joins the theme of its nearest fitted story when it is
    at least as close to it as that theme's members are linked to each other.
    """
    if len(vectors) < max(min_size, 3):
        return np.full(len(vectors), UNASSIGNED)
    if len(vectors) <= FIT_CAP:
        return _cohesive(vectors, _hdbscan(vectors, min_size), min_size)
    order = np.arange(len(vectors))
    if priority is not None:
        order = np.argsort(-priority, kind="stable")
    fitted, rest = order[:FIT_CAP], order[FIT_CAP:]
    labels = np.full(len(vectors), UNASSIGNED)
    fitted_labels = _cohesive(vectors[fitted], _hdbscan(vectors[fitted], min_size), min_size)
    labels[fitted] = fitted_labels
    v = vectors[fitted].astype(np.float32)
    floor = {
        int(label): _loosest_link(v[fitted_labels == label])
        for label in set(fitted_labels.tolist()) - {UNASSIGNED}
    }
    for start in range(0, len(rest), 4096):
        block = rest[start : start + 4096]
        near = vectors[block].astype(np.float32) @ v.T
        best = near.argmax(axis=1)
        for i, (row, column) in enumerate(zip(block, best, strict=True)):
            label = int(fitted_labels[column])
            if label != UNASSIGNED and near[i, column] >= floor[label]:
                labels[row] = label
    return labels


def _loosest_link(members: np.ndarray) -> float:
    """The lowest cosine along the maximum-similarity spanning tree of a theme's members: a
    story at least this close to one member joins the theme as its members joined it."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    distance = np.maximum(1.0 - members @ members.T, 1e-9)
    np.fill_diagonal(distance, 0.0)
    tree = minimum_spanning_tree(distance).toarray()
    return float(1.0 - tree.max()) if tree.size else 1.0


def _hdbscan(vectors: np.ndarray, min_size: int) -> np.ndarray:
    # Leaf clusters: the finest dense groups, not one big blob of "AI news" (measured on the
    # sample week: theme BCubed P 0.86 / R 0.60 against 0.52 / 0.83 for excess of mass).
    from sklearn.cluster import HDBSCAN

    model = HDBSCAN(
        min_cluster_size=min_size,
        min_samples=1,
        metric="euclidean",
        cluster_selection_method="leaf",
        copy=True,
    )
    return np.asarray(model.fit_predict(vectors.astype(np.float64)))


def _cohesive(vectors: np.ndarray, labels: np.ndarray, min_size: int) -> np.ndarray:
    """`labels` with each theme split into the parts that hold together at THEME_COHESION;
    a part smaller than `min_size` leaves every theme (its stories stay for quick hits)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    result = labels.copy()
    next_label = int(labels.max()) + 1
    for label in sorted(set(labels.tolist()) - {UNASSIGNED}):
        members = np.flatnonzero(labels == label)
        if len(members) < 2 * min_size:
            continue
        tree = linkage(vectors[members].astype(np.float64), "average", metric="cosine")
        parts = fcluster(tree, 1.0 - THEME_COHESION, "distance")
        if len(set(parts.tolist())) == 1:
            continue
        for part in sorted(set(parts.tolist())):
            chosen = members[parts == part]
            if len(chosen) >= min_size:
                result[chosen] = next_label
                next_label += 1
            else:
                result[chosen] = UNASSIGNED
    return result


def theme_keywords(documents: Sequence[str], top: int = 6) -> list[list[str]]:
    """The most distinctive words and phrases of each document (one document per theme).

    Class-based TF-IDF as in BERTopic: term frequency within a theme, weighted by
    log(1 + average words per theme / frequency of the term across all themes).
    """
    if not documents:
        return []
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    vectorizer = CountVectorizer(
        ngram_range=(1, 3),
        stop_words=list(ENGLISH_STOP_WORDS | NEWS_WORDS),
        token_pattern=r"(?u)\b[A-Za-z][\w.+-]*[\w+]\b",
    )
    # Kept sparse: a 50,000-article week has hundreds of themes and ~10^6 distinct n-grams.
    counts = vectorizer.fit_transform(documents).tocsr().astype(np.float64)
    counts.sort_indices()
    terms = vectorizer.get_feature_names_out()
    per_row = np.diff(counts.indptr)
    totals = np.asarray(counts.sum(axis=1)).ravel()
    tf = counts.data / np.repeat(np.maximum(totals, 1), per_row)
    average = counts.sum() / len(documents)
    idf = np.log(1 + average / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
    all_scores = tf * idf[counts.indices]
    phrase = np.array([" " in t for t in terms])
    result: list[list[str]] = []
    for d in range(len(documents)):
        span = slice(counts.indptr[d], counts.indptr[d + 1])
        columns, row, row_counts = counts.indices[span], all_scores[span], counts.data[span]
        chosen: dict[str, float] = {}
        # A phrase must recur within its theme to name it; a single mention is chance.
        ranked = np.argsort(-row, kind="stable")
        ranked = ranked[~phrase[columns[ranked]] | (row_counts[ranked] >= 2)]
        for index in ranked[: top * 8]:
            score, term = float(row[index]), str(terms[columns[index]])
            if score <= 0:
                break
            if term in GENERIC:
                continue
            words = _stems(term)
            overlap = [c for c in chosen if words & _stems(c)]
            if not overlap:
                chosen[term] = score
            elif all(words > set(c.split()) and score >= PHRASE_SHARE * chosen[c] for c in overlap):
                # A phrase nearly as distinctive as its words names the theme better.
                for c in overlap:
                    del chosen[c]
                chosen[term] = score
        result.append(sorted(chosen, key=lambda t: -chosen[t])[:top])
    return result


def _stems(term: str) -> set[str]:
    """Words of a term with a plural 's' dropped, so 'robot' and 'robots' overlap."""
    return {
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in term.split()
    }


_SENTENCE_START = re.compile(r"(?:[.!?:]\s|\n)\W?$")


def _surface(term: str, document: str) -> str:
    """The term as the sources most often write it ('EU AI Act', not 'eu ai act')."""
    pattern = re.compile(r"\b" + r"\s+".join(map(re.escape, term.split())) + r"\b", re.I)
    found = list(pattern.finditer(document))
    # A capital at the start of a sentence says nothing about a name: count those last.
    inside = [
        m
        for m in found
        if m.start() > 0 and not _SENTENCE_START.search(document[max(0, m.start() - 4) : m.start()])
    ]
    forms = Counter(m.group(0) for m in inside or found)
    return forms.most_common(1)[0][0] if forms else term


def theme_name(keywords: Sequence[str], document: str) -> str:
    """A theme's name when no topic fits it: its most telling noun phrase, e.g. 'EU AI Act'."""
    return telling_phrase(keywords, lambda term: _surface(term, document))
