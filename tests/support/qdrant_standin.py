"""A stand-in for a Qdrant server, for fault tests: the REST endpoints faq-answers uses, served over
real HTTP by uvicorn and backed by qdrant-client's local mode on disk.

No Qdrant server binary can run on the test machines, but the faults the service must survive are
about the network: a server that stops answering (SIGSTOP this process), one that is gone (kill it:
connections are refused) and one that comes back (SIGCONT, or start it again on the same port and
path). Those are produced for real against this process. It is a test fake for the server itself,
named as such; the engine behind it is qdrant-client's, so answers are real.

    python -m tests.support.qdrant_standin --port 6333 --path DIR [--host 0.0.0.0]

scripts/check_images.sh also runs it in place of Qdrant's image, which cannot be pulled there
(docker-compose.qdrant-standin.yml): in a container, it listens on every interface (`--host`).
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import uvicorn
from fastapi import Body, FastAPI
from fastapi.encoders import jsonable_encoder
from pydantic import TypeAdapter
from qdrant_client import QdrantClient, models

# The local engine has no payload indexes; the server backend creates one all the same.
warnings.filterwarnings("ignore", message="Payload indexes have no effect", category=UserWarning)


def _ok(result: Any) -> dict[str, Any]:
    return {"time": 0.0, "status": "ok", "result": jsonable_encoder(result)}


def create_app(path: str) -> FastAPI:
    local = QdrantClient(path=path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        local.close()

    app = FastAPI(lifespan=lifespan)
    selector = TypeAdapter(models.PointsSelector)
    insert = TypeAdapter(models.PointInsertOperations)

    @app.get("/")
    def root() -> dict[str, str]:
        return {"title": "qdrant stand-in", "version": "1.16.0"}

    @app.get("/collections")
    def collections() -> dict[str, Any]:
        return _ok(local.get_collections())

    @app.get("/aliases")
    def aliases() -> dict[str, Any]:
        return _ok(local.get_aliases())

    @app.post("/collections/aliases")
    def change_aliases(body: models.ChangeAliasesOperation) -> dict[str, Any]:
        return _ok(local.update_collection_aliases(change_aliases_operations=body.actions))

    @app.get("/collections/{name}/exists")
    def exists(name: str) -> dict[str, Any]:
        return _ok({"exists": local.collection_exists(name)})

    @app.get("/collections/{name}")
    def collection(name: str) -> dict[str, Any]:
        return _ok(local.get_collection(name))

    @app.put("/collections/{name}")
    def create(name: str, body: models.CreateCollection) -> dict[str, Any]:
        return _ok(
            local.create_collection(
                name,
                vectors_config=body.vectors if body.vectors is not None else {},
                hnsw_config=body.hnsw_config,
                metadata=body.metadata,
            )
        )

    @app.delete("/collections/{name}")
    def drop(name: str) -> dict[str, Any]:
        return _ok(local.delete_collection(name))

    @app.put("/collections/{name}/index")
    def index(name: str, body: models.CreateFieldIndex) -> dict[str, Any]:
        local.create_payload_index(name, body.field_name, field_schema=body.field_schema)
        return _ok({"operation_id": 0, "status": "completed"})

    @app.put("/collections/{name}/points")
    def upsert(name: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        operation = insert.validate_python(body)
        points = operation.points if isinstance(operation, models.PointsList) else operation.batch
        return _ok(local.upsert(name, points=points))

    @app.post("/collections/{name}/points")
    def retrieve(name: str, body: models.PointRequest) -> dict[str, Any]:
        return _ok(
            local.retrieve(
                name,
                body.ids,
                with_payload=body.with_payload if body.with_payload is not None else True,
                with_vectors=body.with_vector if body.with_vector is not None else False,
            )
        )

    @app.post("/collections/{name}/points/scroll")
    def scroll(name: str, body: models.ScrollRequest) -> dict[str, Any]:
        records, next_offset = local.scroll(
            name,
            scroll_filter=body.filter,
            limit=body.limit or 10,
            offset=body.offset,
            with_payload=body.with_payload if body.with_payload is not None else True,
            with_vectors=body.with_vector if body.with_vector is not None else False,
        )
        return _ok({"points": records, "next_page_offset": next_offset})

    @app.post("/collections/{name}/points/delete")
    def delete(name: str, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        return _ok(local.delete(name, points_selector=selector.validate_python(body)))

    @app.post("/collections/{name}/points/count")
    def count(name: str, body: models.CountRequest) -> dict[str, Any]:
        return _ok(local.count(name, count_filter=body.filter, exact=bool(body.exact)))

    @app.post("/collections/{name}/facet")
    def facet(name: str, body: models.FacetRequest) -> dict[str, Any]:
        return _ok(
            local.facet(
                name,
                body.key,
                facet_filter=body.filter,
                limit=body.limit or 10,
                exact=bool(body.exact),
            )
        )

    @app.post("/collections/{name}/points/query/batch")
    def query_batch(name: str, body: models.QueryRequestBatch) -> dict[str, Any]:
        return _ok(local.query_batch_points(name, requests=body.searches))

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    uvicorn.run(create_app(args.path), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
