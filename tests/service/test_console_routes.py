"""The console's page, its static files and the model plots, as HTTP (no browser here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.console import CONSOLE_DIR, PLOTS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_console_page_is_served_at_the_root_and_may_load_only_its_own_files(
    client: TestClient,
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    for directive in ("script-src 'self'", "style-src 'self'", "connect-src 'self'"):
        assert directive in policy
    page = response.text
    assert '<input id="ask-question" name="question"' in page
    assets = re.findall(r'(?:src|href)="(/console/[^"]+)"', page)
    assert sorted(assets) == ["/console/console.css", "/console/console.js"]
    types = {".js": "text/javascript", ".css": "text/css"}
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200
        assert served.headers["content-type"].startswith(types[Path(asset).suffix])
        assert served.content == (CONSOLE_DIR / Path(asset).name).read_bytes()


def test_the_console_names_no_other_host() -> None:
    """Nothing from a CDN: no absolute URL in any of the console's files (the CSP would refuse
    one, but the page would break offline all the same)."""
    for path in CONSOLE_DIR.iterdir():
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", path.read_text()), path


def test_the_plots_the_manifest_lists_are_served_as_png(
    client: TestClient, trained_servable_dir: Path
) -> None:
    listed = client.get("/manifest").json()["plots"]
    on_disk = [name for name in PLOTS if (trained_servable_dir / f"{name}.png").is_file()]
    assert listed == on_disk
    assert "score_distribution" in listed  # every training writes it
    for name in listed:
        response = client.get(f"/model/plots/{name}.png")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        assert response.content.startswith(PNG_MAGIC)
        assert response.content == (trained_servable_dir / f"{name}.png").read_bytes()


@pytest.mark.parametrize(
    "name", ["config", "manifest", "..%2Fmanifest", "score_distribution.png", "SCORE_DISTRIBUTION"]
)
def test_anything_but_a_known_plot_is_not_found(client: TestClient, name: str) -> None:
    response = client.get(f"/model/plots/{name}.png")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_known_plot_the_training_did_not_write_is_not_found(
    client: TestClient, trained_servable_dir: Path
) -> None:
    missing = [n for n in PLOTS if not (trained_servable_dir / f"{n}.png").is_file()]
    assert missing  # a head-only training writes no encoder curves
    for name in missing:
        response = client.get(f"/model/plots/{name}.png")
        assert response.status_code == 404
        assert name in response.json()["error"]["message"]
