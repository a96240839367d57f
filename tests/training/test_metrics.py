"""Retrieval metrics on hand-made vectors whose ranks are known by construction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from training.metrics import ask_retrieval, first_answers, pool_retrieval


def test_identical_pairs_are_perfect_in_both_protocols() -> None:
    # Pair i is the i-th basis vector on both sides: each text's partner is the only text it
    # matches (cosine 1); every other text is orthogonal (cosine 0).
    vectors = np.eye(5, dtype=np.float32)
    for result in (pool_retrieval(vectors, vectors), ask_retrieval(vectors, vectors)):
        assert result.precision_at_1 == 1.0
        assert result.mrr == 1.0


def test_partner_second_everywhere_in_ask() -> None:
    # q0 = (1, 0) is closer to a1 = (.8, .6) than to its own a0 = (.6, .8); q1 = (0, 1) the reverse.
    questions = np.array([[1.0, 0.0], [0.0, 1.0]])
    answers = np.array([[0.6, 0.8], [0.8, 0.6]])
    result = ask_retrieval(questions, answers)
    assert result.precision_at_1 == 0.0
    assert result.mrr == pytest.approx(0.5)


def test_pool_ranks_among_questions_and_answers() -> None:
    # Same vectors in the pool protocol (every text among the three others):
    #   q0: q1 0, a0 .6, a1 .8   -> partner a0 ranks 2
    #   q1: q0 0, a0 .8, a1 .6   -> partner a1 ranks 2
    #   a0: q0 .6, q1 .8, a1 .96 -> partner q0 ranks 3
    #   a1: q0 .8, q1 .6, a0 .96 -> partner q1 ranks 3
    questions = np.array([[1.0, 0.0], [0.0, 1.0]])
    answers = np.array([[0.6, 0.8], [0.8, 0.6]])
    result = pool_retrieval(questions, answers)
    assert result.precision_at_1 == 0.0
    assert result.mrr == pytest.approx((1 / 2 + 1 / 2 + 1 / 3 + 1 / 3) / 4)


def test_mixed_ranks_average() -> None:
    # q0 = (1, 0): a1 = (1, 0) scores 1, its own a0 = (.6, .8) scores .6 -> rank 2.
    # q1 = (1, 0): its own a1 scores 1 -> rank 1.
    questions = np.array([[1.0, 0.0], [1.0, 0.0]])
    answers = np.array([[0.6, 0.8], [1.0, 0.0]])
    result = ask_retrieval(questions, answers)
    assert result.precision_at_1 == pytest.approx(0.5)
    assert result.mrr == pytest.approx(0.75)


def test_a_text_never_retrieves_itself_in_the_pool() -> None:
    # Were a text among its own candidates it would rank itself first (cosine 1) every time.
    #   q0: q1 0, a0 .8, a1 .6   -> partner a0 ranks 1
    #   q1: q0 0, a0 .6, a1 .8   -> partner a1 ranks 1
    #   a0: q0 .8, q1 .6, a1 .96 -> partner q0 ranks 2
    #   a1: q0 .6, q1 .8, a0 .96 -> partner q1 ranks 2
    questions = np.array([[1.0, 0.0], [0.0, 1.0]])
    answers = np.array([[0.8, 0.6], [0.6, 0.8]])
    result = pool_retrieval(questions, answers)
    assert result.precision_at_1 == pytest.approx(0.5)
    assert result.mrr == pytest.approx(0.75)


def test_ties_count_in_the_items_favour() -> None:
    questions = np.array([[1.0, 0.0]])
    answers = np.array([[1.0, 0.0]])
    tied = ask_retrieval(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 0.0]]))
    assert tied.precision_at_1 == 1.0
    assert ask_retrieval(questions, answers).mrr == 1.0


def test_metrics_ignore_vector_length_and_accept_tensors() -> None:
    rng = np.random.default_rng(3)
    questions = rng.normal(size=(30, 8)).astype(np.float32)
    answers = questions + 0.8 * rng.normal(size=(30, 8)).astype(np.float32)
    scaled = pool_retrieval(questions * 7.5, torch.as_tensor(answers * 0.01))
    plain = pool_retrieval(questions, answers)
    assert scaled == plain
    assert 0.0 < plain.precision_at_1 <= plain.mrr <= 1.0


def test_as_dict_rounds_to_four_places() -> None:
    questions = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    answers = np.array([[0.6, 0.8], [0.8, 0.6], [1.0, 0.0]])
    result = ask_retrieval(questions, answers)
    assert result.as_dict() == {
        "precision_at_1": round(result.precision_at_1, 4),
        "mrr": round(result.mrr, 4),
    }
    assert result.as_dict()["precision_at_1"] == 0.3333


def test_first_answers_scores_and_correctness() -> None:
    questions = np.array([[1.0, 0.0], [0.0, 1.0]])
    answers = np.array([[0.6, 0.8], [0.0, 2.0]])  # q0's best is a0 (.6 > 0); q1's best is a1 (1)
    scores, correct = first_answers(questions, answers)
    assert scores == pytest.approx([0.6, 1.0])
    assert correct.tolist() == [True, True]
    scores, correct = first_answers(questions, answers[::-1].copy())
    assert scores == pytest.approx([0.6, 1.0])
    assert correct.tolist() == [False, False]
