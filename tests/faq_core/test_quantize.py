"""FAQ_QUANTIZE=auto: bf16 where the hardware computes bfloat16 itself, fp32 elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from faq_core.quantize import choose_quantize, read_cpu_flags
from faq_core.servable import load_servable

SAPPHIRE_RAPIDS = frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
COOPER_LAKE = frozenset({"avx2", "avx512f", "avx512_bf16"})
SKYLAKE = frozenset({"avx2", "avx512f", "avx512bw"})  # AVX-512, but bfloat16 emulated
ZEN3 = frozenset({"avx2", "fma"})


@pytest.mark.parametrize(
    ("device", "flags", "gpu_bf16", "chosen", "why"),
    [
        ("cpu", SAPPHIRE_RAPIDS, False, "bf16", "natively (avx512_bf16, amx_bf16)"),
        ("cpu", COOPER_LAKE, False, "bf16", "natively (avx512_bf16)"),
        ("cpu", SKYLAKE, False, "none", "no native bfloat16"),
        ("cpu", ZEN3, False, "none", "no native bfloat16"),
        ("cpu", None, False, "none", "cannot tell"),
        ("cuda", ZEN3, True, "bf16", "GPU computes bfloat16 natively"),
        ("cuda", SAPPHIRE_RAPIDS, False, "none", "GPU has no native bfloat16"),
    ],
)
def test_auto_chooses_bf16_only_where_it_is_native(
    device: str, flags: frozenset[str] | None, gpu_bf16: bool, chosen: str, why: str
) -> None:
    choice = choose_quantize("auto", device_type=device, cpu_flags=flags, gpu_native_bf16=gpu_bf16)
    assert choice.chosen == chosen
    assert why in choice.why
    assert choice.record() == {"setting": "auto", "chosen": chosen, "why": choice.why}


def test_auto_keeps_fp32_when_rows_cannot_be_packed() -> None:
    choice = choose_quantize("auto", device_type="cpu", cpu_flags=SAPPHIRE_RAPIDS, packed=False)
    assert choice.chosen == "none"
    assert "packed rows" in choice.why


@pytest.mark.parametrize("setting", ["none", "int8", "bf16"])
def test_a_named_path_is_taken_as_it_is(setting: str) -> None:
    choice = choose_quantize(setting, device_type="cpu", cpu_flags=ZEN3)  # type: ignore[arg-type]
    assert (choice.setting, choice.chosen, choice.why) == (setting, setting, "set explicitly")


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    processor = "processor\t: {n}\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 {extra}\n\n"
    cpuinfo.write_text(processor.format(n=0, extra="amx_bf16") + processor.format(n=1, extra=""))
    assert read_cpu_flags(cpuinfo) == {"fpu", "avx2", "amx_bf16"}
    assert read_cpu_flags(tmp_path / "absent") is None


def test_loading_with_auto_runs_the_chosen_path(untrained_servable_dir: Path) -> None:
    expected = choose_quantize("auto", device_type="cpu", cpu_flags=read_cpu_flags())
    servable = load_servable(untrained_servable_dir, "cpu", "auto", pack=True)
    assert servable.quantize == expected
    dtypes = {p.dtype for p in servable.model.encoders["default"].parameters()}
    assert dtypes == {torch.bfloat16 if expected.chosen == "bf16" else torch.float32}
