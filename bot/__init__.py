"""Sahay gateway: FastAPI app, channels, routing, storage, language and safety.

This package imports nothing at import time so that the engine environment can use
its pure submodules (``bot.language``, ``bot.safety``).
"""
