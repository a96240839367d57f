"""python -m training.compare_servables: phrasings reports drawn side by side."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from training.compare_servables import main


def report(path: Path, answered_and_right: float, unanswerable: float | None) -> Path:
    before = {"answered_and_right": answered_and_right, "precision_when_answering": 0.95}
    if unanswerable is not None:
        before["unanswerable_answered"] = unanswerable
    path.write_text(json.dumps({"before": before}))
    return path


def test_a_panel_per_faq_is_drawn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compared.png"
    main(
        [
            "--plot",
            str(out),
            f"one/cloud={report(tmp_path / 'a.json', 0.4, None)}",
            f"one/own={report(tmp_path / 'b.json', 0.8, None)}",
            f"two/cloud={report(tmp_path / 'c.json', 0.3, 0.02)}",
        ]
    )
    assert capsys.readouterr().out.strip() == f"wrote {out}"
    width, height = Image.open(out).size
    assert height > width / 2  # two panels, one above the other


@pytest.mark.parametrize("item", ["no-label=x.json", "faq/label", "/label=x.json"])
def test_a_report_not_named_faq_label_is_refused(
    tmp_path: Path, item: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--plot", str(tmp_path / "x.png"), item])
    assert exited.value.code == 2
    assert "is not FAQ/LABEL=FILE" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_a_missing_report_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(SystemExit) as exited:
        main(["--plot", str(tmp_path / "x.png"), f"faq/label={missing}"])
    assert exited.value.code == 2
    assert str(missing) in capsys.readouterr().err
