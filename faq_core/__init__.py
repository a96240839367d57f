"""Shared core of faq-answers: settings, the servable's encoder, model loading, the answer store.

Importing this package loads no model and opens no store.
"""
