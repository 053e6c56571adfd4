"""An issue as a Markdown draft an editor can change, and the edits applied back to the issue."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from digest.errors import PublishError
from digest.models import Citation, Issue, Note, Section, Sentence, Story

_FIELDS = {
    "what happened": "what_happened",
    "why it matters": "why_it_matters",
    "technical breakdown": "technical",
    "who wins, who loses": "winners_losers",
    "stories": "stories",
    "sources": "sources",
}
_NOTES = {"quick-hits": "quick_hits", "research": "research", "watch": "watch"}
_NOTE_HEADINGS = {
    "quick_hits": "Quick hits",
    "research": "Research corner",
    "watch": "What to watch",
}
_TAG = re.compile(r"\s*\{#([^}\s]+)\}\s*$")
_MARKS = re.compile(r"\s*((?:\[\d+\])+)\s*$")
_HELP = (
    "<!-- Draft of issue {id}. Edit any text; reorder or delete sections, stories and lines;\n"
    "then run `digest publish`. Keep each {{#tag}} and the [n] citation markers: a line may\n"
    "cite only sources its section lists. The Sources lists are for reference only. -->\n"
)


def _marks(numbers: tuple[int, ...]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def to_markdown(issue: Issue) -> str:
    """The issue as the Markdown draft an editor edits."""
    out = [_HELP.format(id=issue.id), f"# {_one_line(issue.title)}", "", _one_line(issue.intro)]
    for section in issue.sections:
        s = section.summary
        out += ["", f"## {_one_line(section.theme.name)} {{#{section.theme.id}}}", ""]
        out += [f"### {_one_line(s.headline)}"]
        for label, sentences in (
            ("What happened", s.what_happened),
            ("Why it matters", s.why_it_matters),
            ("Technical breakdown", s.technical),
            ("Who wins, who loses", s.winners_losers),
        ):
            if sentences or label in ("What happened", "Why it matters"):
                out += ["", f"{label}:"]
                out += [f"- {_one_line(x.text)} {_marks(x.citations)}" for x in sentences]
        out += ["", "Stories:"]
        out += [f"- {_one_line(story.title)} {{#{story.id}}}" for story in section.theme.stories]
        out += ["", "Sources:"]
        out += [f"[{c.number}] {_one_line(c.title)} — {c.source}" for c in section.citations]
    for tag, name in _NOTES.items():
        notes: tuple[Note, ...] = getattr(issue, name)
        if notes:
            out += ["", f"## {_NOTE_HEADINGS[name]} {{#{tag}}}", ""]
            out += [
                f"- {_one_line(n.sentence.text)} {_marks(n.sentence.citations)} {{#{i}}}"
                for i, n in enumerate(notes, 1)
            ]
    return "\n".join(out) + "\n"


@dataclass
class _Part:
    tag: str
    line: int
    name: str = ""
    headline: str | None = None
    fields: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


def _parse(text: str, where: str) -> tuple[str | None, list[str], list[_Part]]:
    title: str | None = None
    intro: list[str] = []
    parts: list[_Part] = []
    current: str | None = None
    text = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group().count("\n"), text, flags=re.DOTALL)
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("## "):
            tag = _TAG.search(line)
            if not tag:
                raise PublishError(
                    f"{where}:{number}: section heading without its {{#tag}}: {line!r}"
                )
            parts.append(_Part(tag[1], number, line[3 : tag.start()].strip()))
            current = "stories" if tag[1] in _NOTES else None
        elif line.startswith("### ") and parts:
            parts[-1].headline = line[4:].strip()
        elif line.startswith("# ") and not parts:
            title = line[2:].strip()
        elif not parts:
            intro.append(line)
        elif line.endswith(":") and line[:-1].lower() in _FIELDS:
            current = _FIELDS[line[:-1].lower()]
        elif current == "sources":
            continue
        elif line.startswith(("- ", "* ")) and current:
            parts[-1].fields.setdefault(current, []).append((number, line[2:].strip()))
        elif raw[:1].isspace() and current and parts[-1].fields.get(current):
            n, previous = parts[-1].fields[current][-1]
            parts[-1].fields[current][-1] = (n, f"{previous} {line}")
        else:
            raise PublishError(
                f"{where}:{number}: {line[:60]!r} is not part of the draft's layout; start list "
                "items with '- ' under a label such as 'What happened:', or delete the line"
            )
    return title, intro, parts


def _sentence(item: tuple[int, str], citations: tuple[Citation, ...], where: str) -> Sentence:
    number, text = item
    marks = _MARKS.search(text)
    cites = tuple(int(n) for n in re.findall(r"\d+", marks[1])) if marks else ()
    known = {c.number for c in citations}
    for n in cites:
        if n not in known:
            raise PublishError(
                f"{where}:{number}: cites [{n}], which its section does not list; use one of "
                f"{', '.join(f'[{k}]' for k in sorted(known)) or 'no number'} or remove it"
            )
    body = text[: marks.start()] if marks else text
    if not body.strip():
        raise PublishError(f"{where}:{number}: an empty line item; delete the whole line instead")
    return Sentence(body.strip(), cites)


def apply_markdown(issue: Issue, text: str, where: str = "draft") -> Issue:
    """The issue with the editor's changes: text, order and removals. Unknown tags are refused."""
    title, intro, parts = _parse(text, where)
    sections = {s.theme.id: s for s in issue.sections}
    seen: set[str] = set()
    kept: list[Section] = []
    notes: dict[str, tuple[Note, ...]] = {name: () for name in _NOTES.values()}
    for part in parts:
        if part.tag in seen:
            raise PublishError(f"{where}:{part.line}: section {{#{part.tag}}} appears twice")
        seen.add(part.tag)
        if part.tag in _NOTES:
            notes[_NOTES[part.tag]] = _notes(issue, part, where)
        elif part.tag in sections:
            kept.append(_section(sections[part.tag], part, where))
        else:
            raise PublishError(
                f"{where}:{part.line}: no section {{#{part.tag}}} in draft {issue.id}; keep the "
                "tags as written (run `digest draft` again to start over)"
            )
    return replace(
        issue,
        title=title if title else issue.title,
        intro=" ".join(intro) if intro else issue.intro,
        sections=tuple(kept),
        quick_hits=notes["quick_hits"],
        research=notes["research"],
        watch=notes["watch"],
    )


def _section(section: Section, part: _Part, where: str) -> Section:
    def sentences(name: str) -> tuple[Sentence, ...]:
        return tuple(_sentence(i, section.citations, where) for i in part.fields.get(name, []))

    stories = {s.id: s for s in section.theme.stories}
    chosen: list[Story] = []
    for number, item in part.fields.get("stories", []):
        tag = _TAG.search(item)
        if not tag or tag[1] not in stories:
            raise PublishError(
                f"{where}:{number}: story line without a known {{#tag}}; keep the tag or delete "
                "the whole line"
            )
        chosen.append(replace(stories[tag[1]], title=item[: tag.start()].strip()))
    summary = replace(
        section.summary,
        headline=part.headline if part.headline is not None else section.summary.headline,
        what_happened=sentences("what_happened"),
        why_it_matters=sentences("why_it_matters"),
        technical=sentences("technical"),
        winners_losers=sentences("winners_losers"),
    )
    theme = replace(section.theme, name=part.name or section.theme.name, stories=tuple(chosen))
    return replace(section, theme=theme, summary=summary)


def _notes(issue: Issue, part: _Part, where: str) -> tuple[Note, ...]:
    original: tuple[Note, ...] = getattr(issue, _NOTES[part.tag])
    kept: list[Note] = []
    for number, item in part.fields.get("stories", []):
        tag = _TAG.search(item)
        if not tag or not tag[1].isdigit() or not 1 <= int(tag[1]) <= len(original):
            raise PublishError(
                f"{where}:{number}: line without a known {{#n}} tag; keep it or delete the line"
            )
        note = original[int(tag[1]) - 1]
        sentence = _sentence((number, item[: tag.start()]), note.citations, where)
        kept.append(replace(note, sentence=sentence))
    return tuple(kept)
