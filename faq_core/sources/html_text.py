"""An HTML element's text as an answer keeps it: words, not markup; paragraphs and list items
on lines of their own; a link's address after its words, "text (https://…)". Scripts, styles
and other things a reader never sees contribute nothing."""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urljoin

from lxml import etree, html

# Elements whose content a person never reads as text (or that run code): left out whole.
# Not <button>: accordions put the question in one (<dt><button>How do I...?</button></dt>).
SKIPPED = frozenset(
    {
        "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
        "canvas", "select", "textarea", "input", "head", "title", "meta", "link",
    }
)  # fmt: skip
# Elements that start a line of their own.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# A line break between blocks; the text's own line breaks are only spacing (source wrapping).
# NUL, as lxml keeps none in text.
_BREAK = "\x00"
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def element_text(
    element: etree._Element, base_url: str | None = None, skip: Collection[etree._Element] = ()
) -> str:
    """The text of `element` and what it holds, `skip` left out, one line per block."""
    parts: list[str] = []
    _walk(element, parts, base_url, skip)
    lines: list[str] = []
    bullet = False
    for line in (" ".join(line.split()) for line in "".join(parts).split(_BREAK)):
        if line == "-":  # a list item whose text is in a block of its own (<li><p>...)
            bullet = True
        elif line:
            lines.append(f"- {line}" if bullet else line)
            bullet = False
    return "\n".join(lines)


def fragment_text(markup: str, base_url: str | None = None) -> str:
    """The text of an HTML fragment (a JSON-LD answer may hold markup)."""
    if not markup.strip():
        return ""
    wrapper = html.fragment_fromstring(markup, create_parent="div")
    return element_text(wrapper, base_url)


def link_address(href: str | None, base_url: str | None) -> str | None:
    """Where a link points, when that is an address a reader can use: absolute, or relative to
    a page whose own address is known; not an anchor on the page, not a script."""
    if not href:
        return None
    href = href.strip()
    if href.startswith("#") or href.lower().startswith("javascript:"):
        return None
    address = urljoin(base_url, href) if base_url else href
    return address if address.lower().startswith(_LINK_SCHEMES) else None


def _walk(
    el: etree._Element,
    parts: list[str],
    base_url: str | None,
    skip: Collection[etree._Element],
    pre: bool = False,
) -> None:
    tag = el.tag if isinstance(el.tag, str) else None  # comments and processing instructions
    if tag is None or tag in SKIPPED or el in skip:
        return
    pre = pre or tag == "pre"  # a code block keeps its lines (not their indentation)
    block = tag in _BLOCKS
    if block or tag == "br":
        parts.append(_BREAK)
    if tag == "li":
        parts.append("- ")
    start = len(parts)
    if el.text:
        parts.append(_lines(el.text, pre))
    for child in el:
        _walk(child, parts, base_url, skip, pre)
        if child.tail:
            parts.append(_lines(child.tail, pre))
    if tag == "a":
        address = link_address(el.get("href"), base_url)
        words = " ".join("".join(parts[start:]).replace(_BREAK, " ").split())
        if address and words and address.removeprefix("mailto:") != words:
            parts.append(f" ({address})")
        elif address and not words:
            parts.append(address)
    if block:
        parts.append(_BREAK)


def _lines(text: str, pre: bool) -> str:
    return text.replace("\n", _BREAK) if pre else text
