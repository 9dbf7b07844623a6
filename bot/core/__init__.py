"""Cross-cutting pieces of the gateway: settings and dependencies."""
