"""Sequence packing: texts side by side in rows give the embeddings of a padded batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from faq_core.packing import pack_rows, place
from faq_core.servable import Servable, load_servable

QUESTIONS = [
    "how do i reset my password?",
    "sla",
    "can i move a running instance to another region without downtime, and what does it cost?",
    "what is the maximum object size in the object storage service",
    "billing",
    "where are my backups kept and for how long are they retained after i delete an instance",
]


@pytest.mark.parametrize(
    ("lengths", "row_tokens"),
    [([5, 3, 9, 2, 7, 7, 1], 10), ([40, 3, 3], 16), ([4], 64), ([8] * 9, 16)],
)
def test_every_text_is_placed_once_in_a_row_that_has_room(
    lengths: list[int], row_tokens: int
) -> None:
    rows = place(lengths, row_tokens)
    assert sorted(i for row in rows for i in row) == list(range(len(lengths)))
    capacity = max(row_tokens, *lengths)
    assert all(sum(lengths[i] for i in row) <= capacity for row in rows)
    # First fit: no text could have gone into an earlier row than its own.
    for r, row in enumerate(rows):
        for i in row:
            for earlier in rows[:r]:
                assert sum(lengths[j] for j in earlier) + lengths[i] > capacity or i in earlier


def test_packed_rows_hold_each_texts_tokens_positions_and_pooling_weights() -> None:
    input_ids = torch.tensor(
        [[101, 7, 8, 102, 0, 0], [101, 9, 102, 0, 0, 0], [101, 1, 2, 3, 4, 102]]
    )
    mask = (input_ids != 0).long()
    packed = pack_rows(input_ids, mask, row_tokens=8)
    ids, positions, segments, pooling = (
        packed[k] for k in ("input_ids", "position_ids", "segments", "pooling")
    )
    assert ids.shape[1] <= 8 and ids.shape[0] == 2  # lengths 4, 3, 6: [6], [4, 3]
    for i, length in enumerate(mask.sum(dim=1).tolist()):
        mine = segments == i
        assert ids[mine].tolist() == input_ids[i, :length].tolist()
        assert positions[mine].tolist() == list(range(length))
        weights = pooling[i].reshape(segments.shape)
        assert torch.allclose(weights[mine], torch.full((length,), 1.0 / length))
        assert float(weights[~mine].abs().sum()) == 0.0
    assert bool((ids[segments == -1] == 0).all())


@pytest.mark.parametrize("trace", [False, True], ids=["eager", "traced"])
def test_packed_encoding_gives_the_padded_embeddings(
    trained_servable_dir: Path, servable: Servable, trace: bool
) -> None:
    """On texts of mixed lengths, one longer than a row and one past the model's maximum."""
    too_long = " ".join(QUESTIONS * 20)
    texts = [*QUESTIONS, too_long, *QUESTIONS[::-1]]
    packed = load_servable(trained_servable_dir, "cpu", pack=True, trace=trace)
    encoder = next(iter(packed.model.encoders.values()))
    assert encoder.get_collate_fn() == encoder.tokenize_packed
    for batch_size in (1, 4, 64):
        assert np.allclose(
            packed.encode(texts, batch_size=batch_size), servable.encode(texts), atol=1e-5
        )


def test_int8_packed_stays_as_close_to_fp32_as_int8_padded(
    trained_servable_dir: Path, servable: Servable
) -> None:
    """int8 scales activations per tensor, so packing changes its rounding a little, not more."""
    fp32 = servable.encode(QUESTIONS)
    similarity = {
        pack: np.sum(
            load_servable(trained_servable_dir, "cpu", "int8", pack=pack).encode(QUESTIONS) * fp32,
            axis=1,
        )
        for pack in (False, True)
    }
    assert similarity[True].min() > 0.95
    assert similarity[True].mean() > similarity[False].mean() - 0.01
