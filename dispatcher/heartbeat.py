"""How often a dispatcher worker reports in and when it counts as gone: its own light module so
health checks and the CLI can read it without importing the worker (and the normalizer)."""

HEARTBEAT_S = 2.0
WORKER_ALIVE_S = 15.0
