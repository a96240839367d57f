"""Shared core of faq-answers: settings, the encoder the servable names, model loading, the answer store.

Importing this package loads no model and opens no store.
"""
