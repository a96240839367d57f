"""Sequence packing: texts side by side in rows give the embeddings of a padded batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from faq_core.errors import ServableError
from faq_core.packing import bucketed, pack_rows, place
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


def test_bucketed_shapes_hold_the_batch_and_are_few() -> None:
    shapes = set()
    for rows in range(1, 41):
        for width in range(1, 513):
            shape = bucketed(rows, width)
            assert shape[0] >= rows and shape[1] >= width
            # Never more than a step of padding: 7 rows, 15 or 63 tokens.
            assert shape[0] - rows < 8 and shape[1] - width < (16 if width <= 64 else 64)
            shapes.add(shape)
    # Each dimension takes few values, so a kernel's state kept per shape is kept a bounded
    # number of times, where exact shapes number 40 x 512.
    assert {rows for rows, _ in shapes} == {*range(1, 17), 24, 32, 40}
    assert {width for _, width in shapes} == {16, 32, 48, 64, *range(128, 513, 64)}


def test_bucketed_rows_pad_with_segments_no_text_attends_to_and_pool_nothing() -> None:
    input_ids = torch.tensor([[101, 7, 8, 102, 0], [101, 9, 102, 0, 0]] * 3)
    mask = (input_ids != 0).long()
    exact = pack_rows(input_ids, mask, row_tokens=8)
    padded = pack_rows(input_ids, mask, row_tokens=8, buckets=True)
    rows, width = exact["input_ids"].shape
    assert padded["input_ids"].shape == bucketed(rows, width) != (rows, width)
    for key in ("input_ids", "position_ids", "segments"):
        assert padded[key][:rows, :width].tolist() == exact[key].tolist()
    outside = torch.ones_like(padded["segments"], dtype=torch.bool)
    outside[:rows, :width] = False
    assert bool((padded["segments"][outside] == -1).all())
    pooling = padded["pooling"].reshape(6, *padded["segments"].shape)
    assert float(pooling[:, outside].abs().sum()) == 0.0
    assert torch.equal(pooling[:, :rows, :width].reshape(6, -1), exact["pooling"])


@pytest.mark.slow  # each variant encodes every batch shape twice
@pytest.mark.parametrize(
    ("trace", "buckets"),
    [(False, False), (True, False), (True, True)],
    ids=["eager", "traced", "traced-bucketed"],
)
def test_packed_encoding_gives_the_padded_embeddings(
    trained_servable_dir: Path, servable: Servable, trace: bool, buckets: bool
) -> None:
    """On texts of mixed lengths, one longer than a row and one past the model's maximum."""
    too_long = " ".join(QUESTIONS * 20)
    texts = [*QUESTIONS, too_long, *QUESTIONS[::-1]]
    packed = load_servable(trained_servable_dir, "cpu")
    encoder = next(iter(packed.model.encoders.values()))
    assert encoder.pack(buckets=buckets)
    if trace:
        encoder.trace()
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


@pytest.mark.slow  # traces and encodes every batch shape in bfloat16 and in float32
def test_bf16_encodes_nearly_as_fp32_does(trained_servable_dir: Path, servable: Servable) -> None:
    """Traced and bucketed, on batches of several shapes: the same vectors to bfloat16's
    precision, so the same best answers."""
    bf16 = load_servable(trained_servable_dir, "cpu", "bf16", pack=True, trace=True)
    texts = [*QUESTIONS, " ".join(QUESTIONS * 20), *QUESTIONS[::-1]]
    for batch_size in (1, 5, 64):
        vectors = bf16.encode(texts, batch_size=batch_size)
        assert vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert np.sum(vectors * servable.encode(texts), axis=1).min() > 0.99
    fp32 = servable.encode(QUESTIONS)
    assert np.argmax(bf16.encode(QUESTIONS) @ fp32.T, axis=1).tolist() == list(
        range(len(QUESTIONS))
    )


def test_bf16_without_packing_is_refused(trained_servable_dir: Path) -> None:
    with pytest.raises(ServableError, match="FAQ_PACK"):
        load_servable(trained_servable_dir, "cpu", "bf16")
