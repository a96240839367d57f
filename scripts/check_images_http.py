"""The HTTP half of scripts/check_images.sh: a user's first requests to a service in its container.

    python3 scripts/check_images_http.py URL KEY QUESTION first|again ID_FILE

first   waits for /readyz, asks QUESTION (an FAQ question of the indexed data: its entry comes
        first), adds an entry with POST /answers (refused without the key, 201 with it), writes
        its id to ID_FILE and finds it with /ask.
again   after a restart: waits for /readyz, and the entry of ID_FILE is still there and found.

Standard library only, so that it runs with the machine's python3. Exits 1 with what was wrong.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

READY_TIMEOUT_S = 300
NEW_QUESTION = "what is the name of the office cat in the check?"
NEW_ENTRY = {
    "question": NEW_QUESTION,
    "answer": "the office cat in the image check is called tofu",
    "source": "check-images",
}


class CheckFailed(Exception):
    pass


def call(
    url: str, method: str = "GET", body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    headers = {"content-type": "application/json"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return status, raw.decode(errors="replace")


def expect(what: str, status: int, wanted: int, body: Any) -> None:
    if status != wanted:
        raise CheckFailed(f"{what}: HTTP {status}, expected {wanted}: {body}")


def wait_ready(base: str) -> None:
    started = time.monotonic()
    last = "no answer"
    while time.monotonic() - started < READY_TIMEOUT_S:
        try:
            status, body = call(f"{base}/readyz")
            if status == 200:
                print(f"  /readyz 200 after {time.monotonic() - started:.0f} s: {body}")
                return
            last = f"HTTP {status}: {body}"
        except OSError as error:
            last = str(error)
        time.sleep(1)
    raise CheckFailed(f"/readyz not 200 within {READY_TIMEOUT_S} s; last: {last}")


def first_answer(base: str, question: str) -> dict[str, Any]:
    status, body = call(f"{base}/ask", "POST", {"question": question, "top_k": 3})
    expect(f"/ask {question!r}", status, 200, body)
    if not body["answers"]:
        raise CheckFailed(f"/ask {question!r}: no answers at all: {body}")
    answer: dict[str, Any] = body["answers"][0]
    return answer


def first(base: str, key: str, question: str, id_file: Path) -> None:
    wait_ready(base)
    answer = first_answer(base, question)
    if answer["question"] != question:
        raise CheckFailed(f"/ask {question!r}: first answer is for {answer['question']!r}")
    print(f"  /ask: its own entry first (score {answer['score']:.3f})")
    status, body = call(f"{base}/answers", "POST", {"entries": [NEW_ENTRY]})
    expect("POST /answers without the key", status, 401, body)
    status, body = call(f"{base}/answers", "POST", {"entries": [NEW_ENTRY]}, key)
    expect("POST /answers with the key", status, 201, body)
    entry_id = body["ids"][0]
    id_file.write_text(entry_id)
    found = first_answer(base, NEW_QUESTION)
    if found["id"] != entry_id:
        raise CheckFailed(f"/ask for the added entry: first answer is {found}, not {entry_id}")
    print(f"  POST /answers: 401 without the key, 201 with it; {entry_id} found by /ask")


def again(base: str, id_file: Path) -> None:
    entry_id = id_file.read_text()
    wait_ready(base)
    status, body = call(f"{base}/answers/{entry_id}")
    expect(f"GET /answers/{entry_id} after the restart", status, 200, body)
    if body["answer"] != NEW_ENTRY["answer"]:
        raise CheckFailed(f"GET /answers/{entry_id} after the restart: {body}")
    found = first_answer(base, NEW_QUESTION)
    if found["id"] != entry_id:
        raise CheckFailed(f"/ask after the restart: first answer is {found}, not {entry_id}")
    print(f"  after the restart: {entry_id} still there and found by /ask")


def main() -> int:
    base, key, question, phase, id_file = sys.argv[1:6]
    try:
        if phase == "first":
            first(base.rstrip("/"), key, question, Path(id_file))
        else:
            again(base.rstrip("/"), Path(id_file))
    except (CheckFailed, OSError, KeyError) as error:
        print(f"check_images: {base}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
