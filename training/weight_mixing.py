"""Weight averaging with the base model (WiSE-FT): keep a share of the untuned weights.

Fine-tuning on one FAQ pulls the encoder away from what it knew about other text: on FAQ entries
from other trades, asked in other words (`training/checks/paraphrase_faq.jsonl`), the tuned model
found fewer right answers than the untuned one. Averaging the tuned weights with the base weights
brings that back, for little or nothing on the FAQ it was tuned on (figures: docs/quality.md,
"The forgetting check" and "GPU runs").
"""

from __future__ import annotations

import torch


def mix_with_base(
    module: torch.nn.Module, base_state: dict[str, torch.Tensor], base_share: float
) -> None:
    """Set every floating-point weight of `module` to (1 - base_share) * tuned + base_share * base,
    in place; `base_state` is the module's state dict before tuning."""
    if not 0.0 <= base_share <= 1.0:
        raise ValueError(f"base_share must be in [0, 1], got {base_share}")
    with torch.no_grad():
        for name, value in module.state_dict().items():
            if value.is_floating_point():
                value.copy_(torch.lerp(value, base_state[name].to(value.device), base_share))
