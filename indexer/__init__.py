"""Batch job: data file -> encoded entries -> Qdrant collection."""
