"""Markdown FAQs: a heading, or a line that is all bold, per question, the text under it the
answer. markdown-it-py renders the file to HTML (CommonMark, HTML blocks kept: FAQ files often
use <details>), and the page reader finds the questions in it, so a Markdown FAQ and an HTML one
are read alike. Each block carries the line it starts on, so problems name the file's lines."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree, html
from markdown_it import MarkdownIt

from faq_core.sources.base import Document, Item, Limits
from faq_core.sources.html_page import parse_page, read_tree
from faq_core.sources.html_text import element_text

_LINE = "data-source-line"


def render(text: str, *, lines: bool = False) -> str:
    md = MarkdownIt("commonmark", {"html": True})
    tokens = md.parse(text)
    if lines:
        for token in tokens:
            if token.nesting == 1 and token.map:
                token.attrSet(_LINE, str(token.map[0] + 1))
    return md.renderer.render(tokens, md.options, {})


def markdown_text(text: str, base_url: str | None = None) -> str:
    """Markdown as the plain text an answer keeps (a QnA Maker answer is Markdown)."""
    if not text.strip():
        return ""
    return element_text(html.fragment_fromstring(render(text), create_parent="div"), base_url)


def read_markdown(doc: Document, limits: Limits, *, source: str | None = None) -> Iterator[Item]:
    text, skipped = _without_front_matter(doc.text())
    page = Document(doc.name, render(text, lines=True).encode(), "text/html", doc.base_url)
    root = parse_page(page, limits)

    def where(el: etree._Element) -> tuple[str, int]:
        for node in (el, *el.iterancestors()):
            line = node.get(_LINE)
            if line is not None:
                return f"{doc.name}:{int(line) + skipped}", int(line) + skipped
        return f"{doc.name} ({root.getroottree().getpath(el)})", 0

    yield from read_tree(page, root, source=source, where=where)


def _without_front_matter(text: str) -> tuple[str, int]:
    """A Jekyll or Hugo file's YAML front matter (between two "---" lines at the top) is no
    part of the FAQ; returns the rest and how many lines were dropped."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return text, 0
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            return "".join(lines[index + 1 :]), index + 1
    return text, 0
