"""bench/RESULTS.md from the figures bench/run.py measured: the targets of the serving issue,
each with its ratio in this run, then the absolute figures."""

from __future__ import annotations

from typing import Any


def _check(ok: bool | None) -> str:
    """None: the run did not exercise the target."""
    return "not exercised" if ok is None else "yes" if ok else "**no**"


def service_key(quantize: str) -> str:
    """Where bench/run.py keeps the service's figures for a model path (FAQ_QUANTIZE value)."""
    return "service" if quantize == "none" else f"service_{quantize}"


def _peak_mb(runs: dict[str, Any]) -> float:
    memory = runs["memory_mb"]
    return float(memory.get("VmHWM", memory.get("VmRSS", 0.0)))


def _each(r: dict[str, Any], figure: str, unit: str = "") -> str:
    """One figure of the raw encode for every model path, fp32 first."""
    return " / ".join(f"{run[figure]}{unit}" for run in r["encode"].values())


def render_markdown(r: dict[str, Any], command: str) -> str:
    enc, svc, naive, index = r["encode"]["none"], r["service"], r["naive"]["c32"], r["index"]
    search = r["search"]
    # The faster model paths measured (int8; bf16 where the CPU has it), each beside fp32.
    faster = [q for q in r["encode"] if q != "none"]
    batched = enc["batched_questions_per_s"]
    c1, c32, c256 = svc["c1"], svc["c32"], svc["c256"]
    statuses = c256["statuses"]
    targets: list[tuple[str, str, str, bool | None]] = [
        (
            "32 clients: throughput / model's batched encode throughput",
            f"{c32['rps'] / batched:.3f}",
            ">= 0.9",
            c32["rps"] >= 0.9 * batched,
        ),
        (
            "32 clients: throughput / straightforward server",
            f"{c32['rps'] / naive['rps']:.1f}",
            ">= 8",
            c32["rps"] >= 8 * naive["rps"],
        ),
        ("32 clients: p99 latency", f"{c32['p99_ms']:.0f} ms", "<= 250 ms", c32["p99_ms"] <= 250),
        (
            "1 client: p50 - single-question encode time",
            f"{c1['p50_ms'] - enc['single_question_p50_ms']:+.1f} ms",
            "<= +3 ms",
            c1["p50_ms"] <= enc["single_question_p50_ms"] + 3,
        ),
        (
            "256 clients: timeouts, 5xx",
            f"{c256['timeouts']}, {c256['5xx']}",
            "0, 0",
            c256["timeouts"] == 0 and c256["5xx"] == 0,
        ),
        (
            "256 clients: overflow answered 429 (count, p50 of all responses)",
            f"{statuses.get('429', 0)}, {c256['p50_ms']:.0f} ms",
            "fast 429",
            # wrk does not time 429s apart from the rest: with none, nothing needed refusing.
            None if not statuses.get("429") else c256["timeouts"] == 0,
        ),
        *[
            (
                f"{q}: batched encode throughput / fp32",
                f"{r['encode'][q]['batched_questions_per_s'] / batched:.3f}",
                ">= 1.5",
                r["encode"][q]["batched_questions_per_s"] >= 1.5 * batched,
            )
            for q in faster
        ],
        *[
            (
                f"service{'' if q == 'none' else f' ({q})'} resident memory, peak (cloud FAQ indexed)",
                f"{_peak_mb(r[service_key(q)]):.0f} MB",
                "<= 800 MB",
                _peak_mb(r[service_key(q)]) <= 800,
            )
            for q in ["none", *faster]
        ],
        (
            "indexer: texts/s / model's batched encode throughput on answers",
            f"{index['texts_per_second'] / enc['batched_answers_per_s']:.3f}",
            ">= 0.9",
            index["texts_per_second"] >= 0.9 * enc["batched_answers_per_s"],
        ),
    ]
    paths = " / ".join("fp32" if q == "none" else q for q in r["encode"])
    lines = [
        "# Serving benchmark",
        "",
        f"Measured {r['started']} by `{command}` (see bench/run.py for each step).",
        "",
        f"Machine: {r['machine']['cpu']}, {r['machine']['cores']} cores; Python {r['machine']['python']}, "
        f"torch {r['machine']['torch']}. Load generator: wrk, a process of its own, on loopback.",
        "",
        "## Targets (ratios within this run)",
        "",
        "| target | measured | wanted | met |",
        "|---|---|---|---|",
        *[f"| {name} | {value} | {wanted} | {_check(ok)} |" for name, value, wanted, ok in targets],
        "",
        "## Absolute figures",
        "",
        "| what | figure |",
        "|---|---|",
        f"| model, one question at a time ({paths}) | p50 {_each(r, 'single_question_p50_ms', ' ms')} |",
        f"| model, batched questions (batch {enc['batch_size']}; {paths}) | "
        f"{_each(r, 'batched_questions_per_s')} questions/s |",
        f"| model, batched answers ({paths}) | {_each(r, 'batched_answers_per_s')} answers/s |",
    ]
    auto = r.get("auto")  # absent from runs before FAQ_QUANTIZE=auto
    if auto is not None:
        lines.append(
            f"| `FAQ_QUANTIZE=auto` (the default) on this machine | runs "
            f"{'fp32' if auto['chosen'] == 'none' else auto['chosen']}: {auto['why']} |"
        )
    for q in ["none", *faster]:
        label, runs = ("service" if q == "none" else f"service, {q}"), r[service_key(q)]
        if auto is not None and auto["chosen"] == q:
            label += " (what auto runs here)"
        for key in ("c1", "c32", "c256"):
            run = runs[key]
            lines.append(
                f"| {label}, {key[1:]} clients | {run['rps']:.1f} req/s; p50 {run['p50_ms']:.1f} ms, p99 "
                f"{run['p99_ms']:.1f} ms; statuses {run['statuses']}; timeouts {run['timeouts']} |"
            )
        lines.append(f"| {label}, memory | {runs['memory_mb']} |")
    lines += [
        f"| straightforward server, 32 clients | {naive['rps']:.1f} req/s; p50 {naive['p50_ms']:.1f} ms, "
        f"p99 {naive['p99_ms']:.1f} ms; statuses {naive['statuses']}; timeouts {naive['timeouts']} |",
        f"| store search, batches of 16 questions (`FAQ_HNSW_EF` {search['hnsw_ef']}, "
        f"`FAQ_STORE_QUANTIZATION` {search['store_quantization']}) | "
        f"{search['search_ms_per_question']} ms a question; top 3 exact for "
        f"{search['top3_exact_share']:.2%} of {search['questions']} questions "
        f"({search['questions_file']}) |",
        f"| indexer, {index['encoded']} entries ({index['encoded_texts']} texts) | {index['seconds']} s: "
        f"{index['entries_per_second']} entries/s, {index['texts_per_second']} texts/s |",
        "",
        "wrk commands: " + "; ".join(f"`{svc[k]['command']}`" for k in ("c1", "c32", "c256")) + ".",
        "",
    ]
    return "\n".join(lines)
