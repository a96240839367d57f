"""What a service process loads for its backend: the embedded one never qdrant-client (43 MB it
does not need), a server deployment never qdrant-edge, and neither loads training code."""

from __future__ import annotations

from pathlib import Path

from tests.support.python_process import printed_by

# The service's modules, the backend and its feedback log as the engine opens them.
PROGRAM = """
import sys
from pathlib import Path
from faq_core.settings import Settings
from faq_core.store import open_backend
import service.app

settings = Settings(store_path=Path(sys.argv[1]), qdrant_url=sys.argv[2] or None)
backend = open_backend(settings)
backend.feedback_log
print(backend.kind, sorted(
    {m.split(".")[0] for m in sys.modules} & {"qdrant_client", "qdrant_edge", "training"}
))
"""


def loaded(tmp_path: Path, qdrant_url: str) -> str:
    return printed_by(PROGRAM, str(tmp_path), qdrant_url, timeout_s=120)


def test_the_embedded_service_loads_neither_qdrant_client_nor_training(tmp_path: Path) -> None:
    assert loaded(tmp_path, "") == "embedded ['qdrant_edge']"


def test_a_server_deployment_loads_neither_qdrant_edge_nor_training(tmp_path: Path) -> None:
    assert loaded(tmp_path, "http://127.0.0.1:9") == "server ['qdrant_client']"
