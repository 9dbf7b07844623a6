"""Rasa custom actions served by rasa-sdk: one module per feature, no I/O at import."""
