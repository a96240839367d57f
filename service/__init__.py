"""The HTTP service: a thin FastAPI skin over the answer engine."""
