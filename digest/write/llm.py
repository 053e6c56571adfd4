"""The LLM writer: one call per theme, JSON checked by pydantic, extractive text when it fails."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from digest import models
from digest.errors import LLMCallError
from digest.models import Article, Citation, Note, Section, Sentence, Story, Summary, Theme
from digest.write.backends import MAX_REPLY_CHARS
from digest.write.calls import Caller
from digest.write.extractive import MAX_HAPPENED, ExtractiveWriter, headline
from digest.write.grounding import carries_link, clean_text, quotes_in, said_by
from digest.write.injection import carries_instructions, unknown_terms
from digest.write.prompts import Prompts, sources_block

ARTICLES_PER_STORY = 3
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Cited(_Reply):
    text: str = Field(min_length=3, max_length=500)
    cite: list[int] = Field(min_length=1, max_length=8)


class ThemeReply(_Reply):
    name: str = Field("", max_length=60)
    headline: str = Field(min_length=3, max_length=200)
    what_happened: list[_Cited] = Field(min_length=1, max_length=8)
    why_it_matters: list[_Cited] = Field(default_factory=list, max_length=3)
    technical: list[_Cited] = Field(default_factory=list, max_length=3)
    winners_losers: list[_Cited] = Field(default_factory=list, max_length=3)


class LineReply(_Reply):
    line: _Cited


class IntroReply(_Reply):
    intro: str = Field(min_length=10, max_length=1200)


R = TypeVar("R", bound=_Reply)


def parse_reply(text: str, shape: type[R]) -> R:
    """The reply as `shape`; ValueError saying what is wrong with it otherwise."""
    if len(text) > MAX_REPLY_CHARS:
        raise ValueError(f"the reply is longer than {MAX_REPLY_CHARS} characters")
    body = _FENCE.sub("", text.strip())
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        start, end = body.find("{"), body.rfind("}")
        try:
            data = json.loads(body[start : end + 1]) if 0 <= start < end else None
        except json.JSONDecodeError:
            data = None
        if data is None:
            raise ValueError("the reply is not a JSON object") from None
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ValueError(f"the JSON does not fit the schema: {where}: {first['msg']}") from None


class _Sources:
    """The articles given to one prompt, numbered, and their renumbering by first citation."""

    def __init__(self, articles: Sequence[Article]) -> None:
        self.given = {n: a for n, a in enumerate(articles, start=1)}
        self._used: dict[int, Citation] = {}

    def block(self) -> str:
        return sources_block(list(self.given.items()))

    def sentence(self, cited: _Cited) -> Sentence:
        """The written sentence with its citations renumbered; unknown numbers become 0."""
        numbers = []
        for n in dict.fromkeys(cited.cite):
            a = self.given.get(n)
            if a is None:
                numbers.append(0)  # grounding drops a sentence citing a source it was not given
                continue
            if n not in self._used:
                self._used[n] = Citation(len(self._used) + 1, a.id, a.href, a.title, a.source)
            numbers.append(self._used[n].number)
        return Sentence(clean_text(cited.text), tuple(numbers))

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(self._used.values())


class LLMWriter:
    """Writes each section with a model; a section it cannot get right is written extractively."""

    def __init__(
        self, caller: Caller, prompts: Prompts, fallback: ExtractiveWriter, stories_per_theme: int
    ) -> None:
        self._caller = caller
        self._prompts = prompts
        self._fallback = fallback
        self._stories_per_theme = stories_per_theme
        self.fallbacks: list[str] = []

    def _ask(self, prompt: str, shape: type[R]) -> R:
        """Ask, then once more with the error when the reply does not parse."""
        system = self._prompts.render("system")
        text = self._caller.ask(system, prompt)
        try:
            return parse_reply(text, shape)
        except ValueError as exc:
            repair = (
                f"{prompt}\n\nYour previous reply could not be used: {exc}. "
                "Reply again with only the JSON object asked for."
            )
            return parse_reply(self._caller.ask(system, repair), shape)

    def _failed(self, what: str, exc: Exception) -> None:
        self.fallbacks.append(f"{what}: {exc}")

    def section(self, theme: Theme) -> Section:
        stories = theme.stories[: self._stories_per_theme]
        sources = _Sources([a for s in stories for a in s.articles[:ARTICLES_PER_STORY]])
        prompt = self._prompts.render(
            "theme",
            theme=theme.name,
            sources=sources.block(),
            max_sentences=min(len(stories), MAX_HAPPENED),
        )
        try:
            reply = self._ask(prompt, ThemeReply)
        except (LLMCallError, ValueError) as exc:
            self._failed(f"theme {theme.name!r}", exc)
            return self._fallback.section(theme)
        told = headline(theme.stories[0]) if theme.stories else None
        summary = Summary(
            clean_text(reply.headline),
            tuple(sources.sentence(c) for c in reply.what_happened),
            tuple(sources.sentence(c) for c in reply.why_it_matters),
            tuple(sources.sentence(c) for c in reply.technical),
            tuple(sources.sentence(c) for c in reply.winners_losers),
            headline_link=told[1].href if told else theme.stories[0].href,
        )
        if told is not None:
            # A headline is a post's own title (the first-party one when there is one),
            # linked to that post, not words of the model's.
            summary = replace(summary, headline=told[0])
        name = clean_text(reply.name)
        said = [*said_by(a for s in stories for a in s.articles), theme.name]
        if carries_instructions(name) or unknown_terms(name, said):
            name = ""  # a name the sources do not bear out: the topic's own stays
        if name and models.readable_name(name):
            theme = replace(theme, name=name)  # the slug, and so the theme's pages, stay
        return Section(theme, summary, sources.citations)

    def _line(self, kind: str, story: Story) -> Note | None:
        sources = _Sources(story.articles[:ARTICLES_PER_STORY])
        prompt = self._prompts.render(kind, title=story.title, sources=sources.block())
        try:
            reply = self._ask(prompt, LineReply)
        except (LLMCallError, ValueError) as exc:
            self._failed(f"{kind.replace('_', ' ')} {story.title[:60]!r}", exc)
            return None
        return Note(sources.sentence(reply.line), sources.citations)

    def quick_hit(self, story: Story) -> Note | None:
        return self._line("quick_hit", story) or self._fallback.quick_hit(story)

    def paper(self, story: Story) -> Note | None:
        line = self._line("paper", story)
        told = self._fallback.paper(story)
        if line is None or told is None:
            return told
        return replace(line, title=told.title, authors=told.authors)

    def intro(self, sections: Sequence[Section], quick_hits: int, papers: int = 0) -> str:
        listed = "\n".join(
            f"- {s.theme.name}: {s.summary.headline}".replace("<<<", "").replace(">>>", "")
            for s in sections
        )
        try:
            reply = self._ask(self._prompts.render("intro", sections=listed), IntroReply)
        except (LLMCallError, ValueError) as exc:
            self._failed("intro", exc)
            return self._fallback.intro(sections, quick_hits, papers)
        text = clean_text(reply.intro)
        if quotes_in(text) or carries_link(text):
            self._failed("intro", ValueError("the intro quoted or linked"))
            return self._fallback.intro(sections, quick_hits, papers)
        return text
