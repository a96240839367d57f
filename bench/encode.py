"""The model's own speed, as the service's servable runs it: one question at a time, and batched.

Prints JSON: single-question latency (p50, ms) and batched throughput (texts/s) on questions and on
answers. Everything else in the benchmark is compared with these figures from the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from faq_core.servable import serving_model
from faq_core.settings import Settings
from faq_core.sources import read_entries


def measure(
    model_path: Path, data: Path, quantize: str, batch_size: int, repeats: int
) -> dict[str, Any]:
    settings = Settings(model_path=model_path, device="cpu", quantize=quantize)
    servable = serving_model(settings)
    entries = read_entries(data)
    questions = [e.question or "" for e in entries][:2048]
    answers = servable.answer_encoding.texts(entries[:1024])  # as indexed
    servable.encode(questions[:256], batch_size=batch_size)  # warm up

    def throughput(texts: list[str]) -> float:
        best = 0.0
        for _ in range(repeats):
            started = time.perf_counter()
            servable.encode(texts, batch_size=batch_size)
            best = max(best, len(texts) / (time.perf_counter() - started))
        return best

    latencies = []
    for question in questions[:300]:
        started = time.perf_counter()
        servable.encode([question])
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "quantize": quantize,
        "batch_size": batch_size,
        "single_question_p50_ms": round(statistics.median(latencies), 2),
        "batched_questions_per_s": round(throughput(questions), 1),
        "batched_answers_per_s": round(throughput(answers), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--quantize", default="none")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(measure(args.model, args.data, args.quantize, args.batch_size, args.repeats)))


if __name__ == "__main__":
    main()
