"""The full table set: importing this module registers every table on SQLModel's metadata."""

from __future__ import annotations

from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)

metadata = SQLModel.metadata
