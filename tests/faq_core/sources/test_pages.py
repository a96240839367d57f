"""FAQ pages in each form the page reader knows, what it leaves out, and where it says a bad
item is; pages that are not an FAQ and pages too large to read."""

from __future__ import annotations

import json
import re
import time

import pytest

from faq_core.entries import FaqEntry
from faq_core.errors import NoQuestionsFound, Problem, SourceTooLarge
from faq_core.sources import Document, Limits, import_document
from faq_core.sources.html_page import NOT_AN_FAQ, reads_as_question


def page(body: str, head: str = "") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


def read(data: bytes, name: str = "faq.html", **kw: object) -> tuple[list[FaqEntry], list[Problem]]:
    imported = import_document(Document(name, data, **kw))  # type: ignore[arg-type]
    return imported.entries, imported.problems


JSON_LD = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "name": "Example"},
        {
            "@type": ["WebPage", "FAQPage"],
            "mainEntity": [
                {
                    "@type": "Question",
                    "name": "How do I reset my password?",
                    "acceptedAnswer": {
                        "@type": "Answer",
                        "text": "<p>Open <a href='https://ex.com/reset'>the reset page</a>.</p>"
                        "<script>steal()</script><p>Then check your mail.</p>",
                    },
                },
                {
                    "@type": "Question",
                    "name": "Can I pay by invoice?",
                    "acceptedAnswer": [{"@type": "Answer", "text": "Yes, above 10 seats."}],
                },
                {"@type": "Question", "name": "Where is the answer?"},
            ],
        },
    ],
}


def test_json_ld_faqpage_is_read_first_and_its_answers_keep_text_and_links() -> None:
    # The page also has a heading that reads as a question: the markup wins.
    body = "<h2>What is Example?</h2><p>A company.</p>"
    # As pages write it: "</" escaped, or the answer's </script> would end the script.
    escaped = json.dumps(JSON_LD).replace("</", "<\\/")
    script = f'<script type="application/ld+json">{escaped}</script>'
    entries, problems = read(page(body, script))
    assert [(e.question, e.answer) for e in entries] == [
        (
            "How do I reset my password?",
            "Open the reset page (https://ex.com/reset).\nThen check your mail.",
        ),
        ("Can I pay by invoice?", "Yes, above 10 seats."),
    ]
    [problem] = problems
    assert problem.reason == "the Question 'Where is the answer?' has no answer text"
    assert problem.where == "faq.html:1 (/html/head/script), JSON-LD script 1, mainEntity[2]"


def test_a_broken_json_ld_faqpage_is_reported_and_other_json_ld_ignored() -> None:
    head = (
        '<script type="application/ld+json">{"@type": "Organization", oops}</script>\n'
        '<script type="application/ld+json">{"@type": "FAQPage", "mainEntity": [}</script>'
    )
    body = "<details><summary>Is it open?</summary>Yes.</details>"
    entries, problems = read(page(body, head))
    # The FAQPage script could not be read: the page's other form is used, and says nothing
    # of it (the problems are those of the form the entries come from).
    assert [e.question for e in entries] == ["Is it open?"]
    assert problems == []
    # Nothing else on the page: an FAQ whose markup is broken, and that is its problem.
    entries, problems = read(page("", head))
    assert entries == []
    assert [p.where for p in problems] == ["faq.html:2 (/html/head/script[2]), JSON-LD script 2"]
    assert problems[0].reason.startswith("invalid JSON-LD: Expecting value")
    # FAQPage markup whose every question is broken: an FAQ, and those are its problems.
    broken = {"@type": "FAQPage", "mainEntity": [{"@type": "Question", "name": "Why?"}]}
    script = f'<script type="application/ld+json">{json.dumps(broken)}</script>'
    entries, problems = read(page("<h2>Why?</h2>", script))
    assert entries == []
    assert [p.reason for p in problems] == ["the Question 'Why?' has no answer text"]


MICRODATA = """
<div itemscope itemtype="https://schema.org/FAQPage">
  <h1>Questions</h1>
  <div itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">
    <h3 itemprop="name">Do you ship abroad?</h3>
    <div itemscope itemprop="acceptedAnswer" itemtype="https://schema.org/Answer">
      <div itemprop="text"><p>Yes, to the EU.</p><style>.x{}</style></div>
    </div>
  </div>
  <div itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">
    <meta itemprop="name" content="How long does delivery take?">
    <div itemscope itemprop="acceptedAnswer" itemtype="https://schema.org/Answer">
      <span itemprop="text">Two to five days.</span>
    </div>
  </div>
  <div itemscope itemprop="mainEntity" itemtype="https://schema.org/Question">
    <h3 itemprop="name"></h3>
  </div>
</div>
"""


def test_microdata_faqpage() -> None:
    entries, problems = read(page(MICRODATA))
    assert [(e.question, e.answer) for e in entries] == [
        ("Do you ship abroad?", "Yes, to the EU."),
        ("How long does delivery take?", "Two to five days."),
    ]
    assert [p.reason for p in problems] == ["the microdata Question has no question text"]
    assert problems[0].where == "faq.html:16 (/html/body/div/div[3])"


def test_details_summary_and_scripts_never_reach_an_answer() -> None:
    body = """
    <h2>What is this page?</h2><p>Our help.</p>
    <div class="faq">
      <details><summary>How do I cancel?<script>alert(1)</script></summary>
        <p>Press <b>cancel</b>.</p><script>document.write('evil')</script>
        <noscript>enable js</noscript><template><p>hidden</p></template></details>
      <details open><summary>Is there a <i>free</i> plan?</summary>
        <ul><li>Yes: 3 users.</li><li>Forever.</li></ul></details>
      <details><p>no summary here</p></details>
    </div>"""
    entries, problems = read(page(body))
    assert [(e.question, e.answer) for e in entries] == [
        ("How do I cancel?", "Press cancel."),
        ("Is there a free plan?", "- Yes: 3 users.\n- Forever."),
    ]
    assert [p.reason for p in problems] == ["a <details> without a <summary>: no question"]
    assert problems[0].where == "faq.html:9 (/html/body/div/details[3])"


def test_dl_of_questions_is_read_and_a_glossary_is_not() -> None:
    body = """
    <dl><dt>API</dt><dd>A way to talk to a program.</dd><dt>SLA</dt><dd>A promise.</dd></dl>
    <dl class="faq">
      <div><dt>Can I export my data?</dt><dt>How do I download everything?</dt>
        <dd>Yes: Settings, Export.</dd></div>
      <dt>Why was I charged twice?</dt><dd>A pending charge.</dd><dd>It drops in 3 days.</dd>
      <dt>Who do I call?</dt>
    </dl>"""
    entries, problems = read(page(body))
    assert [(e.questions, e.answer) for e in entries] == [
        (("Can I export my data?", "How do I download everything?"), "Yes: Settings, Export."),
        (("Why was I charged twice?",), "A pending charge.\nIt drops in 3 days."),
    ]
    assert [(p.reason, p.line) for p in problems] == [("a <dt> question with no <dd> answer", 7)]


def test_question_headings_wrapped_headings_and_section_titles() -> None:
    body = """
    <h1>Help centre</h1>
    <h2>Billing questions?</h2>
    <h3>How do I change my card?</h3><p>Under Billing.</p><p>Any card works.</p>
    <div class="q"><h3>what happens if a payment fails</h3></div>
    <div class="a"><p>We retry <a href="/retry">three times</a>.</p></div>
    <h3>Refunds</h3><p>Not a question: no entry.</p>
    <h4>Can I get a refund?</h4>
    <h2>Contact</h2>"""
    entries, problems = read(page(body), base_url="https://help.example.com/faq/")
    assert [(e.question, e.answer) for e in entries] == [
        ("How do I change my card?", "Under Billing.\nAny card works."),
        (
            "what happens if a payment fails",
            "We retry three times (https://help.example.com/retry).",
        ),
    ]
    # "Billing questions?" is a section title over h3 questions; "Can I get a refund?" has no
    # answer before the next heading of its level or above.
    assert [p.reason for p in problems] == [
        "the question heading 'Can I get a refund?' has no answer text"
    ]
    assert problems[0].where == "faq.html:8 (/html/body/h4)"


def test_the_form_with_most_questions_wins_over_a_few_question_headings() -> None:
    # A landing page: "What is X?" headings beside its real FAQ.
    body = "<h3>What is government doing?</h3><p>Bills.</p>" + "".join(
        f"<details><summary>Q{i}?</summary><p>A{i}.</p></details>" for i in range(3)
    )
    entries, _ = read(page(body))
    assert [e.question for e in entries] == ["Q0?", "Q1?", "Q2?"]


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("How do I pay?", True),
        ("how do i pay", True),
        ("Pourquoi ?", True),
        ("“Is it free?”", True),
        ("Pricing", False),
        ("How-to guides", False),
        ("Frequently asked questions", False),
        ("", False),
    ],
)
def test_what_reads_as_a_question(text: str, question: bool) -> None:
    assert reads_as_question(text) is question


def test_a_page_that_is_no_faq_says_what_it_looked_for() -> None:
    body = (
        "<h1>Shoes</h1><p>We sell shoes.</p><dl><dt>Size</dt><dd>42</dd></dl>"
        "<h3>Want to know more?</h3>"  # a question heading with nothing under it
    )
    with pytest.raises(NoQuestionsFound) as info:
        read(page(body), name="shop.html")
    assert str(info.value) == f"no questions found in shop.html: {NOT_AN_FAQ}"
    assert "no FAQPage markup" in str(info.value) and "no details/summary" in str(info.value)
    with pytest.raises(NoQuestionsFound, match="the page is empty"):
        read(b"  \n", name="empty.html")


def test_a_page_past_the_element_limit_fails_fast() -> None:
    # 1.2 million elements in 8.4 MB: refused once the parser has seen 500,000, well before
    # the whole tree is built.
    data = page("<b>x</b>" * 1_200_000)
    started = time.perf_counter()
    with pytest.raises(SourceTooLarge, match="the page has more than 500,000 HTML elements"):
        read(data)
    assert time.perf_counter() - started < 30  # about 1.6 s here; generous for a busy CI
    with pytest.raises(SourceTooLarge, match=re.escape("more than 1,000 HTML elements")):
        import_document(Document("small.html", page("<i></i>" * 2000)), Limits(max_elements=1000))


def test_a_page_past_the_byte_limit_is_refused_before_parsing() -> None:
    data = page("<p>How?</p>" * 2000)
    with pytest.raises(SourceTooLarge, match=re.escape(f"the page is {len(data):,} bytes")):
        import_document(Document("big.html", data), Limits(max_page_bytes=10_000))


def test_a_page_in_another_encoding_is_read_by_its_meta_charset() -> None:
    data = (
        page("<h3>Où est la gare ?</h3><p>À gauche.</p>", '<meta charset="iso-8859-1">')
        .decode()
        .encode("iso-8859-1")
    )
    entries, _ = read(data)
    assert [(e.question, e.answer) for e in entries] == [("Où est la gare ?", "À gauche.")]
