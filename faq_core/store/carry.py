"""Carrying what was added at runtime (through the API) from one collection version to the next.

A re-index builds the new version from the data file; entries added at runtime, and phrasings
added to any entry, exist only in the live version. So whoever switches versions copies over
what the new version lacks: the indexer before it switches, and the service after it has
followed a switch (for what was added in between).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from faq_core.entries import FaqEntry, question_key
from faq_core.store.base import AnswerStore, EncodedEntry

log = logging.getLogger(__name__)

PAGE = 256


class Encoder(NamedTuple):
    """How to encode for the target version when another servable built it."""

    entries: Callable[[Sequence[FaqEntry]], list[EncodedEntry]]
    texts: Callable[[list[str]], np.ndarray]


class Carried(NamedTuple):
    entries: int
    phrasings: int


def carry_runtime_entries(
    source: AnswerStore,
    target: AnswerStore,
    encode: Encoder | None,
    *,
    skip: frozenset[str] = frozenset(),
) -> Carried:
    """Copy into `target` what `source` has from runtime and `target` lacks: the runtime
    entries (ids in `skip` aside), each with its phrasings, and the phrasings added to any entry
    `target` holds. Phrasings added to an entry `target` does not hold are left behind.

    With `encode` None both versions come from the same servable and the vectors are copied;
    else the texts are encoded again.
    """
    runtime = [e for e in source.entries() if e.added_at_runtime and e.entry_id not in skip]
    entries = 0
    for start in range(0, len(runtime), PAGE):
        page = runtime[start : start + PAGE]
        present = target.get_many([e.entry_id for e in page])
        missing = [e for e in page if e.entry_id not in present]
        if not missing:
            continue
        if encode is None:
            encoded = list(source.get_encoded([e.entry_id for e in missing]).values())
        else:
            encoded = encode.entries(missing)
        target.upsert(encoded)
        entries += len(encoded)
    phrasings = _carry_added_phrasings(source, target, encode)
    if entries or phrasings:
        log.info(
            "carried %d runtime entries and %d added phrasings from %s to %s",
            entries,
            phrasings,
            source.name,
            target.name,
        )
    return Carried(entries, phrasings)


def _carry_added_phrasings(source: AnswerStore, target: AnswerStore, encode: Encoder | None) -> int:
    added = list(source.added_phrasings().items())
    carried = left = 0
    for start in range(0, len(added), PAGE):
        page = dict(added[start : start + PAGE])
        held = target.get_many(list(page))
        left += sum(len(p) for eid, p in page.items() if eid not in held)
        wanted = {
            eid: [p for p in page[eid] if question_key(p.text) not in _keys(entry)]
            for eid, entry in held.items()
        }
        wanted = {eid: phrasings for eid, phrasings in wanted.items() if phrasings}
        if not wanted:
            continue
        if encode is None:
            stored = source.get_encoded(list(wanted))
            vectors = {
                (eid, p.text): v
                for eid, item in stored.items()
                for p, v in zip(item.entry.phrasings, item.phrasing_vectors, strict=True)
            }
        else:
            texts = [(eid, p.text) for eid, phrasings in wanted.items() for p in phrasings]
            vectors = dict(zip(texts, encode.texts([t for _, t in texts]), strict=True))
        for eid, phrasings in wanted.items():
            carried += target.add_phrasings(
                held[eid], [(p, vectors[(eid, p.text)]) for p in phrasings]
            )
    if left:
        log.warning("%d added phrasings were left behind: their entries are gone", left)
    return carried


def _keys(entry: FaqEntry) -> set[str]:
    return {question_key(q) for q in entry.questions}
