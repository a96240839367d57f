"""Property-based fuzzing of the running service against its own OpenAPI schema (schemathesis).

Valid and invalid requests for every operation go to a real `faq-serve` process. Every response
must be a documented status with a body matching the schema: no 5xx, never a bare 500 for bad
input. The budget is small per operation so the suite stays quick; `FAQ_FUZZ_EXAMPLES` raises it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from tests.service.conftest import ServerProcess, copy_store

API_KEY = "fuzz-key"
EXAMPLES = int(os.environ.get("FAQ_FUZZ_EXAMPLES", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SENT: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_server(
    indexed_store: Path, tmp_path_factory: pytest.TempPathFactory, trained_servable_dir: Path
) -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            "FAQ_MODEL_PATH": str(trained_servable_dir),
            "FAQ_STORE_PATH": str(copy_store(indexed_store, tmp_path_factory.mktemp("fuzz"))),
            "FAQ_DEVICE": "cpu",
            "FAQ_API_KEY": API_KEY,
        }
    )
    process.start()
    yield process
    if process.process is not None:
        process.stop()
    # The run really happened: every operation got its examples, and the server survived them.
    print(f"fuzzed requests per operation: {SENT}")


def _operations(server: ServerProcess) -> list[schemathesis.schemas.APIOperation]:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the service's own schema is invalid: {result}"
        operations.append(result.ok())
    return operations


def _has_input(operation: schemathesis.schemas.APIOperation) -> bool:
    return bool(len(operation.body) or len(operation.path_parameters) or len(operation.query))


# schemathesis' own pytest integration (`from_fixture`) does not run on pytest 9, so each
# operation gets a Hypothesis run here, with valid and with invalid data.
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
def test_no_server_error_and_responses_match_the_schema(
    fuzz_server: ServerProcess, mode: GenerationMode
) -> None:
    operations = _operations(fuzz_server)
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {
        "POST /ask",
        "POST /answers",
        "GET /answers/{entry_id}",
        "DELETE /answers/{entry_id}",
        "GET /readyz",
    }
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to get wrong in GET /healthz

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call_and_validate(
                base_url=fuzz_server.url,
                headers={"Authorization": f"Bearer {API_KEY}"},
                checks=CHECKS,
                timeout=30,
            )
            key = f"{mode.value} {case.method} {case.path}"
            SENT[key] = SENT.get(key, 0) + 1
            assert response.status_code < 500, response.text

        call()


def test_the_server_is_still_healthy_after_fuzzing(fuzz_server: ServerProcess) -> None:
    assert fuzz_server.process is not None and fuzz_server.process.poll() is None
    assert httpx.get(f"{fuzz_server.url}/readyz", timeout=5).status_code == 200
    # Each operation of the schema was exercised (the test above ran before this one).
    assert len(SENT) >= 10, SENT
    assert sum(SENT.values()) >= 10 * min(EXAMPLES, 10), SENT
