"""FAQ web pages. The questions are found in the first of these forms the page has:

1. schema.org FAQPage in JSON-LD (`<script type="application/ld+json">`), which search engines
   read and so which most FAQ pages carry: the page's own statement of its questions;
2. schema.org FAQPage in microdata (`itemtype=".../FAQPage"`, `itemprop="mainEntity"`);
3. without markup, whichever of these finds the most questions: `<details>` with a `<summary>`;
   `<dl>` lists whose terms read as questions (a glossary's do not); question lines, each
   followed by its answer: headings (h2 to h6), paragraphs that start with a bold question
   (its answer may follow in the same paragraph: "**Q: How...?** A: ..."), and elements whose
   class says so (`class="question"`, `faq-question`), that read as a question.

Pages often have a little of several forms (a landing page's "What is X?" headings beside its
real FAQ in <details>): taking the form with the most questions, rather than all of them, keeps
those headings out. The page is parsed by lxml (libxml2's HTML parser), whose element count is
checked while it parses; the parse stops past `Limits.max_elements`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

from faq_core.entries import FaqEntry, Phrasing
from faq_core.errors import NoQuestionsFound, Problem, SourceTooLarge, SourceUnreadable
from faq_core.sources.base import Document, Item, Limits
from faq_core.sources.html_text import element_text, fragment_text

NOT_AN_FAQ = (
    "it has no FAQPage markup (JSON-LD or microdata), no details/summary, no dl of questions, "
    "no question headings"
)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_QUESTION_HEADINGS = frozenset(_HEADINGS[1:])
_QUESTION_WORDS = frozenset(
    {
        "how", "what", "why", "when", "where", "who", "whom", "whose", "which", "can", "could",
        "do", "does", "did", "is", "are", "was", "were", "will", "would", "should", "shall",
        "may", "might", "must", "am", "have", "has",
    }
)  # fmt: skip
_FEED_BYTES = 1 << 16
# "Q: How do I…?" / "A: You…": the labels many FAQs write are no part of the text.
_QUESTION_LABEL = re.compile(r"^(?:Q|Question)\s*[:.)]\s+", re.IGNORECASE)
_ANSWER_LABEL = re.compile(r"^(?:A|Answer)\s*[:.)]\s+", re.IGNORECASE)
_MAX_JSON_DEPTH = 64


def reads_as_question(text: str) -> bool:
    """A line that ends in "?", or starts with a question word and has a few words."""
    text = " ".join(text.split())
    if not text or len(text) > 500:
        return False
    if text.rstrip("\"'”’)»").endswith(("?", "？")):
        return True
    words = text.split()
    return len(words) >= 3 and words[0].casefold().strip("\"'“‘") in _QUESTION_WORDS


def parse_page(doc: Document, limits: Limits) -> etree._Element:
    """The page's element tree; refused past the size or element limits, or when empty."""
    if len(doc.data) > limits.max_page_bytes:
        raise SourceTooLarge(
            doc.name, f"the page is {len(doc.data):,} bytes, more than {limits.max_page_bytes:,}"
        )
    if not doc.data.strip():
        raise NoQuestionsFound(doc.name, "the page is empty")
    try:
        doc.data.decode("utf-8")
        encoding: str | None = "utf-8"
    except UnicodeDecodeError:
        encoding = None  # let libxml2 read the page's own <meta charset>
    parser = etree.HTMLPullParser(
        events=("start",), encoding=encoding, no_network=True, remove_comments=True
    )
    elements = 0
    try:
        for offset in range(0, len(doc.data), _FEED_BYTES):
            parser.feed(doc.data[offset : offset + _FEED_BYTES])
            elements += sum(1 for _ in parser.read_events())
            if elements > limits.max_elements:
                raise SourceTooLarge(
                    doc.name, f"the page has more than {limits.max_elements:,} HTML elements"
                )
        root = parser.close()
    except (etree.LxmlError, ValueError) as exc:  # libxml2 recovers from most broken markup
        raise SourceUnreadable(doc.name, f"not an HTML page ({exc})") from exc
    if root is None:
        raise NoQuestionsFound(doc.name, "the page is empty")
    return root


def read_html(doc: Document, limits: Limits, *, source: str | None = None) -> Iterator[Item]:
    root = parse_page(doc, limits)
    yield from read_tree(doc, root, source=source)


def read_tree(
    doc: Document,
    root: etree._Element,
    *,
    source: str | None = None,
    where: Callable[[etree._Element], tuple[str, int]] | None = None,
) -> Iterator[Item]:
    """The items of a parsed page in the first form it has (module docstring). `where` says
    where an element is (the Markdown reader gives its own lines).

    A page with no question in any form is no FAQ (NoQuestionsFound), though a stray "Want to
    know more?" heading may have no answer; but a page whose FAQPage markup has questions none
    of which can be read is an FAQ with broken markup: those problems are what it gets."""
    page = _Page(doc, root, source, where)
    broken: list[Item] = []
    for form in (page.json_ld, page.microdata):
        items = list(form())
        if _entries(items):
            yield from items
            return
        broken = broken or items
    best = max((list(f()) for f in (page.details, page.lists, page.headings)), key=_entries)
    if _entries(best):
        yield from best
    elif broken:
        yield from broken
    else:
        raise NoQuestionsFound(doc.name, NOT_AN_FAQ)


def _entries(items: list[Item]) -> int:
    return sum(isinstance(i, FaqEntry) for i in items)


class _Page:
    def __init__(
        self,
        doc: Document,
        root: etree._Element,
        source: str | None,
        where: Callable[[etree._Element], tuple[str, int]] | None,
    ) -> None:
        self.doc = doc
        self.root = root
        self.tree = root.getroottree()
        self.source = source
        self._where = where

    # ---- where ----------------------------------------------------------------------------

    def where(self, el: etree._Element) -> tuple[str, int]:
        """Where `el` is, "page.html:40 (/html/body/dl/dt[3])", and its line."""
        if self._where is not None:
            return self._where(el)
        line = el.sourceline or 0
        return f"{self.doc.name}:{line} ({self.tree.getpath(el)})", line

    def problem(self, el: etree._Element, reason: str, detail: str = "") -> Problem:
        where, line = self.where(el)
        return Problem(f"{where}{detail}", reason, line)

    def entry(self, el: etree._Element, questions: list[str], answer: str, what: str) -> Item:
        questions = [
            q for q in (_QUESTION_LABEL.sub("", " ".join(q.split())) for q in questions) if q
        ]
        answer = _ANSWER_LABEL.sub("", answer.strip())
        if not questions:
            return self.problem(el, f"{what} has no question text")
        if not answer.strip():
            return self.problem(el, f"{what} {questions[0]!r} has no answer text")
        entry = FaqEntry(answer=answer, question=questions[0], source=self.source)
        return entry.with_phrasings([Phrasing(q) for q in questions[1:]])

    def text(self, el: etree._Element, skip: tuple[etree._Element, ...] = ()) -> str:
        return element_text(el, self.doc.base_url, skip)

    # ---- 1. JSON-LD ---------------------------------------------------------------------------

    def json_ld(self) -> Iterator[Item]:
        scripts = [
            s
            for s in self.root.iter("script")
            if (s.get("type") or "").split(";")[0].strip().lower() == "application/ld+json"
        ]
        for number, script in enumerate(scripts, start=1):
            label = f", JSON-LD script {number}"
            try:
                data = json.loads(script.text or "")
            except (json.JSONDecodeError, RecursionError) as exc:
                pages = "FAQPage" in (script.text or "")
                if pages:  # a broken script of other types is no business of an FAQ import
                    yield self.problem(script, f"invalid JSON-LD: {exc}", label)
                continue
            for page in _typed(data, "FAQPage"):
                main = page.get("mainEntity")
                questions = main if isinstance(main, list) else [main] if main else []
                for index, question in enumerate(questions):
                    detail = f"{label}, mainEntity[{index}]"
                    if not isinstance(question, dict) or not _has_type(question, "Question"):
                        yield self.problem(script, "not a schema.org Question", detail)
                        continue
                    item = self.entry(
                        script,
                        [fragment_text(_string(question.get("name")), self.doc.base_url)],
                        fragment_text(_answer_text(question), self.doc.base_url),
                        "the Question",
                    )
                    if isinstance(item, Problem):
                        item = item._replace(where=item.where + detail)
                    yield item

    # ---- 2. microdata -------------------------------------------------------------------------

    def microdata(self) -> Iterator[Item]:
        for page in self.root.iter():
            if not (_scope(page) and _itemtype(page, "FAQPage")):
                continue
            for question in page.iter():
                if question is page or not (_scope(question) and _itemtype(question, "Question")):
                    continue
                name = _prop(question, "name")
                answer = _prop(question, "acceptedAnswer")
                if answer is None:
                    answer = _prop(question, "suggestedAnswer")
                text = _prop(answer, "text") if answer is not None else None
                answer_text = (
                    _content(text, self.text)
                    if text is not None
                    else self.text(answer)
                    if answer is not None
                    else ""
                )
                yield self.entry(
                    question,
                    [_content(name, self.text) if name is not None else ""],
                    answer_text,
                    "the microdata Question",
                )

    # ---- 3. common forms without markup -------------------------------------------------------

    def details(self) -> Iterator[Item]:
        for details in self.root.iter("details"):
            if any(d is not details for d in details.iter("details")):
                continue  # a group of questions; each inner <details> is one
            summary = next(details.iter("summary"), None)
            if summary is None:
                yield self.problem(details, "a <details> without a <summary>: no question")
                continue
            yield self.entry(
                details, [self.text(summary)], self.text(details, (summary,)), "the <details>"
            )

    def lists(self) -> Iterator[Item]:
        for dl in self.root.iter("dl"):
            pairs = _terms(dl)
            terms = [self.text(t) for group, _ in pairs for t in group]
            if not terms or sum(map(reads_as_question, terms)) * 2 < len(terms):
                continue  # a glossary, or a list of facts, not of questions
            for group, answers in pairs:
                if not answers:
                    yield self.problem(group[0], "a <dt> question with no <dd> answer")
                    continue
                answer = "\n".join(self.text(dd) for dd in answers)
                yield self.entry(group[0], [self.text(t) for t in group], answer, "the <dt>")

    def headings(self) -> Iterator[Item]:
        found = [el for el in self.root.iter() if self._is_marker(el)]
        # A question line inside another (<div class="question"><h3>...?</h3></div>): the inner.
        outer = {a for el in found for a in el.iterancestors()}
        markers = [el for el in found if el not in outer]
        # An answer ends at the next question line, heading, or thematic break (<hr>).
        stops = set(markers) | set(self.root.iter(*_HEADINGS, "hr"))
        blocked = {a for el in stops for a in el.iterancestors()}
        for marker in markers:
            answer, next_stop = _answer_after(marker, stops, blocked)
            lead = _bold_lead(marker)
            # "**Q: How do I…?**" then, in the same paragraph, "A: You…": the answer starts there.
            inline = [self.text(marker, (lead,))] if lead is not None else []
            text = "\n".join(
                t
                for t in (
                    self.text(el) if isinstance(el, etree._Element) else " ".join(el.split())
                    for el in answer
                )
                if t
            )
            text = "\n".join(t for t in (*inline, text) if t)
            if not text and _deeper(next_stop, marker):
                continue  # a section title over its own questions ("Who can apply?" h2 > h3s)
            question = self.text(lead if lead is not None else marker)
            yield self.entry(marker, [question], text, "the question heading")

    def _is_marker(self, el: etree._Element) -> bool:
        if not isinstance(el.tag, str):
            return False
        if el.tag in _QUESTION_HEADINGS or _question_class(el):
            return reads_as_question(self.text(el))
        lead = _bold_lead(el)
        return lead is not None and reads_as_question(self.text(lead))


def _bold_lead(el: etree._Element) -> etree._Element | None:
    """A paragraph's bold start, "<p><strong>How…?</strong>" with or without more after it."""
    if el.tag != "p" or len(el) == 0 or el[0].tag not in ("strong", "b"):
        return None
    return el[0] if not (el.text or "").strip() else None


def _question_class(el: etree._Element) -> bool:
    """`class="question"`, `faq-question`, `accordion__question`: a page's own label."""
    return any(
        token == "question" or token.endswith(("-question", "_question"))
        for token in (el.get("class") or "").casefold().split()
    )


def _level(el: etree._Element | None) -> int:
    """h1 -> 1 ... h6 -> 6; a bold line is below every heading; the end, or an <hr>, 0."""
    if el is None or el.tag == "hr":
        return 0
    return int(el.tag[1]) if el.tag in _HEADINGS else 7


def _deeper(stop: etree._Element | None, marker: etree._Element) -> bool:
    return stop is not None and _level(stop) > _level(marker)


def _answer_after(
    marker: etree._Element, stops: set[etree._Element], blocked: set[etree._Element]
) -> tuple[list[etree._Element | str], etree._Element | None]:
    """The elements, and text between them, after `marker` up to the next heading or question,
    and that stop. A heading wrapped alone (`<div><h3>Q?</h3></div><div>answer</div>`) is
    followed from its wrapper; the page's body is as far up as that goes."""
    node = marker
    while True:
        found: list[etree._Element | str] = [node.tail] if (node.tail or "").strip() else []
        for sibling in node.itersiblings():
            if sibling in stops or sibling in blocked:
                return found, _first_stop(sibling, stops)
            if isinstance(sibling.tag, str):
                found.append(sibling)
            if (sibling.tail or "").strip():
                found.append(sibling.tail)
        parent = node.getparent()
        if found or parent is None or parent.tag in ("body", "html"):
            return found, None
        node = parent


def _first_stop(el: etree._Element, stops: set[etree._Element]) -> etree._Element | None:
    return next((d for d in el.iter() if d in stops), None)


def _terms(dl: etree._Element) -> list[tuple[list[etree._Element], list[etree._Element]]]:
    """A <dl>'s groups: the terms (a question and its other phrasings) and their definitions.
    HTML lets a <div> wrap each group."""
    children = [
        grand
        for child in dl
        for grand in ([*child] if child.tag == "div" else [child])
        if grand.tag in ("dt", "dd")
    ]
    groups: list[tuple[list[etree._Element], list[etree._Element]]] = []
    for el in children:
        if el.tag == "dt":
            if not groups or groups[-1][1]:
                groups.append(([], []))
            groups[-1][0].append(el)
        elif groups:
            groups[-1][1].append(el)
    return groups


# ---- schema.org helpers -------------------------------------------------------------------


def _has_type(obj: dict[str, Any], name: str) -> bool:
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] == name for k in kinds)


def _typed(data: Any, name: str, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every object of schema.org type `name` in a JSON-LD document (in @graph, in lists)."""
    if depth > _MAX_JSON_DEPTH:
        return
    if isinstance(data, list):
        for value in data:
            yield from _typed(value, name, depth + 1)
    elif isinstance(data, dict):
        if _has_type(data, name):
            yield data
            return
        for value in data.values():
            if isinstance(value, dict | list):
                yield from _typed(value, name, depth + 1)


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _answer_text(question: dict[str, Any]) -> str:
    for key in ("acceptedAnswer", "suggestedAnswer"):
        answer = question.get(key)
        if isinstance(answer, list):
            answer = answer[0] if answer else None
        if isinstance(answer, dict) and _string(answer.get("text")).strip():
            return _string(answer.get("text"))
        if isinstance(answer, str) and answer.strip():
            return answer
    return ""


def _scope(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and el.get("itemscope") is not None


def _itemtype(el: etree._Element, name: str) -> bool:
    return any(t.rstrip("/").rsplit("/", 1)[-1] == name for t in (el.get("itemtype") or "").split())


def _prop(el: etree._Element, name: str) -> etree._Element | None:
    """The first element under `el` with item property `name` that belongs to `el`'s item
    (not to an item nested in it)."""
    for child in el.iterdescendants():
        if not isinstance(child.tag, str):
            continue
        if name in (child.get("itemprop") or "").split() and _owner(child, el):
            return child
    return None


def _owner(el: etree._Element, item: etree._Element) -> bool:
    for ancestor in el.iterancestors():
        if ancestor is item:
            return True
        if _scope(ancestor):
            return False
    return False


def _content(el: etree._Element, text: Callable[[etree._Element], str]) -> str:
    """A microdata property's value: a <meta>'s `content`, else the element's text."""
    content = el.get("content")
    return content if content is not None else text(el)
