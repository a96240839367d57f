"""faq-eval: retrieval quality of one or more servables on a data file, in both protocols."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faq_core.entries import FaqEntry
from faq_core.servable import Servable, encoder_only, load_servable
from faq_core.settings import FASTER_PATHS
from faq_core.sources import Location
from training.abstention import open_set_check
from training.data import load_pair_entries
from training.metrics import ask_retrieval, pool_retrieval

UNTUNED = "untuned"


def evaluate_entries(
    servable: Servable, entries: list[FaqEntry], batch_size: int = 64
) -> dict[str, Any]:
    """Both protocols over the entries' pairs, each answer encoded as this servable encodes it
    (`Servable.answer_encoding`); with its confidence model, whether it knows when the answer
    is missing (the open-set protocol of `training.abstention`)."""
    questions = servable.encode([e.question or "" for e in entries], batch_size=batch_size)
    answers = servable.encode_answers(entries, batch_size=batch_size)
    result: dict[str, Any] = {
        "model_id": servable.model_id,
        "pairs": len(entries),
        "pool": pool_retrieval(questions, answers).as_dict(),
        "ask": ask_retrieval(questions, answers).as_dict(),
    }
    model = servable.confidence_model
    if model is not None:  # the untuned base encoder has none
        result["confidence"] = open_set_check(model, questions, answers, servable.score_threshold)
    return result


def load_model(name: str, device: str, base_model: str | None = None) -> Servable:
    """A servable directory, encoded as the service encodes it (packed rows); `DIR:int8` or
    `DIR:bf16`: the same as the service runs it with FAQ_QUANTIZE=int8 or bf16; or `untuned`: the
    base encoder alone (no head), for comparison."""
    if name == UNTUNED:
        return encoder_only(base_model, device)
    for mode in FASTER_PATHS:
        if name.endswith(f":{mode}"):
            return load_servable(Path(name.removesuffix(f":{mode}")), device, mode, pack=True)
    return load_servable(Path(name), device, pack=True)


def differences(first: dict[str, Any], other: dict[str, Any]) -> dict[str, dict[str, float]]:
    """`other` minus `first`, metric by metric: positive means `other` is better."""
    return {
        protocol: {k: round(other[protocol][k] - first[protocol][k], 4) for k in first[protocol]}
        for protocol in ("pool", "ask")
    }


def evaluate_models(
    models: list[str],
    data: Location,
    device: str,
    batch_size: int = 64,
    base_model: str | None = None,
) -> dict[str, Any]:
    """Each model on the same pairs; with two or more, how each differs from the first."""
    entries = load_pair_entries(data)
    results = {
        name: evaluate_entries(load_model(name, device, base_model), entries, batch_size)
        for name in models
    }
    report: dict[str, Any] = {"data": str(data), "models": results}
    if len(models) > 1:
        first = results[models[0]]
        report["compared_with"] = models[0]
        report["differences"] = {name: differences(first, results[name]) for name in models[1:]}
    return report
