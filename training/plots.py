"""PNG plots people would rather look at than read: training curves and score distributions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from training.fit import EpochRecord


def plot_training_curves(
    history: list[EpochRecord], best_epoch: int, out: Path, title: str = "head"
) -> None:
    epochs = [r.epoch for r in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(epochs[1:], [r.loss for r in history[1:]], label="train loss")
    left.plot(epochs, [r.val_loss for r in history], label="val loss")
    left.set_xlabel("epoch")
    left.set_title(f"{title}: symmetric MNR loss")
    left.legend()
    for key, style in (("pool", "-"), ("ask", "--")):
        right.plot(
            epochs, [getattr(r, key)["precision_at_1"] for r in history], style, label=f"{key} P@1"
        )
        right.plot(epochs, [getattr(r, key)["mrr"] for r in history], style, label=f"{key} MRR")
    right.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch {best_epoch}")
    right.set_xlabel("epoch")
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_title(f"{title}: validation retrieval")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_score_distribution(
    scores: np.ndarray,
    correct: np.ndarray,
    threshold: float | None,
    out: Path,
    coverage: float | None = None,
    precision: float = 0.9,
) -> None:
    """Histograms of the first answer's score, right and wrong, with the confidence threshold
    (`coverage`: the share of questions scoring at least the threshold, for its label)."""
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = np.linspace(float(scores.min()), float(scores.max()), 50).tolist()
    ax.hist(scores[correct], bins=bins, alpha=0.6, label=f"correct first answer ({correct.sum()})")
    ax.hist(
        scores[~correct], bins=bins, alpha=0.6, label=f"wrong first answer ({(~correct).sum()})"
    )
    if threshold is not None:
        label = f"threshold {threshold:.3f}: {precision:.0%} right above it"
        if coverage is not None:
            label += f", {coverage:.0%} of questions answered"
        ax.axvline(threshold, color="black", linestyle="--", label=label)
    ax.set_xlabel("cosine score of the first answer")
    ax.set_ylabel("questions")
    ax.set_title("first-answer scores, validation questions (ask protocol)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_reliability(
    bins: list[dict[str, float]], ece: float, min_confidence: float, out: Path
) -> None:
    """The reliability diagram: how often the first entry was right, against the confidence
    given to it, per confidence bin (a calibrated model lies on the diagonal), with how many
    questions fell in each bin."""
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    confidence = [b["confidence"] for b in bins]
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    top.plot(
        confidence, [b["right"] for b in bins], "o-", label=f"confidence model (ECE {ece:.3f})"
    )
    top.axvline(
        min_confidence, color="black", linestyle="--", label=f"answers from {min_confidence:.2f}"
    )
    top.set_ylabel("first entry right")
    top.set_title("reliability, validation questions (open set, cross-validated)")
    top.legend(fontsize=8, loc="upper left")
    bottom.bar(confidence, [b["count"] for b in bins], width=0.06)
    bottom.set_xlabel("confidence in the first entry")
    bottom.set_ylabel("questions")
    bottom.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def _grouped_bars(
    ax: Any, groups: list[str], series: list[tuple[str, list[float | None]]], title: str
) -> None:
    """One panel of bars: a group per x label, a bar per series in each, its value above it (a
    missing value drawn as 0)."""
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    for i, (label, values) in enumerate(series):
        offset = (i - (len(series) - 1) / 2) * width  # the group centred on its label
        bars = ax.bar(x + offset, [v or 0.0 for v in values], width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(x, groups, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.005, 1.0))


def plot_phrasings_protocol(reports: dict[str, dict[str, Any]], out: Path) -> None:
    """The phrasings protocol (training.phrasings_eval), one panel per FAQ: for each step, how
    often the first entry is right, the questions answered and right, and the precision when
    answering."""
    steps = [
        ("before", "before"),
        ("attach_missed", "missed\nattached"),
        ("attach_missed_recalibrated", "missed attached,\nrecalibrated"),
        ("attach_all", "all\nattached"),
        ("attach_all_recalibrated", "all attached,\nrecalibrated"),
        ("missed_as_entries", "missed as\nentries"),
    ]
    measures = [
        ("right_first", "right first"),
        ("answered_and_right", "answered and right"),
        ("precision_when_answering", "precision when answering"),
    ]
    fig, axes = plt.subplots(len(reports), 1, figsize=(12.5, 3.6 * len(reports)), squeeze=False)
    for ax, (name, report) in zip(axes[:, 0], reports.items(), strict=True):
        present = [(key, label) for key, label in steps if key in report]
        series = [
            (label, [report[key].get(measure) for key, _ in present]) for measure, label in measures
        ]
        title = f"{name}: asking the later half of its users' questions"
        _grouped_bars(ax, [label for _, label in present], series, title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def plot_servables_compared(reports: dict[str, dict[str, dict[str, Any]]], out: Path) -> None:
    """Servables side by side on the phrasings protocol's later questions, before any review
    (`before` of training.phrasings_eval's report), one panel per FAQ: answered and right,
    precision when answering, and the share of questions no entry answers that were answered
    (left out for an FAQ with none)."""
    measures = [
        ("answered_and_right", "answered and right"),
        ("precision_when_answering", "precision when answering"),
        ("unanswerable_answered", "unanswerable answered"),
    ]
    fig, axes = plt.subplots(len(reports), 1, figsize=(11, 3.4 * len(reports)), squeeze=False)
    for ax, (faq, servables) in zip(axes[:, 0], reports.items(), strict=True):
        series = [
            (label, [report["before"].get(measure) for report in servables.values()])
            for measure, label in measures
        ]
        series = [(label, values) for label, values in series if any(v is not None for v in values)]
        title = f"{faq}: its users' later questions, before any review"
        _grouped_bars(ax, list(servables), series, title)
        ax.axhline(0.9, color="grey", linewidth=0.6, linestyle="--")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
