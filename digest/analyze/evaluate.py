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
