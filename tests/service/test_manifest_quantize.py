"""/manifest and the log say which encoder path FAQ_QUANTIZE gave, and why."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from faq_core.quantize import choose_quantize, read_cpu_flags
from faq_core.settings import Settings
from service.app import create_app


def test_manifest_and_log_say_what_auto_chose(
    app_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    expected = choose_quantize("auto", device_type="cpu", cpu_flags=read_cpu_flags())
    settings = app_settings.model_copy(update={"quantize": "auto"})
    with (
        caplog.at_level(logging.INFO, logger="faq_core.servable"),
        TestClient(create_app(settings)) as client,
    ):
        manifest = client.get("/manifest").json()
        asked = client.post("/ask", json={"question": "how do i delete a project?"})
    assert manifest["quantize"] == expected.record()
    assert manifest["quantize"]["setting"] == "auto"
    assert asked.status_code == 200  # the chosen path answers
    assert f"FAQ_QUANTIZE=auto chose {expected.chosen}: {expected.why}" in caplog.text


def test_manifest_says_a_named_path_was_set(client: TestClient) -> None:
    assert client.get("/manifest").json()["quantize"] == {
        "setting": "none",
        "chosen": "none",
        "why": "set explicitly",
    }
