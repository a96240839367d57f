"""What the service loads with the embedded store: no qdrant-client (43 MB it does not need)."""

from __future__ import annotations

from pathlib import Path

from tests.support.python_process import printed_by

# The service's modules, the catalog and the feedback log as the app factory opens them.
PROGRAM = """
import sys
from pathlib import Path
from faq_core.feedback import feedback_log_for
from faq_core.settings import Settings
from faq_core.store import open_catalog
import service.app

settings = Settings(store_path=Path(sys.argv[1]), qdrant_url=sys.argv[2] or None)
feedback_log_for(open_catalog(settings), settings)
print(sorted({m.split(".")[0] for m in sys.modules} & {"qdrant_client", "training"}))
"""


def loaded(tmp_path: Path, qdrant_url: str) -> str:
    return printed_by(PROGRAM, str(tmp_path), qdrant_url, timeout_s=120)


def test_embedded_service_loads_neither_qdrant_client_nor_training(tmp_path: Path) -> None:
    assert loaded(tmp_path, "") == "[]"


def test_server_backend_loads_qdrant_client(tmp_path: Path) -> None:
    # The same program does load it for a server: the check above could fail.
    assert loaded(tmp_path, "http://127.0.0.1:9") == "['qdrant_client']"
