"""Loading a servable says nothing it need not: the warnings torch's tracer provokes by reading
a transformers model's training-only properties are dropped at their source, and only there."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from transformers.utils import logging as transformers_logging

from faq_core.encoder import SentenceEncoder
from faq_core.servable import load_servable

LOSS_MESSAGE = "ForCausalLMLoss"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def transformers_records() -> Iterator[Records]:
    """What transformers logs from now on, each once-only message included again."""
    transformers_logging.warning_once.cache_clear()
    handler = Records()
    logger = logging.getLogger("transformers")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_loading_a_traced_servable_logs_no_loss_type_warning(
    untrained_servable_dir: Path, transformers_records: Records
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        servable = load_servable(untrained_servable_dir, "cpu", pack=True, trace=True)
    assert not [m for m in transformers_records.messages if LOSS_MESSAGE in m]
    assert not [w for w in caught if "is_gradient_checkpointing" in str(w.message)]

    # Narrowly: the same property read outside the tracer still warns as transformers means it to.
    transformers_logging.warning_once.cache_clear()
    (encoder,) = servable.model.encoders.values()
    assert isinstance(encoder, SentenceEncoder)
    getattr(encoder.transformer[0].auto_model, "loss_function")  # noqa: B009 (the read is the point)
    assert [m for m in transformers_records.messages if LOSS_MESSAGE in m]
