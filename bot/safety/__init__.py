"""Crisis detection for every inbound message (suicide, self-harm, immediate danger).

Imports only the standard library, PyYAML and :mod:`bot.language`, so the gateway and
the Rasa engine environment can both use it. Phrase rules live in
``bot/safety/rules/<lang>.yml``; ``python -m bot.safety.evaluate`` measures them.
"""

from __future__ import annotations

from bot.safety.detector import NOT_CRISIS, CrisisAssessment, assess, warm_up

__all__ = ["NOT_CRISIS", "CrisisAssessment", "assess", "warm_up"]
