"""Sequence packing: many short texts side by side in a few rows instead of one padded row each.

A padded batch costs as if every text were as long as its longest; a packed one costs what its
tokens cost, plus attention over rows a little longer than one text. With a mask that keeps each
text's tokens to themselves, positions counted from each text's start and pooling per text, the
embeddings are those of the padded batch (tests/faq_core/test_packing.py).
"""

from __future__ import annotations

import torch

PACKED_KEYS = ("input_ids", "position_ids", "segments", "pooling")
"""What `pack_rows` returns, in the order the packed forward takes it."""


def place(lengths: list[int], row_tokens: int) -> list[list[int]]:
    """Texts (by index) in rows of at most max(`row_tokens`, longest) tokens, longest first,
    each text in the first row it fits in (first-fit decreasing: rows end up nearly full)."""
    capacity = max(row_tokens, *lengths)
    rows: list[list[int]] = []
    free: list[int] = []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        for r, room in enumerate(free):
            if lengths[i] <= room:
                rows[r].append(i)
                free[r] -= lengths[i]
                break
        else:
            rows.append([i])
            free.append(capacity - lengths[i])
    return rows


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


def bucketed(rows: int, width: int) -> tuple[int, int]:
    """The shape a packed batch is padded to so that batches come in a few shapes only: widths
    in steps of 16 tokens up to 64 and of 64 beyond, rows as they are up to 16 and in steps of 8
    beyond.

    Some kernels keep state for every input shape they meet (oneDNN's bfloat16 path does: a
    service's memory grew for as long as new batch shapes came); a few dozen shapes bound it.
    Rows are left nearly as they are because padding them costs the most, and few row counts
    occur: the rows of a batch of several are nearly full."""
    step = 16 if width <= 64 else 64
    return (rows if rows <= 16 else _round_up(rows, 8)), _round_up(width, step)


def pack_rows(
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    row_tokens: int,
    *,
    buckets: bool = False,
) -> dict[str, torch.Tensor]:
    """A padded batch (texts × tokens, right-padded) as packed rows.

    Returns `input_ids`, `position_ids` and `segments` (rows × tokens; segment -1 is padding, else
    the text's index) and `pooling` (texts × all row tokens: the weights that average each text's
    tokens). With `buckets`, the rows are padded to one of a few shapes (`bucketed`): padding
    rows and tokens are segment -1, pooled by no text.
    """
    lengths = attention_mask.sum(dim=1).tolist()
    rows = place(lengths, row_tokens)
    n_rows, width = len(rows), max(sum(lengths[i] for i in row) for row in rows)
    if buckets:
        n_rows, width = bucketed(n_rows, width)
    ids = torch.zeros((n_rows, width), dtype=input_ids.dtype)
    positions = torch.zeros((n_rows, width), dtype=torch.long)
    segments = torch.full((n_rows, width), -1, dtype=torch.long)
    pooling = torch.zeros((len(lengths), n_rows * width))
    for r, row in enumerate(rows):
        start = 0
        for i in row:
            n = lengths[i]
            ids[r, start : start + n] = input_ids[i, :n]
            positions[r, start : start + n] = torch.arange(n)
            segments[r, start : start + n] = i
            pooling[i, r * width + start : r * width + start + n] = 1.0 / n
            start += n
    return dict(zip(PACKED_KEYS, (ids, positions, segments, pooling), strict=True))
