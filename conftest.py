"""Root conftest: shared fixtures for tests/ and the per-channel tests in channels/*/tests."""

pytest_plugins = ["tests.support.fixtures"]
