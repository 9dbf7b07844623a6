"""Custom Rasa NLU components. Imported by the Rasa engine (Python 3.10): only the
standard library, `rasa` and `bot.language` may be imported here."""
