"""Screenshots of the support console, for docs/console/: each view at 1280x800, the entry dialog,
the Ask view on a phone (390x844), and the first load's weight.

    python -m tests.service.console_screenshots --model var/model \\
        --data ../shared/data/cloud_faq/val.jsonl --out docs/console

It indexes the first `--lines` of the data file into a temporary store with the servable, starts
`faq-serve` on it, and drives Debian's Chromium through the views. Users' traffic is made up:
questions no entry answers, and wordings of three entries asked at `min_confidence` 1.0 so that
they go unanswered and become suggestions; those are accepted after the Suggestions view is
taken, which makes reviewed questions (too few to move the operating point: the Model view
says how many of how many). A service without `GET /unanswered` (before issue 20) gets a canned
answer for that one request, shaped as the contract says and printed as such, so that the view
can still be seen.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect, sync_playwright

from faq_core.settings import Settings
from indexer.run import run_index
from tests.service.conftest import ServerProcess
from tests.support.browser import DESKTOP, PHONE, launch
from tests.support.waiting import eventually

QUESTION = "how do i stop being billed for my project"
UNCOVERED = [
    ["can i pay my invoice with a purchase order?", "do you accept purchase orders?"],
    ["is there a student discount?", "do students get a discount on the pro plan?"],
    ["can i get a printed copy of my contract by post?"],
]
# Wordings of entries in the first lines of val.jsonl, asked so that the service answers none.
SUGGESTED = {
    "what is amazon sagemaker canvas?": [
        "tell me about sagemaker canvas",
        "sagemaker canvas what is it",
        "what's sagemaker canvas",
    ],
    "what kinds of servers are in the server auction?": [
        "which servers can i get in the hetzner auction",
        "hetzner server auction: what's there",
    ],
    "what is aws glue?": ["tell me what aws glue is", "aws glue, what does it do"],
}
UNSURE = {"min_confidence": 1.0}
IMPORT_CSV = """question,answer,source,alternates
how do i add a second admin?,settings > team: invite them as admin.,console,"add another admin
invite an admin"
how do i close my account?,,console,
can i change my billing currency?,yes: settings > billing > currency.,console,
"""


def canned_unanswered(server: ServerProcess) -> dict[str, Any]:
    """GET /unanswered's answer as the contract of issue 20 shapes it, for a service without it;
    the closest entries are real ones."""
    ids = [
        e["id"] for e in httpx.get(f"{server.url}/answers?limit=3", timeout=30).json()["entries"]
    ]
    now = datetime.now(UTC)
    groups = []
    for i, (questions, count) in enumerate(zip(UNCOVERED, [7, 4, 1], strict=True)):
        groups.append(
            {
                "count": count,
                "questions": questions,
                "first_seen": (now - timedelta(days=6 - 2 * i, hours=3)).isoformat(),
                "last_seen": (now - timedelta(hours=5 * i + 1)).isoformat(),
                "best_candidate": {"id": ids[i], "confidence": [0.31, 0.44, 0.12][i]},
                "reasons": {"no_match": count - (i == 0), "ambiguous": 0, "unhelpful": int(i == 0)},
                "resolved": False,
            }
        )
    return {"groups": groups}


def shoot(page: Page, path: Path) -> None:
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def waited(check: Callable[[], object], what: str) -> None:
    """Wait for what the service does off the request path (its logs, its refits)."""
    if not eventually(check):
        raise TimeoutError(f"no {what} in time")


def suggestions(server: ServerProcess) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(f"{server.url}/suggestions", timeout=30).json()[
        "suggestions"
    ]
    return found


def suggested(server: ServerProcess) -> set[str]:
    """The questions the service suggests now, whatever the entry."""
    return {q for s in suggestions(server) for q in s["questions"]}


def take(server: ServerProcess, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    has_unanswered = httpx.get(f"{server.url}/unanswered", timeout=30).status_code != 404
    if has_unanswered:
        for question in itertools.chain.from_iterable(UNCOVERED):
            httpx.post(f"{server.url}/ask", json={"question": question}, timeout=30)
        for question in itertools.chain.from_iterable(SUGGESTED.values()):
            httpx.post(f"{server.url}/ask", json={"question": question, **UNSURE}, timeout=30)
        wanted = set(itertools.chain.from_iterable(SUGGESTED.values()))
        waited(lambda: wanted <= suggested(server), "suggestions")
    else:
        print("this service has no GET /unanswered: unanswered.png shows a canned answer")
        canned = canned_unanswered(server)

    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        sizes: dict[str, int] = {}

        def on_finished(request: Any) -> None:
            size = request.sizes()
            sizes[request.url] = size["responseBodySize"] + size["responseHeadersSize"]

        page.on("requestfinished", on_finished)
        page.goto(server.url + "/", wait_until="networkidle")
        print(f"first load: {sum(sizes.values())} bytes transferred: {sizes}")
        page.remove_listener("requestfinished", on_finished)

        field = page.locator("#ask-question")
        field.fill(QUESTION)
        field.press("Enter")
        expect(page.locator("#ask-answers > li").first).to_be_visible()
        shoot(page, out / "ask.png")

        if not has_unanswered:
            page.route("**/unanswered", lambda route: route.fulfill(json=canned))
        page.goto(server.url + "/#unanswered")
        group = page.locator("#groups > li").first
        expect(group).to_be_visible()
        if has_unanswered:
            # Each group with the entry the service found closest, by its question and answer.
            expect(group.locator(".closest-question button")).to_be_visible()
        else:
            group.get_by_role("button", name="Write an answer").click()
            group.get_by_label("Answer").fill(
                "Yes: choose 'invoice' at checkout and send us the PO."
            )
        shoot(page, out / "unanswered.png")

        if has_unanswered:
            page.goto(server.url + "/#suggestions")
            cards = page.locator("#suggestions > li")
            expect(cards.first).to_be_visible()
            cards.first.get_by_role("checkbox").last.uncheck()
            # The last suggestion (the least asked), to be attached to another entry: the
            # entries found by meaning for its first question, the suggested one left out.
            cards.last.get_by_role("button", name="Attach to another entry…").click()
            expect(cards.last.get_by_role("radio").first).to_be_visible()
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(out / "suggestions.png"), full_page=True)
            print(f"wrote {out / 'suggestions.png'} (the whole page)")
            # Accept those made up as wordings of their entries (not what the questions no entry
            # answers may have made): reviewed questions, which the operating point is refitted on.
            reviewed = 0
            for suggestion in suggestions(server):
                if suggestion["entry"]["question"] in SUGGESTED:
                    path = f"/suggestions/{suggestion['id']}/accept"
                    response = httpx.post(server.url + path, timeout=30)
                    reviewed += len(response.raise_for_status().json()["questions"])

        page.goto(server.url + "/#entries")
        expect(page.locator("#entries-table tbody tr").first).to_be_visible()
        shoot(page, out / "entries.png")
        page.locator("#import-form").get_by_label("File").set_input_files(
            {"name": "new-entries.csv", "mimeType": "text/csv", "buffer": IMPORT_CSV.encode()}
        )
        page.locator("#import-form").get_by_role("button", name="Import").click()
        expect(page.locator("#import-report")).to_be_visible()
        page.locator(".import").scroll_into_view_if_needed()
        shoot(page, out / "entries-import.png")

        page.get_by_role("search").get_by_label("Search by meaning").fill("sagemaker canvas")
        page.get_by_role("search").get_by_role("button", name="Search").click()
        canvas = page.get_by_role("button", name="what is amazon sagemaker canvas?")
        canvas.click()
        dialog = page.locator("#entry-dialog")
        expect(dialog.locator("#entry-phrasings > li").first).to_be_visible()
        shoot(page, out / "entry-dialog.png")
        dialog.get_by_role("button", name="Close").click()

        if has_unanswered:

            def fitted() -> bool:
                manifest = httpx.get(f"{server.url}/manifest", timeout=30).json()
                fit = manifest["calibration"]["fit"]
                return bool(fit and fit["reviewed"] >= reviewed)

            waited(fitted, "refit on the reviewed questions")

        page.goto(server.url + "/#model")
        expect(page.locator("#model-card")).to_be_visible()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out / "model.png"), full_page=True)
        print(f"wrote {out / 'model.png'} (the whole page)")

        phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        small = phone.new_page()
        small.goto(server.url + "/")
        small.locator("#ask-question").fill(QUESTION)
        small.locator("#ask-question").press("Enter")
        expect(small.locator("#ask-answers > li").first).to_be_visible()
        shoot(small, out / "ask-phone.png")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="servable directory")
    parser.add_argument("--data", type=Path, required=True, help="FAQ data file to index")
    parser.add_argument("--lines", type=int, default=400, help="index the first N lines")
    parser.add_argument("--out", type=Path, default=Path("docs/console"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / f"faq{args.data.suffix}"
        with args.data.open() as source:
            data.write_text("".join(itertools.islice(source, args.lines)))
        store = Path(tmp) / "store"
        settings = Settings(model_path=args.model, store_path=store, device="cpu")
        run_index(data, settings, progress=False)
        server = ServerProcess(
            {
                "FAQ_MODEL_PATH": str(args.model),
                "FAQ_STORE_PATH": str(store),
                "FAQ_DEVICE": "cpu",
            }
        )
        server.start()
        try:
            take(server, args.out)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
