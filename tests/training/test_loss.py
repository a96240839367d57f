"""The symmetric multiple-negatives ranking loss."""

from __future__ import annotations

import pytest
import torch

from training.loss import symmetric_mnr_loss


@pytest.fixture
def pairs() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    questions = torch.randn(16, 32, generator=generator)
    answers = questions + 0.3 * torch.randn(16, 32, generator=generator)
    return questions, answers


@pytest.mark.parametrize("same_side", [True, False])
def test_aligned_pairs_cost_less_than_shuffled_pairs(pairs, same_side: bool) -> None:
    questions, answers = pairs
    shuffled = answers[torch.roll(torch.arange(len(answers)), 1)]
    aligned = symmetric_mnr_loss(questions, answers, same_side_negatives=same_side)
    wrong = symmetric_mnr_loss(questions, shuffled, same_side_negatives=same_side)
    assert aligned.item() < wrong.item()
    assert aligned.ndim == 0


def test_same_side_negatives_add_competitors(pairs) -> None:
    """Extra negatives only add terms to each softmax denominator, so the loss can only grow."""
    questions, answers = pairs
    with_same_side = symmetric_mnr_loss(questions, answers, same_side_negatives=True)
    without = symmetric_mnr_loss(questions, answers, same_side_negatives=False)
    assert with_same_side.item() > without.item()


def test_loss_is_symmetric_in_questions_and_answers(pairs) -> None:
    questions, answers = pairs
    for same_side in (True, False):
        forward = symmetric_mnr_loss(questions, answers, same_side_negatives=same_side)
        backward = symmetric_mnr_loss(answers, questions, same_side_negatives=same_side)
        assert forward.item() == pytest.approx(backward.item(), rel=1e-6)


def test_loss_uses_cosine_so_vector_length_does_not_matter(pairs) -> None:
    questions, answers = pairs
    assert symmetric_mnr_loss(questions * 5, answers * 0.2).item() == pytest.approx(
        symmetric_mnr_loss(questions, answers).item(), rel=1e-5
    )


def test_identical_orthogonal_pairs_approach_zero_loss() -> None:
    # Pairs are equal basis vectors: each partner scores `scale`, everything else 0.
    eye = torch.eye(4)
    loss = symmetric_mnr_loss(eye, eye, scale=20.0, same_side_negatives=True)
    # Each row: softmax over [20, 0 x 3 (other answers), 0 x 3 (other questions)].
    expected = torch.log(1 + 6 * torch.exp(torch.tensor(-20.0)))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4)


def test_gradient_pulls_partners_together(pairs) -> None:
    questions, answers = pairs
    questions = questions.clone().requires_grad_(True)
    loss = symmetric_mnr_loss(questions, answers)
    loss.backward()
    assert questions.grad is not None
    with torch.no_grad():
        stepped = questions - 0.5 * questions.grad
    assert symmetric_mnr_loss(stepped, answers).item() < loss.item()
