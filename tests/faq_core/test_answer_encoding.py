"""Answer encodings with the real model: the answer alone, in context, or the two mixed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from faq_core.answer_encoding import AnswerEncoding
from faq_core.entries import FaqEntry
from faq_core.servable import Servable
from tests.conftest import ANSWER_CONTEXT, expected_answer_vector

ENTRIES = [
    FaqEntry("attach the volume before you start the instance.", source="aws", extra={}),
    FaqEntry(
        "enter the meeting id into the device console.",
        source="aws",
        extra={"filename": "chime-faq"},
    ),
    FaqEntry("it is billed per second, with a minimum of one minute."),  # nothing to add
]


def with_encoding(servable: Servable, encoding: AnswerEncoding) -> Servable:
    return dataclasses.replace(servable, manifest={**servable.manifest, **encoding.record()})


@pytest.mark.parametrize("weight", [0.0, -0.1, 1.01])
def test_a_weight_outside_0_to_1_is_refused(weight: float) -> None:
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        AnswerEncoding(ANSWER_CONTEXT, weight)


def test_a_manifest_without_an_encoding_means_the_answer_alone() -> None:
    assert AnswerEncoding.from_manifest({}) == AnswerEncoding() == AnswerEncoding((), 0.3)
    record = AnswerEncoding(ANSWER_CONTEXT, 0.3).record()
    assert AnswerEncoding.from_manifest(record) == AnswerEncoding(ANSWER_CONTEXT, 0.3)


def test_texts_are_one_per_answer_unless_mixing() -> None:
    assert AnswerEncoding().texts(ENTRIES) == [e.answer for e in ENTRIES]
    in_context = AnswerEncoding(ANSWER_CONTEXT).texts(ENTRIES)
    assert in_context[1] == "aws chime faq: " + ENTRIES[1].answer
    mixed = AnswerEncoding(ANSWER_CONTEXT, 0.3).texts(ENTRIES)
    assert mixed == [e.answer for e in ENTRIES] + in_context
    assert AnswerEncoding(ANSWER_CONTEXT, 0.3).trained_context == ()
    assert AnswerEncoding(ANSWER_CONTEXT).trained_context == ANSWER_CONTEXT


@pytest.mark.parametrize("weight", [1.0, 0.3, 0.7])
def test_encode_answers_mixes_each_answer_with_itself_in_context(
    servable: Servable, weight: float
) -> None:
    encoded = with_encoding(servable, AnswerEncoding(ANSWER_CONTEXT, weight))
    vectors = encoded.encode_answers(ENTRIES)
    assert vectors.shape == (len(ENTRIES), servable.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    for entry, vector in zip(ENTRIES, vectors, strict=True):
        assert np.allclose(vector, expected_answer_vector(encoded, entry), atol=1e-5)
    plain = servable.encode_answers(ENTRIES)
    assert not np.allclose(vectors[1], plain[1], atol=1e-2)
    assert np.allclose(vectors[2], plain[2], atol=1e-5)  # no field to add: the answer alone


def test_encode_answers_of_nothing_is_an_empty_matrix(servable: Servable) -> None:
    encoded = with_encoding(servable, AnswerEncoding(ANSWER_CONTEXT, 0.3))
    assert encoded.encode_answers([]).shape == (0, servable.dim)
