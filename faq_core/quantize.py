"""Which of the encoder's paths (FAQ_QUANTIZE) to run: `auto` picks the fastest one at equal
quality for the machine.

bf16 costs no measurable precision (precision@1 and MRR within ±0.001 of fp32, faq-eval) and
encodes about twice as fast where the hardware computes bfloat16 itself: a GPU, or a CPU with
AVX-512 BF16 or AMX. Elsewhere it is emulated, slower than fp32, so `auto` keeps fp32 there.
int8 is never chosen by itself: it is faster on a CPU but costs quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faq_core.settings import Quantize, QuantizeSetting

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
"""/proc/cpuinfo flags of a CPU that computes bfloat16 itself (AVX-512 BF16, AMX)."""


@dataclass(frozen=True)
class QuantizeChoice:
    """The FAQ_QUANTIZE setting, the path it gave, and why."""

    setting: QuantizeSetting
    chosen: Quantize
    why: str

    def record(self) -> dict[str, Any]:
        """As /manifest shows it."""
        return {"setting": self.setting, "chosen": self.chosen, "why": self.why}


def read_cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str] | None:
    """This CPU's flags; None where there is no /proc/cpuinfo to tell (not Linux)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features"):  # x86, ARM
            flags.update(value.split())
    return frozenset(flags)


def cpu_has_native_bf16(flags: frozenset[str] | None) -> bool:
    return flags is not None and any(flag in flags for flag in NATIVE_BF16_FLAGS)


def choose_quantize(
    setting: QuantizeSetting,
    *,
    device_type: str,
    cpu_flags: frozenset[str] | None,
    gpu_native_bf16: bool = False,
    packed: bool = True,
) -> QuantizeChoice:
    """The path to run for `setting` on a `device_type` ("cpu", "cuda") whose CPU has
    `cpu_flags` (None: unknown), on a GPU that computes bfloat16 itself or not
    (`gpu_native_bf16`: compute capability 8.0 and up). `packed`: whether the encoder can run
    packed rows, which bf16 needs. A setting other than `auto` is taken as it is."""
    if setting != "auto":
        return QuantizeChoice(setting, setting, "set explicitly")
    if not packed:
        return QuantizeChoice(
            setting, "none", "bf16 needs packed rows (FAQ_PACK=true and a BERT encoder): fp32"
        )
    if device_type == "cuda":
        if gpu_native_bf16:
            return QuantizeChoice(setting, "bf16", "this GPU computes bfloat16 natively")
        return QuantizeChoice(setting, "none", "this GPU has no native bfloat16 arithmetic: fp32")
    if cpu_flags is None:
        return QuantizeChoice(
            setting, "none", "cannot tell whether this CPU computes bfloat16 natively: fp32"
        )
    native = [flag for flag in NATIVE_BF16_FLAGS if flag in cpu_flags]
    if native:
        return QuantizeChoice(
            setting, "bf16", f"this CPU computes bfloat16 natively ({', '.join(native)})"
        )
    return QuantizeChoice(
        setting,
        "none",
        "this CPU has no native bfloat16 arithmetic (no avx512_bf16 or amx_bf16 flag): fp32",
    )
