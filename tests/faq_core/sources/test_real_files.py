"""The readers on real FAQ files kept under tests/fixtures/faq_pages (README there: where each
comes from, and the count of questions made by reading it)."""

from __future__ import annotations

from pathlib import Path

from faq_core.sources import read_entries

PAGES = Path(__file__).parents[2] / "fixtures" / "faq_pages"


def test_spark_faq_page_gives_its_twelve_questions_and_no_script() -> None:
    entries = read_entries(PAGES / "spark-faq.html")
    questions = [e.question for e in entries]
    assert len(entries) == 12
    assert questions[0] == "How does Spark relate to Hadoop?"
    assert questions[9] == (
        "I understand Spark Streaming uses micro-batching. Does this increase latency?"
    )
    assert questions[-1] == "Where can I get more help?"
    answers = {e.question: e.answer for e in entries}
    # Links keep their address; relative ones cannot (a file has no address of its own).
    assert (
        "surveys (http://java.dzone.com/articles/apache-spark-survey-typesafe-0) show"
        in answers["Who is using Spark in production?"]
    )
    assert answers["Does my data need to fit in memory to use Spark?"].endswith(
        "as determined by the RDD's storage level."
    )
    # An answer of two paragraphs, and one that is bare text after its question.
    cluster = answers["How can I run Spark on a cluster?"].split("\n")
    assert len(cluster) == 2 and cluster[1].startswith("Note that you can also run Spark locally")
    assert answers[questions[9]].startswith("While Spark does use a micro-batch execution model")
    # The page's analytics script, its navigation and its footer are in no answer.
    text = " ".join(e.answer for e in entries)
    for outside in ("_gaq", "trackOutboundLink", "Download Spark", "trademarks"):
        assert outside not in text


def test_fabric8_markdown_faq_gives_its_six_question_headings() -> None:
    entries = read_entries(PAGES / "fabric8-faq.md")
    assert [e.question for e in entries] == [
        "What is the license?",
        "How do I get support?",
        "How do I build it?",
        "How do I contribute or become a committer?",
        "How do I register for the issue tracker?",
        "How does the website work?",
    ]
    assert entries[0].answer == (
        "This software is completely open source under the Apache 2.0 license "
        "(http://www.apache.org/licenses/LICENSE-2.0.html)."
    )
    assert entries[1].answer == "See the support guide for more details."


def test_qna_maker_export_makes_one_entry_per_qna_pair_with_its_other_questions() -> None:
    entries = read_entries(PAGES / "covid-bot-kb-excerpt.tsv")
    assert [(e.question, len(e.questions)) for e in entries] == [
        ("When to self-isolate", 4),
        ("Compare symptoms of COVID-19, flu and cold", 1),
        ("When a fever could be something else", 1),
    ]
    isolate = entries[0]
    assert [p.text for p in isolate.phrasings] == [
        "What should I do?",
        "What should I do now?",
        "What should I do if I have COVID symptoms?",
    ]
    assert isolate.source == "https://www2.hse.ie/conditions/coronavirus/symptoms.html"
    assert isolate.extra == {"qna_id": "2"}
    # The Markdown answer as text: its \n as lines, its links as "words (address)".
    assert isolate.answer.split("\n")[0].startswith(
        "If you have any common symptoms of COVID-19 (coronavirus), self-isolate (stay in your "
        "room) (https://www2.hse.ie/conditions/coronavirus/self-isolation/how-to-self-isolate.html)"
    )
    assert "](" not in isolate.answer and "\\n" not in isolate.answer
    fever = entries[2].answer.split("\n")
    assert fever[-3:] == ["- severe headache", "- stiff neck", "- sensitivity to light"]


def test_httpd_manual_faq_page_in_latin_1_with_a_glossary_list_in_an_answer() -> None:
    """Apache httpd's generated manual page: two question headings (one that starts with a
    quoted "Why" and ends without "?"), a table of contents, and a <dl> of steps whose terms
    are no questions: part of the first answer, not entries of their own."""
    entries = read_entries(PAGES / "httpd-support-faq.html")
    assert [e.question for e in entries] == [
        "\"Why can't I ...? Why won't ... work?\" What to do in case of problems",
        "Whom do I contact for support?",
    ]
    steps = entries[0].answer.split("\n")
    assert steps[0] == (
        "If you are having trouble with your Apache server software, you should take the "
        "following steps:"
    )  # one line, though the page wraps it in two
    assert "Check the FAQ (http://httpd.apache.org/docs/2.0/faq/)!" in steps
    assert steps[-1].startswith("(Substitute the appropriate locations for your ServerRoot")
    assert entries[1].answer.endswith("we suggest participating in a user forum.")
    assert "Türkçe" not in entries[0].answer + entries[1].answer  # the language bar is no answer


def test_textual_faq_generated_markdown_with_code_blocks() -> None:
    """Textual's FAQ.md (written by FAQtory): a table of contents linking to the questions, an
    anchor before each "##" question, code blocks in answers, an <hr> and a footer after the
    last answer."""
    entries = read_entries(PAGES / "textual-FAQ.md")
    assert len(entries) == 8
    assert entries[0].question == "Does Textual support images?"
    assert entries[1].question == (
        "How can I fix ImportError cannot import name ComposeResult from textual.app ?"
    )
    assert entries[-1].question == "Why doesn't Textual support ANSI themes?"
    # A code block keeps its lines.
    assert entries[1].answer.split("\n")[-1] == 'pip install "textual[dev]" -U'
    assert 'def compose(self) -> ComposeResult:\nyield Button("PUSH ME!")' in entries[3].answer
    # The table of contents is no answer; the footer after the <hr> is none either.
    assert entries[-1].answer.endswith("to blend in with your chosen terminal theme.")
    assert not any("FAQtory" in e.answer for e in entries)
