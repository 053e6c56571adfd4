"""BCubed precision, recall and F1 of a clustering against a gold partition."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass


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
