"""Guided checks a person can take by chat or keypad (the safe-migration check)."""
