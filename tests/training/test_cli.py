"""The console scripts faq-train and faq-eval."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from faq_core.servable import MANIFEST_FILE, Servable, base_model_id
from training.cli import eval_main, train_main

EVAL_LINES = 80


def head_lines(source: Path, n: int) -> list[str]:
    with source.open() as handle:
        return [next(handle).rstrip("\n") for _ in range(n)]


@pytest.fixture
def small_val(tmp_path: Path, val_file: Path) -> Path:
    path = tmp_path / "val_small.jsonl"
    path.write_text("\n".join(head_lines(val_file, EVAL_LINES)) + "\n")
    return path


@pytest.fixture(autouse=True)
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQ_DEVICE", "cpu")


def test_train_with_a_bad_line_exits_2_naming_file_and_line(
    tmp_path: Path, small_val: Path, val_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = head_lines(val_file, 5)
    lines[2] = '{"question": "what is a vpc?", "answer": '  # line 3: cut short
    bad = tmp_path / "train_bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    out, cache = tmp_path / "out", tmp_path / "cache"
    argv = [
        "--train",
        str(bad),
        "--val",
        str(small_val),
        "--out",
        str(out),
        "--cache-dir",
        str(cache),
    ]
    with pytest.raises(SystemExit) as exit_info:
        train_main([*argv, "--epochs", "1", "--quiet"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert re.search(rf"^error: {re.escape(str(bad))}:3: invalid JSON", err, re.MULTILINE), err
    assert "Traceback" not in err
    assert not out.exists()
    assert not cache.exists()  # validated before anything was encoded


def test_train_with_a_missing_file_exits_2(tmp_path: Path, small_val: Path, capsys) -> None:
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        train_main(["--train", str(missing), "--val", str(small_val), "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    assert f"error: {missing}:0: cannot open" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [["--train", "t.jsonl"], ["--data", "d.jsonl", "--train", "t.jsonl", "--val", "v.jsonl"], []],
    ids=["train-without-val", "data-and-train", "nothing"],
)
def test_train_needs_data_or_train_and_val(tmp_path: Path, args: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        train_main([*args, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "give either --data, or both --train and --val" in capsys.readouterr().err


@pytest.mark.slow  # evaluates on the val file
def test_eval_compares_two_models_side_by_side(
    trained_servable_dir: Path, servable: Servable, small_val: Path, capsys
) -> None:
    eval_main(
        ["--model", str(trained_servable_dir), "--model", "untuned", "--data", str(small_val)]
    )
    result = json.loads(capsys.readouterr().out)
    assert result["data"] == str(small_val)
    assert list(result["models"]) == [str(trained_servable_dir), "untuned"]
    trained, untuned = result["models"][str(trained_servable_dir)], result["models"]["untuned"]
    manifest = json.loads((trained_servable_dir / MANIFEST_FILE).read_text())
    assert trained["model_id"] == manifest["model_id"] == servable.model_id
    assert untuned["model_id"] == base_model_id(None)
    for model in (trained, untuned):
        assert model["pairs"] == EVAL_LINES
        for protocol in ("pool", "ask"):
            p1, mrr = model[protocol]["precision_at_1"], model[protocol]["mrr"]
            assert 0.0 < p1 <= mrr <= 1.0


def test_eval_with_a_missing_servable_exits_2(tmp_path: Path, small_val: Path, capsys) -> None:
    missing = tmp_path / "no-model"
    with pytest.raises(SystemExit) as exit_info:
        eval_main(["--model", str(missing), "--data", str(small_val)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {missing} is not a servable: config.json is missing (train one first)" in err


def test_train_with_a_bad_feedback_line_exits_2_naming_file_and_line(
    tmp_path: Path, small_val: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feedback = tmp_path / "feedback.jsonl"
    feedback.write_text(
        '{"question": "can i pay by invoice?", "answer": "yes, on the business plan"}\n'
        '{"question": "where is my invoice?"}\n'  # line 2: no answer
    )
    out, cache = tmp_path / "out", tmp_path / "cache"
    argv = ["--train", str(small_val), "--val", str(small_val), "--out", str(out)]
    with pytest.raises(SystemExit) as exit_info:
        train_main([*argv, "--cache-dir", str(cache), "--feedback", str(feedback), "--epochs", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {feedback}:2: field 'answer' is missing" in err, err
    assert "Traceback" not in err
    assert not out.exists()
    assert not cache.exists()  # validated before anything was encoded


def test_train_refuses_a_feedback_repeat_below_one(
    tmp_path: Path, small_val: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--train", str(small_val), "--val", str(small_val), "--out", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exit_info:
        train_main([*argv, "--feedback", str(small_val), "--feedback-repeat", "0"])
    assert exit_info.value.code == 2
    assert "--feedback-repeat must be at least 1" in capsys.readouterr().err


@pytest.mark.slow  # evaluates on the val file
@pytest.mark.parametrize("quantize", ["int8", "bf16"])
def test_eval_reports_the_quality_cost_of_a_faster_path(
    trained_servable_dir: Path, small_val: Path, capsys, quantize: str
) -> None:
    faster = f"{trained_servable_dir}:{quantize}"
    eval_main(["--model", str(trained_servable_dir), "--model", faster, "--data", str(small_val)])
    result = json.loads(capsys.readouterr().out)
    fp32_pool = result["models"][str(trained_servable_dir)]["pool"]
    faster_pool = result["models"][faster]["pool"]
    # The same servable (same id), encoded another way: close, and the difference is reported.
    assert (
        result["models"][faster]["model_id"]
        == result["models"][str(trained_servable_dir)]["model_id"]
    )
    assert result["differences"][faster]["pool"]["mrr"] == pytest.approx(
        faster_pool["mrr"] - fp32_pool["mrr"], abs=1e-4
    )
    assert abs(faster_pool["mrr"] - fp32_pool["mrr"]) < 0.05


@pytest.mark.slow  # training runs
@pytest.mark.parametrize(
    ("flags", "recorded"),
    [
        ([], (["source", "filename"], 0.3)),
        (["--answer-context", ""], ([], 1.0)),
        (
            ["--answer-context", " source, filename,", "--answer-context-weight", "1"],
            (["source", "filename"], 1.0),
        ),
    ],
)
def test_train_records_the_answer_encoding_it_was_given(
    tmp_path: Path, small_val: Path, flags: list[str], recorded: tuple[list[str], float]
) -> None:
    out = tmp_path / "out"
    argv = ["--train", str(small_val), "--val", str(small_val), "--out", str(out)]
    train_main([*argv, "--recipe", "head", "--epochs", "1", "--quiet", *flags])
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert (manifest["answer_context"], manifest["answer_context_weight"]) == recorded


@pytest.mark.parametrize("weight", ["0", "1.5", "-0.3"])
def test_train_refuses_an_answer_context_weight_outside_0_to_1(
    tmp_path: Path, small_val: Path, weight: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--train", str(small_val), "--val", str(small_val), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exited:
        train_main([*argv, "--answer-context-weight", weight])
    assert exited.value.code == 2
    assert "weight must be in (0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # a training run (nothing learns, but the model loads and encodes)
def test_a_small_faq_trains_nothing_and_fits_confidence_on_every_entry(
    tmp_path: Path, small_val: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`auto` on an FAQ of fewer than SMALL_FAQ_ENTRIES entries: the base model as it is, every
    entry a validation entry (none is held back to train on), the open set asking each twice."""
    out = tmp_path / "out"
    train_main(["--data", str(small_val), "--out", str(out), "--quiet"])
    metrics = json.loads(capsys.readouterr().out)
    assert (metrics["train_pairs"], metrics["val_pairs"]) == (0, EVAL_LINES)
    assert metrics["confidence"]["questions"] == 2 * EVAL_LINES
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["training"]["method"] == "the base model as it is: nothing trained"
    assert manifest["base_model_id"] == base_model_id(None)
    assert 0.0 < manifest["confidence"]["min_confidence"] < 1.0
