"""`make bench`: real conversations through the gateway, side by side with plain Rasa.

The load generator (`bench.load`) plays simulated people through Twilio-signed WhatsApp
webhooks to a helpline started on free loopback ports with a fresh database, and the same
turns straight to Rasa's REST channel; `bench.run` sweeps concurrency levels and writes
the report (`bench.report`, `bench.plot`) to `bench/results/`.

Only `bench.run`, `bench.memory`, `bench.plot` and `bench.profiled_gateway` need the
`bench` dependency group (psutil, matplotlib, pyinstrument); the rest is plain Python and
is covered by `tests/bench/`.
"""
