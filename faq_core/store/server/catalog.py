"""The server's versions: each one a collection `<collection>--<version>`, and the live one the
alias `<collection>` (alias changes are atomic on the server)."""

from __future__ import annotations

from typing import TypedDict, Unpack

from qdrant_client import QdrantClient, models

from faq_core.store.base import SearchTuning
from faq_core.store.catalog import Catalog
from faq_core.store.server.errors import translated
from faq_core.store.server.store import ServerStore


class StoreOptions(TypedDict, total=False):
    """ServerStore's keyword options, which a catalog passes on to each version it opens."""

    shard_number: int
    replication_factor: int
    search: SearchTuning | None


class ServerCatalog(Catalog):
    def __init__(
        self, client: QdrantClient, collection: str, **options: Unpack[StoreOptions]
    ) -> None:
        self.name = collection
        self.client = client
        self._prefix = f"{collection}--"
        self._options = options

    def live(self) -> str | None:
        with translated():
            aliases = self.client.get_aliases().aliases
        for alias in aliases:
            if alias.alias_name == self.name and alias.collection_name.startswith(self._prefix):
                return alias.collection_name.removeprefix(self._prefix)
        return None

    def versions(self) -> list[str]:
        with translated():
            names = [c.name for c in self.client.get_collections().collections]
        return sorted(n.removeprefix(self._prefix) for n in names if n.startswith(self._prefix))

    def store(self, version: str) -> ServerStore:
        return ServerStore(self.client, self._prefix + version, **self._options)

    def switch(self, version: str) -> None:
        operations: list[models.AliasOperations] = []
        if self.live() is not None:
            operations.append(
                models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.name))
            )
        operations.append(
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(
                    collection_name=self._prefix + version, alias_name=self.name
                )
            )
        )
        with translated():
            # One request: the server applies the operations together, so the alias never
            # points nowhere.
            self.client.update_collection_aliases(change_aliases_operations=operations)

    def close(self) -> None:
        self.client.close()
