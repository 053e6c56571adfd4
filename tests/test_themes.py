"""Theme naming: distinctive words of each theme, written as the sources write them."""

from __future__ import annotations

import numpy as np
import pytest

from digest.analyze import themes
from digest.analyze.themes import UNASSIGNED, cluster_stories, theme_keywords, theme_name
from digest.write.sentences import quotable, split_sentences

POLICY = (
    "The EU AI Act enters its next phase. Brussels publishes EU AI Act guidance for "
    "general-purpose models. Lawmakers debate the EU AI Act code of practice."
)
AUDIO = (
    "ElevenLabs ships a speech model with lower latency. A new text-to-speech voice model "
    "beats Whisper on speech recognition. Open speech recognition for 100 languages."
)
CHIPS = (
    "NVIDIA announces the B300 GPU. Data centre GPU supply stays tight as AMD ships MI400. "
    "GPU prices fall as new data centre capacity comes online."
)


def test_each_theme_is_named_by_what_sets_it_apart() -> None:
    keywords = theme_keywords([POLICY, AUDIO, CHIPS])
    assert any("ai act" in k for k in keywords[0])
    assert any("speech" in k for k in keywords[1])
    assert any("gpu" in k or "data centre" in k for k in keywords[2])
    # A word every theme uses names none of them.
    assert not any(k == "new" for ks in keywords for k in ks)


def test_name_keeps_the_sources_capitalisation() -> None:
    keywords = theme_keywords([POLICY, AUDIO, CHIPS])
    assert "EU AI Act" in theme_name(keywords[0], POLICY)
    assert "GPU" in theme_name(keywords[2], CHIPS)
    assert theme_name([], "") == "More AI news"


def test_sentences_split_without_breaking_abbreviations() -> None:
    text = "The U.S. Commerce Department acted. Dr. Li said it matters! Prices fell 5%. ok"
    assert split_sentences(text) == [
        "The U.S. Commerce Department acted.",
        "Dr. Li said it matters!",
        "Prices fell 5%. ok",
    ]
    assert quotable("Prices for H100 rentals fell 5% this week.")
    assert not quotable("Too short.")
    assert not quotable("Is this a question that should not be quoted in a newsletter?")


def test_stories_beyond_the_fit_cap_join_the_theme_they_sit_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above FIT_CAP stories HDBSCAN sees only the highest-priority ones; a story left out
    still joins the theme it sits inside, and a stray one stays out of every theme."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(3, 32))
    # Each theme: seven stories around its centre and one story right at the centre.
    tight = [np.vstack([c + 0.05 * rng.normal(size=(7, 32)), c]) for c in centres]
    vectors = np.vstack([*tight, rng.normal(size=(1, 32))])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    full = cluster_stories(vectors, 3)
    monkeypatch.setattr(themes, "FIT_CAP", 20)
    # The central story of each theme and the stray one get the lowest priority: not fitted.
    priority = np.ones(len(vectors))
    priority[[7, 15, 23, 24]] = 0.0
    capped = cluster_stories(vectors, 3, priority)
    assert len(set(full[:24].tolist())) == 3 and full[24] == UNASSIGNED
    for theme in range(3):
        members = capped[theme * 8 : theme * 8 + 8]
        assert len(set(members.tolist())) == 1 and members[0] != UNASSIGNED
    assert capped[24] == UNASSIGNED


def test_a_theme_of_two_unrelated_topics_is_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """When HDBSCAN hands back one theme made of two topics far apart (coding agents and
    speech models, once), each topic becomes its own theme; a pair too small to be a theme
    goes to quick hits, not into either."""
    rng = np.random.default_rng(5)
    centres = np.eye(3, 32)
    sizes = (6, 5, 2)
    vectors = np.vstack(
        [c + 0.1 * rng.normal(size=(n, 32)) for c, n in zip(centres, sizes, strict=True)]
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    monkeypatch.setattr(themes, "_hdbscan", lambda v, size: np.zeros(len(v), dtype=np.int64))
    labels = cluster_stories(vectors, 3)
    first, second = labels[:6], labels[6:11]
    assert len(set(first.tolist())) == 1 and len(set(second.tolist())) == 1
    assert first[0] != second[0] and UNASSIGNED not in (first[0], second[0])
    assert labels[11:].tolist() == [UNASSIGNED, UNASSIGNED]
    # A theme whose members hold together is left whole.
    monkeypatch.setattr(themes, "THEME_COHESION", -1.0)
    assert set(cluster_stories(vectors, 3).tolist()) == {0}
