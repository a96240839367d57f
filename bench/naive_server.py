"""The comparison: a straightforward server, as one would first write it.

A sync endpoint (FastAPI runs it in its thread pool), one `encode` per request, the same servable
and the same embedded store as the real service. Not part of the product.
"""

from __future__ import annotations

import argparse

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from faq_core.servable import load_servable
from faq_core.settings import Settings
from faq_core.store import open_store


class Ask(BaseModel):
    question: str
    top_k: int = 3


def build(settings: Settings) -> FastAPI:
    servable = load_servable(settings.model_path, "cpu")
    _, store = open_store(settings, dim=servable.dim, model_id=servable.model_id)
    app = FastAPI()

    @app.post("/ask")
    def ask(body: Ask) -> dict[str, list[dict[str, object]]]:
        vector = servable.encode([body.question])[0]
        hits = store.search(vector, body.top_k)
        return {
            "answers": [
                {"id": h.entry.entry_id, "answer": h.entry.answer, "score": h.score} for h in hits
            ]
        }

    @app.get("/readyz")
    def readyz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8101)
    args = parser.parse_args()
    uvicorn.run(build(Settings()), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
