"""The service's fixtures (an indexed store, its data file), for faq-store's tests against a
running service."""

from tests.service.conftest import faq_rows, faq_slice, indexed_store

__all__ = ["faq_rows", "faq_slice", "indexed_store"]
