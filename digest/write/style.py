"""The house style of an entry: clean headlines, sentences that state facts, lines that are news.

The writers choose text with these rules and `digest check` holds an issue to the same ones.
"""

from __future__ import annotations

import html
import re

_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|~~|`)(?=\S)(.+?)(?<=\S)\1")
_REFERENCE = re.compile(r"\s*\[\d+(?:\s*[,\u2013-]\s*\d+)*\]")
_MD_LEFT = re.compile(r"\*\*|__|~~|`|^\s*(?:#{1,6}|>|[*+-]\s)|\s[*+]\s|\]\(|\\[\[\]()*_#]")
_PREFIX = re.compile(
    r"^\s*(?:\[[A-Za-z][\w .-]{0,15}\]\s*|\((?:OC|PSA|News|Update)\)\s*|"
    r"(?:Show|Ask|Tell|Launch) HN\s*[:\-\u2013]\s*|"
    r"(?:PSA|TIL|ELI5|BREAKING|Breaking|NEWS|News|UPDATE|Update|Discussion|Question)\s*[:\-\u2013]\s*)+"
)
_SUFFIX = re.compile(
    r"\s+[|\u00b7\u2013-]\s+(?:Hugging Face|GitHub|YouTube|Reddit|X|Twitter)\s*$"
    # A publisher's name signing the title ("... questions | TechCrunch", "| The Verge").
    r"|\s+\|\s+(?:[A-Z][\w.&']*\s?){1,3}$"
)
# A question asked without its mark: an inverted auxiliary first ("Is Kimi K2 the best").
_QUESTION_START = re.compile(
    r"^(?:Is|Are|Was|Were|Do|Does|Did|Can|Could|Should|Would|Will|Am|Anyone|Any ?one)\s+\w+"
)
# Speaking as the author: "I", "my", "we", "our" (not "US", the country).
_PERSONAL = re.compile(
    r"\b(?:I|I'm|I've|I'd|I'll|Im|Ive|[Mm]e|[Mm]y|[Mm]ine|[Ww]e|[Ww]e're|[Ww]e've|[Ww]e'll|"
    r"[Ww]e'd|[Oo]ur|[Oo]urs|us)\b"
    # A forum's "i" in lower case ("Current i have 96 GB"), not "i.e." or a list's "(i)".
    r"|(?<![\w(.'])i(?:'m|'ve|'d|'ll)?(?![\w.)'])"
)
_TEASER = re.compile(
    r"(?:\bthoughts\?|\bwow\b|!!|\?!|\u2026$|\.\.\.$|\bhere'?s (?:how|why|what)\b|"
    r"\byou won'?t believe\b|\bguess what\b|\bfriendly reminder\b|\blol\b|\blmao\b|"
    r"\bclick here\b|\bstay tuned\b|\bvibes\b)",
    re.IGNORECASE,
)
_REQUEST = re.compile(
    r"\b(?:please|appreciated?|suggestions?|recommendations? (?:for|on)|help me|any ideas|"
    r"looking for|i need|thanks in advance|let me know|anyone (?:know|tried|have|else)|"
    r"feel free|check (?:it|this) out)\b",
    re.IGNORECASE,
)
# The writer's own voice rather than a fact: hedges and asides of a forum post.
_ASIDE = re.compile(
    r"\b(?:actually|basically|honestly|imo|imho|tbh|kinda|sorta|pretty much|in this regard|"
    r"seems like|to be fair|i guess|personally|obviously|literally|insane|crazy)\b",
    re.IGNORECASE,
)
_CODE = re.compile(
    r"(?:\w\s?=\s?\w|\w\(\S*\)|[{}]|\s#\s|\b[a-z]+_[a-z_]+\b|\b[a-z]+\.[a-z]+\(|</?\w+>|"
    r"->|=>|==)"
)
_LINKLIKE = re.compile(
    r"(?:https?://|www\.|\]\(|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/)", re.IGNORECASE
)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
# A finite verb: an auxiliary, a verb of news, or a past tense.
_VERB = re.compile(
    r"\b(?:is|are|was|were|be|been|being|has|have|had|will|can|could|may|might|must|does|do|"
    r"did|gets|got|goes|went|makes|made|takes|took|brings|brought|shows|shown|says|said|"
    r"finds|found|wins|won|tops|beats|hits|leads|lets|runs|ran|cuts|sets|puts|ships|adds|"
    r"drops|opens|releases|launches|announces|unveils|introduces|raises|buys|acquires|sues|"
    r"bans|rules|passes|joins|leaves|plans|wants|offers|reaches|claims|warns|signs|fails|"
    r"loses|outperforms|surpasses|matches|arrives|comes|came|begins|began|starts|ends|shuts|"
    r"delays|expands|becomes|became|turns|enters|targets|trains|gives|gave|keeps|kept|"
    r"allows|enables|lands|debuts|knows|knew|thinks|thought|provides|includes|contains|"
    r"describes|requires|reduces|improves|uses|supports|needs|costs|works|looks|seems|"
    r"appears|remains|stays|helps|means|matters|produces|generates|handles|performs|scores|"
    r"achieves|exceeds|competes|sells|pays|earns|hires|moves|shifts|grows|falls|rises|"
    r"jumps|doubles|replaces|removes|blocks|limits|accepts|rejects|approves|tells|asks|"
    r"writes|reads|translates|speaks|plays|builds|creates|designs|develops|tests|measures|"
    r"evaluates|compares|predicts|detects|learns|teaches|follows|tracks|serves|hosts|"
    r"stores|holds|lacks|tries|reveals|confirms|explains|proposes|presents|applies|"
    r"combines|converts|extends|features|focuses|integrates|lowers|outputs|powers|"
    r"processes|ranks|receives|relies|responds|returns|scales|solves|splits|streams|"
    r"teams|understands|updates|wraps|expects|estimates|forecasts|hopes|aims|intends|"
    r"promises|calls|names|lists|notes|lifts|slashes|trims|tops|triples|halves|"
    r"\w{3,}ed|\w{3,}izes|\w{3,}ises)\b",
    re.IGNORECASE,
)
_AUXILIARY = re.compile(
    r"\b(?:is|are|was|were|has|have|had|will|can|could|may|might|must|does|did)\b", re.I
)
_CONSEQUENCE = re.compile(
    r"\b(?:means?|meaning|matters?|signals?|implications?|impact on|consequences?|"
    r"puts? pressure|pressure on|undercut\w*|threat(?:en\w*)?|for the first time|no longer|"
    r"makes? it (?:possible|easier|harder|cheaper)|could (?:help|make|let|allow|change|"
    r"reshape|lower|raise|cut|hurt|mean|speed|slow|open|end)|would (?:let|allow|mean|make|"
    r"give|stop|block|force|require)|will (?:let|allow|mean|make|give|force|require|need)|"
    r"(?:allows?|enables?|lets) (?:\w+ ){0,3}(?:to |run|use|build|train|fine-tune|host)|"
    r"so (?:that|developers|users|anyone)|anyone can|available to (?:anyone|everyone|all)|"
    r"for (?:developers|users|companies|teams|enterprises|researchers|startups|businesses|"
    r"customers|creators|regulators) (?:who|that|it|this)|cheaper than|faster than|"
    r"risks?|liabilit\w+|fined|fines|competition|rivals?)\b",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"(?:\bsources? reported it\b|\bhas reported it\b|\blook for confirmation\b|"
    r"\breported it independently\b|^why it matters\b|^what happened\b)",
    re.IGNORECASE,
)
# A name written with a small letter first and a capital after it ("xAI", "iPhone").
_BRAND_FIRST = re.compile(r"[a-z]+[A-Z]")
SENTENCE_MIN_CHARS = 25
SENTENCE_MAX_CHARS = 400
HEADLINE_MAX_CHARS = 140
FRAGMENT_WORDS = 8


def decode(text: str) -> str:
    """Text with HTML entities decoded (twice over for '&amp;amp;') and whitespace collapsed."""
    for _ in range(2):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return " ".join(text.split())


def plain_markdown(text: str) -> str:
    """One line of markdown as plain text: links as their text, no emphasis marks."""
    text = _MD_LINK.sub(r"\1", text)
    for _ in range(2):
        text = _MD_EMPHASIS.sub(r"\2", text)
    text = re.sub(r"^\s*(?:#{1,6}|>|[*+-]|\d+[.)])\s+", "", text)
    text = re.sub(r"\\([\[\]()*_#])", r"\1", text)
    return _REFERENCE.sub("", text)  # a paper's "[12]" reference marks


def clean_title(title: str) -> str:
    """A title as a headline: entities decoded, markdown, '[D]'/'Show HN:' prefixes and a
    site suffix stripped, and only its first sentence when it runs on."""
    text = plain_markdown(decode(title))
    text = _SUFFIX.sub("", _PREFIX.sub("", text)).strip(" -:\u2013")
    first = re.split(r"(?<=[a-z0-9]{2}[.!])\s+(?=[A-Z])", text, maxsplit=1)[0]
    if len(first) > HEADLINE_MAX_CHARS:
        # Too long for a headline: a sentence may end on a name too ("... Pangu Pro 72B A16B.
        # Weights are on HF."), which a short title's "U.K. Post Office" must not be cut at.
        first = re.split(r"(?<=[A-Za-z0-9]{2}[.!])\s+(?=[A-Z])", text, maxsplit=1)[0]
    # "Kyutai Unmute (incl. TTS) released" is one sentence: an abbreviation's point inside
    # brackets ends none.
    if len(first.split()) >= 3 and first.count("(") <= first.count(")"):
        text = first
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    return text if _BRAND_FIRST.match(text) else text[:1].upper() + text[1:]


def is_question(text: str) -> bool:
    """A question, asked with its mark or with an auxiliary first ("Is Kimi K2 the best")."""
    return "?" in text or (
        _QUESTION_START.match(text) is not None and not text.rstrip().endswith(".")
    )


def first_person(text: str) -> bool:
    """Whether the text speaks as its author ("I", "my", "we", "our")."""
    return _PERSONAL.search(text) is not None


def markup_left(text: str) -> bool:
    """Whether markdown or an HTML entity shows through in the text."""
    return bool(_ENTITY.search(text) or _MD_LEFT.search(text))


def carries_link(text: str) -> bool:
    return _LINKLIKE.search(text) is not None


def code_like(text: str) -> bool:
    """Whether the text is a line of code (assignments, calls, identifiers with underscores)."""
    return _CODE.search(text) is not None


def teaser(text: str) -> bool:
    return bool(_TEASER.search(text) or _REQUEST.search(text) or _EMOJI.search(text))


def has_verb(text: str) -> bool:
    """Whether the text has a finite verb of its own, outside a relative clause ("Models that
    know they are tested" has none)."""
    main = re.split(
        r"\b(?:that|which|who|whose|because|when|while|if|since|after|before|until|"
        r"although|though)\b",
        text,
        maxsplit=1,
    )[0]
    if re.match(r"[A-Z][a-z]+ing\b", main):  # "Adding a feature ...": a heading unless it
        return _AUXILIARY.search(main) is not None  # goes on ("Running X is now easy")
    return _VERB.search(main) is not None


def complete(text: str) -> bool:
    """A whole sentence: a capital (or digit, quote, 'xAI') first and a full stop last."""
    return (
        SENTENCE_MIN_CHARS <= len(text) <= SENTENCE_MAX_CHARS
        and re.match(r"[A-Z0-9\"\u201c\u2018(]|[a-z]{1,3}[A-Z]", text) is not None
        and text.rstrip('"\u201d\u2019)').endswith((".", "!"))
        and not text.rstrip('"\u201d\u2019)').endswith(("..", "!!"))
    )


def sentence_faults(text: str) -> list[str]:
    """What keeps a sentence from stating a fact in an entry; empty when it does."""
    faults = []
    # A long sentence has a verb somewhere; a short one must show one ("Just early dreams.").
    verb = has_verb(text) or len(text.split()) >= FRAGMENT_WORDS
    if not complete(text) or not verb or _unbalanced(text):
        faults.append("not a complete sentence")
    if is_question(text):
        faults.append("a question")
    if first_person(text) or _ASIDE.search(text):
        faults.append("a first-person aside or opinion")
    if carries_link(text):
        faults.append("a URL")
    if markup_left(text):
        faults.append("markdown or an HTML entity")
    if code_like(text):
        faults.append("code")
    if teaser(text):
        faults.append("a teaser or a request")
    if _FILLER.search(text):
        faults.append("filler")
    return faults


def _unbalanced(text: str) -> bool:
    straight = text.count('"') % 2 == 1
    curly = text.count("\u201c") != text.count("\u201d")
    return straight or curly or text.count("(") != text.count(")")


def states_fact(text: str) -> bool:
    return not sentence_faults(text)


def headline_faults(text: str) -> list[str]:
    """What keeps a headline from reading as one: empty when it is a clean statement."""
    faults = []
    words = text.split()
    if len(words) < 3 or len(text) > HEADLINE_MAX_CHARS:
        faults.append(f"not 3 words to {HEADLINE_MAX_CHARS} characters")
    if shouting(text):
        faults.append("written in capitals")
    if clean_title(text) != text:
        faults.append("an entity, markdown or a prefix such as '[D]' or 'Show HN:'")
    if is_question(text):
        faults.append("a question")
    if first_person(text) or teaser(text):
        faults.append("first person, a teaser or a request")
    if carries_link(text) or markup_left(text):
        faults.append("a URL or markup")
    if text[:1].islower() and not _BRAND_FIRST.match(text):
        faults.append("no capital first")
    return faults


def news_line_faults(text: str) -> list[str]:
    """What keeps a line from being a news item (a quick hit): a heading, teaser or question."""
    if complete(text):
        return sentence_faults(text)
    faults = headline_faults(text)
    if not has_verb(text):
        faults.append("a heading, not a statement")
    return faults


def shouting(text: str) -> bool:
    """Whether most of the words are written in capitals ("GROK 4 IS NOW LIVE")."""
    words = [w for w in re.findall(r"[A-Za-z]{3,}", text)]
    return len(words) >= 3 and sum(w.isupper() for w in words) > 0.6 * len(words)


def states_consequence(text: str) -> bool:
    """Whether a source sentence says what follows from the news (who it affects, what changes);
    advice to the reader ("you will need to...") is not that."""
    addressed = re.search(r"\b(?:you|your)\b", text, re.IGNORECASE) is not None
    return _CONSEQUENCE.search(text) is not None and states_fact(text) and not addressed
