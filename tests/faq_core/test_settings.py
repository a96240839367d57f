"""Settings: read from `FAQ_*` variables, validated when built."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from faq_core.settings import Settings

VARIABLES = (
    "FAQ_MODEL_PATH",
    "FAQ_QDRANT_URL",
    "FAQ_STORE_PATH",
    "FAQ_COLLECTION",
    "FAQ_DEVICE",
    "FAQ_API_KEY",
    "FAQ_QDRANT_API_KEY",
    "FAQ_PORT",
    "FAQ_MAX_BATCH_SIZE",
    "FAQ_QUANTIZE",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_faq_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAQ_MODEL_PATH", str(tmp_path / "model"))
    monkeypatch.setenv("FAQ_QDRANT_URL", "http://qdrant:6333")
    monkeypatch.setenv("FAQ_STORE_PATH", str(tmp_path / "store"))
    monkeypatch.setenv("FAQ_COLLECTION", "support_faq-2")
    monkeypatch.setenv("FAQ_DEVICE", "cpu")
    monkeypatch.setenv("FAQ_API_KEY", "s3cret")
    monkeypatch.setenv("FAQ_PORT", "9001")
    monkeypatch.setenv("FAQ_MAX_BATCH_SIZE", "16")
    monkeypatch.setenv("FAQ_QUANTIZE", "int8")
    settings = Settings()
    assert settings.model_path == tmp_path / "model"
    assert settings.qdrant_url == "http://qdrant:6333"
    assert settings.store_path == tmp_path / "store"
    assert settings.collection == "support_faq-2"
    assert settings.device == "cpu"
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "s3cret"
    assert settings.port == 9001
    assert settings.max_batch_size == 16
    assert settings.quantize == "int8"


def test_unset_variables_give_the_embedded_defaults() -> None:
    settings = Settings()
    assert settings.qdrant_url is None
    assert settings.api_key is None
    assert settings.collection == "faq"
    assert settings.device == "auto"
    assert settings.quantize == "auto"


def test_the_api_key_is_not_shown_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQ_API_KEY", "s3cret-value")
    settings = Settings()
    assert "s3cret-value" not in repr(settings)
    assert "s3cret-value" not in str(settings.model_dump())


@pytest.mark.parametrize("name", ["FAQ_API_KEY", "FAQ_QDRANT_API_KEY", "FAQ_QDRANT_URL"])
def test_empty_variable_means_unset(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Compose passes `${FAQ_API_KEY:-}`: an empty value must not become an empty key."""
    monkeypatch.setenv(name, "")
    settings = Settings()
    field = name.removeprefix("FAQ_").lower()
    assert getattr(settings, field) is None


@pytest.mark.parametrize("name", ["FAQ_API_KEY", "FAQ_QDRANT_API_KEY"])
def test_whitespace_only_key_is_refused(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "   ")
    field = name.removeprefix("FAQ_").lower()
    with pytest.raises(ValidationError, match=rf"{field}\n.*must not be blank: unset it instead"):
        Settings()


@pytest.mark.parametrize("collection", ["my faq", "faq/../x", "", "x" * 65, "faq;drop"])
def test_bad_collection_name_is_refused(monkeypatch: pytest.MonkeyPatch, collection: str) -> None:
    if collection:
        monkeypatch.setenv("FAQ_COLLECTION", collection)
        build = Settings
    else:  # an empty variable means unset, so pass the empty name directly

        def build() -> Settings:
            return Settings(collection=collection)

    with pytest.raises(ValidationError, match=r"collection\n.*String should match pattern"):
        build()


def test_bad_device_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQ_DEVICE", "gpu")
    with pytest.raises(ValidationError, match=r"device\n.*Input should be 'auto', 'cpu' or 'cuda'"):
        Settings()


def test_port_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQ_PORT", "70000")
    with pytest.raises(ValidationError, match=r"port\n.*less than or equal to 65535"):
        Settings()


def test_unknown_quantization_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQ_QUANTIZE", "int4")
    with pytest.raises(
        ValidationError, match=r"quantize\n.*Input should be 'auto', 'none', 'int8' or 'bf16'"
    ):
        Settings()
