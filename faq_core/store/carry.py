"""Carrying entries added at runtime (through the API) from one collection version to the next.

A re-index builds the new version from the data file; runtime entries exist only in the live
version, so whoever switches versions copies over the ones the new version lacks: the indexer
before it switches, and the service after it has followed a switch (for entries added in
between).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from faq_core.entries import FaqEntry
from faq_core.store.base import AnswerStore, EncodedEntry

log = logging.getLogger(__name__)

Encode = Callable[[Sequence[FaqEntry]], list[EncodedEntry]]
PAGE = 256


def carry_runtime_entries(
    source: AnswerStore,
    target: AnswerStore,
    encode: Encode | None,
    *,
    skip: frozenset[str] = frozenset(),
) -> int:
    """Copy into `target` the runtime entries of `source` that it lacks (ids in `skip` aside).

    With `encode` None both versions come from the same servable and the vectors are copied;
    else the entries are encoded again. Returns how many entries were carried.
    """
    runtime = [e for e in source.entries() if e.added_at_runtime and e.entry_id not in skip]
    carried = 0
    for start in range(0, len(runtime), PAGE):
        page = runtime[start : start + PAGE]
        present = target.get_many([e.entry_id for e in page])
        missing = [e for e in page if e.entry_id not in present]
        if not missing:
            continue
        if encode is None:
            encoded = list(source.get_encoded([e.entry_id for e in missing]).values())
        else:
            encoded = encode(missing)
        target.upsert(encoded)
        carried += len(encoded)
    if carried:
        log.info("carried %d runtime entries from %s to %s", carried, source.name, target.name)
    return carried
