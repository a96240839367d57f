"""The symmetric multiple-negatives ranking loss."""

from __future__ import annotations

import pytest
import torch

from training.data import Pairs
from training.loss import symmetric_mnr_loss


@pytest.fixture
def pairs() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    questions = torch.randn(16, 32, generator=generator)
    answers = questions + 0.3 * torch.randn(16, 32, generator=generator)
    return questions, answers


def test_aligned_pairs_cost_less_than_shuffled_pairs(pairs) -> None:
    questions, answers = pairs
    shuffled = answers[torch.roll(torch.arange(len(answers)), 1)]
    aligned = symmetric_mnr_loss(questions, answers)
    wrong = symmetric_mnr_loss(questions, shuffled)
    assert aligned.item() < wrong.item()
    assert aligned.ndim == 0


def test_same_side_texts_are_negatives_too(pairs) -> None:
    """Each question's softmax runs over the batch's answers and the other questions (and each
    answer's over the questions and the other answers): the loss is that cross-entropy."""
    questions, answers = (x.double() for x in pairs)
    q = torch.nn.functional.normalize(questions, dim=-1)
    a = torch.nn.functional.normalize(answers, dim=-1)
    n, scale = len(q), 5.0
    others = ~torch.eye(n, dtype=torch.bool)
    expected = 0.0
    for i in range(n):
        for own, side in ((q, a), (a, q)):
            logits = torch.cat([own[i] @ side.T, (own[i] @ own.T)[others[i]]]) * scale
            expected += float(torch.logsumexp(logits, 0) - logits[i]) / (2 * n)
    assert symmetric_mnr_loss(questions, answers, scale=scale).item() == pytest.approx(
        expected, rel=1e-9
    )


def test_loss_is_symmetric_in_questions_and_answers(pairs) -> None:
    questions, answers = pairs
    forward = symmetric_mnr_loss(questions, answers)
    backward = symmetric_mnr_loss(answers, questions)
    assert forward.item() == pytest.approx(backward.item(), rel=1e-6)


def test_loss_uses_cosine_so_vector_length_does_not_matter(pairs) -> None:
    questions, answers = pairs
    assert symmetric_mnr_loss(questions * 5, answers * 0.2).item() == pytest.approx(
        symmetric_mnr_loss(questions, answers).item(), rel=1e-5
    )


def test_identical_orthogonal_pairs_approach_zero_loss() -> None:
    # Pairs are equal basis vectors: each partner scores `scale`, everything else 0.
    eye = torch.eye(4)
    loss = symmetric_mnr_loss(eye, eye, scale=20.0)
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


def test_one_answer_asked_otherwise_is_no_negative_but_a_repeated_pair_is() -> None:
    """Two questions of one answer (an entry's phrasings) cost nothing together when grouped:
    neither is a negative of the other. Two copies of one pair stay each other's hardest negative,
    so the loss of a repeated pair cannot saturate; distinct answers are unaffected."""
    torch.manual_seed(0)
    q, a = torch.randn(2, 8), torch.randn(1, 8)
    two_q, twice_a = q, a.repeat(2, 1)
    phrasings = torch.tensor([[3, 0], [3, 1]])
    assert symmetric_mnr_loss(two_q, twice_a) > 0.5
    assert symmetric_mnr_loss(two_q, twice_a, groups=phrasings) == pytest.approx(0)
    twice_q = q[:1].repeat(2, 1)
    copies = torch.tensor([[3, 5], [3, 5]])
    repeated = symmetric_mnr_loss(twice_q, twice_a, groups=copies)
    assert repeated == pytest.approx(float(symmetric_mnr_loss(twice_q, twice_a)))
    assert repeated > 0.5
    questions, answers = torch.randn(6, 8), torch.randn(6, 8)
    each_own = torch.stack([torch.arange(6), torch.arange(6)], dim=1)
    distinct = symmetric_mnr_loss(questions, answers, groups=each_own)
    assert distinct == pytest.approx(float(symmetric_mnr_loss(questions, answers)))
    shared = torch.tensor([[0, 0], [0, 1], [1, 2], [2, 3], [3, 4], [3, 5]])
    grouped = symmetric_mnr_loss(questions, answers, groups=shared)
    assert grouped < distinct  # fewer negatives to beat


def test_loss_groups_name_the_answer_and_the_pair() -> None:
    pairs = Pairs(
        questions=["how?", "how so?", "how?", "why?"],
        answers=["A", "A", "A", "B"],
        sources=["", "", "", ""],
    )
    groups = pairs.loss_groups()
    assert groups.shape == (4, 2)
    answer, pair = groups[:, 0], groups[:, 1]
    assert answer[0] == answer[1] == answer[2] != answer[3]
    assert pair[0] == pair[2] and len({pair[0], pair[1], pair[3]}) == 3
