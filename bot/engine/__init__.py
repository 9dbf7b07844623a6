"""Code the Rasa engine imports besides the NLU components: its input channel.

Imports only the standard library, `redis` and (in `channel`) `rasa`/`sanic`.
"""
