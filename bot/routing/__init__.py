"""Routing of every inbound message: store it, decide who answers, store the answer."""
