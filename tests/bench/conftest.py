"""The in-process gateway of tests/gateway (stand-in Rasa), for the signing checks."""

from tests.gateway.conftest import gateway  # noqa: F401  (a fixture, used by name)
