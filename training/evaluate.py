"""faq-eval: retrieval quality of one or more servables on a data file, in both protocols."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faq_core.servable import Servable, encoder_only, load_servable
from training.data import load_pairs
from training.metrics import ask_retrieval, pool_retrieval


def evaluate_servable(servable: Servable, data: Path, batch_size: int = 64) -> dict[str, Any]:
    pairs = load_pairs(data)
    questions = servable.encode(pairs.questions, batch_size=batch_size)
    answers = servable.encode(pairs.answers, batch_size=batch_size)
    return {
        "model_id": servable.model_id,
        "pairs": len(pairs),
        "pool": pool_retrieval(questions, answers).as_dict(),
        "ask": ask_retrieval(questions, answers).as_dict(),
    }


def evaluate_models(models: list[str], data: Path, device: str, batch_size: int = 64) -> dict[str, Any]:
    """`untuned` names the base encoder alone (no head), for comparison."""
    results = {}
    for name in models:
        servable = encoder_only(None, device) if name == "untuned" else load_servable(Path(name), device)
        results[name] = evaluate_servable(servable, data, batch_size)
    return {"data": str(data), "models": results}
