"""The chaos tests use the integration suite's broker (started here when needed)."""

from tests.integration.conftest import kafka

__all__ = ["kafka"]
