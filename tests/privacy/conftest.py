from __future__ import annotations

from tests.staff.conftest import any_desk, desk

__all__ = ["any_desk", "desk"]  # the staff tests' fixtures, used here too
