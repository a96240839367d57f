"""bench/RESULTS.md from the figures bench/run.py measured: the targets of the serving issue,
each with its ratio in this run, then the absolute figures."""

from __future__ import annotations

from typing import Any


def _check(ok: bool) -> str:
    return "yes" if ok else "**no**"


def render_markdown(r: dict[str, Any], command: str) -> str:
    enc, enc8 = r["encode"]["none"], r["encode"]["int8"]
    svc, svc8, naive, index = r["service"], r["service_int8"], r["naive"]["c32"], r["index"]
    batched = enc["batched_questions_per_s"]
    c1, c32, c256 = svc["c1"], svc["c32"], svc["c256"]
    rss = svc["memory_mb"].get("VmHWM", svc["memory_mb"].get("VmRSS", 0.0))
    statuses = c256["statuses"]
    targets = [
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
            True,
        ),
        (
            "int8: batched encode throughput / fp32",
            f"{enc8['batched_questions_per_s'] / batched:.3f}",
            ">= 1.5",
            enc8["batched_questions_per_s"] >= 1.5 * batched,
        ),
        (
            "service resident memory, peak (cloud FAQ indexed)",
            f"{rss:.0f} MB",
            "<= 800 MB",
            rss <= 800,
        ),
        (
            "indexer: texts/s / model's batched encode throughput on answers",
            f"{index['texts_per_second'] / enc['batched_answers_per_s']:.3f}",
            ">= 0.9",
            index["texts_per_second"] >= 0.9 * enc["batched_answers_per_s"],
        ),
    ]
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
        f"| model, one question at a time (fp32 / int8) | p50 {enc['single_question_p50_ms']} ms / "
        f"{enc8['single_question_p50_ms']} ms |",
        f"| model, batched questions (batch {enc['batch_size']}; fp32 / int8) | {batched} / "
        f"{enc8['batched_questions_per_s']} questions/s |",
        f"| model, batched answers (fp32 / int8) | {enc['batched_answers_per_s']} / {enc8['batched_answers_per_s']} "
        "answers/s |",
    ]
    for label, runs in (("service", svc), ("service, int8", svc8)):
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
        f"| indexer, {index['encoded']} entries ({index['encoded_texts']} texts) | {index['seconds']} s: "
        f"{index['entries_per_second']} entries/s, {index['texts_per_second']} texts/s |",
        "",
        "wrk commands: " + "; ".join(f"`{svc[k]['command']}`" for k in ("c1", "c32", "c256")) + ".",
        "",
    ]
    return "\n".join(lines)
