"""Handoff to human counsellors: requests, priorities and their transitions."""
