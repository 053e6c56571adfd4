"""Story grouping against gold labels: BCubed and pairwise figures, and grouping as crawls come."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import numpy as np

from digest.analyze.stories import group_stories
from digest.models import Article


@dataclass(frozen=True)
class BCubed:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def bcubed(predicted: Mapping[str, str], gold: Mapping[str, str]) -> BCubed:
    """BCubed over the items `gold` labels (items it does not label are ignored).

    Precision: for each item, the share of its predicted cluster that shares its gold label;
    recall: the share of its gold cluster that shares its predicted cluster. Averaged over items.
    """
    items = [i for i in gold if i in predicted]
    if not items:
        return BCubed(0.0, 0.0)
    pairs = Counter((predicted[i], gold[i]) for i in items)
    by_predicted = Counter(predicted[i] for i in items)
    by_gold = Counter(gold[i] for i in items)
    precision = sum(n * n / by_predicted[p] for (p, _), n in pairs.items()) / len(items)
    recall = sum(n * n / by_gold[g] for (_, g), n in pairs.items()) / len(items)
    return BCubed(precision, recall)


@dataclass(frozen=True)
class Pairwise:
    """Pairwise precision over all judged items and recall over pairs of one labelled event."""

    precision: float
    recall: float


def pairwise(predicted: Mapping[str, str], gold: Mapping[str, str | None]) -> Pairwise:
    """Pairs of judged items put in one story: the share that share a gold event (precision),
    and the share of same-event pairs put in one story (recall). A `None` label is a
    singleton: it pairs with nothing."""
    items = [i for i in gold if i in predicted]
    story_pairs = Counter(predicted[i] for i in items)
    together = sum(n * (n - 1) // 2 for n in story_pairs.values())
    events = Counter(gold[i] for i in items if gold[i] is not None)
    same = sum(n * (n - 1) // 2 for n in events.values())
    both = Counter((predicted[i], gold[i]) for i in items if gold[i] is not None)
    hits = sum(n * (n - 1) // 2 for n in both.values())
    return Pairwise(hits / together if together else 1.0, hits / same if same else 1.0)


def grouped_in_runs(
    articles: Sequence[Article],
    vectors: np.ndarray,
    threshold: float,
    window: timedelta,
    every: timedelta,
) -> dict[str, str]:
    """Each article's story when a crawler fetches every `every` and the pipeline groups what
    is new as it does (digest.pipeline): the new articles of the current week against the
    stored stories with an article since the week's Monday less `window`."""
    order = sorted(range(len(articles)), key=lambda i: (articles[i].published_at, articles[i].id))
    if not order:
        return {}
    clock = articles[order[0]].published_at.replace(hour=0, minute=0, second=0, microsecond=0)
    assigned: dict[str, str] = {}
    members: dict[str, list[int]] = {}
    newest: dict[str, datetime] = {}
    waiting = 0
    while waiting < len(order):
        clock += every
        fresh = []
        while waiting < len(order) and articles[order[waiting]].published_at < clock:
            fresh.append(order[waiting])
            waiting += 1
        if not fresh:
            continue
        day = (clock - timedelta(microseconds=1)).date()
        since = datetime.combine(day - timedelta(days=day.weekday()), time(), UTC) - window
        known = [
            (story, [articles[i] for i in rows], vectors[rows])
            for story, rows in members.items()
            if newest[story] >= since
        ]
        grouping = group_stories(
            [articles[i] for i in fresh], vectors[fresh], known, threshold, window
        )
        for i in fresh:
            story = grouping.assignments[articles[i].id]
            assigned[articles[i].id] = story
            members.setdefault(story, []).append(i)
            when = articles[i].published_at
            newest[story] = max(newest.get(story, when), when)
    return assigned
