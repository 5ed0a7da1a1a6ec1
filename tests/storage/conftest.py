"""Fixtures of the storage tests."""

from __future__ import annotations

import pytest

from tests.storage.server_connections import Seconds


@pytest.fixture
def seconds() -> Seconds:
    """The clock of the tests of connections that sit idle: moved by the test."""
    return Seconds()
