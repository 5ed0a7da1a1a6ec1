"""The full table set: importing this module registers every table on SQLModel's metadata."""

from __future__ import annotations

from sqlmodel import SQLModel

from storage import (
    desk_models,
    inbox_models,
    incident_models,
    kb_models,
    models,
    outbox_models,
    privacy_models,
    staff_models,
)

# Every module that defines tables is listed here, so migrations and tests see them all.
TABLE_MODULES = (
    models,
    outbox_models,
    staff_models,
    kb_models,
    inbox_models,
    desk_models,
    privacy_models,
    incident_models,
)

metadata = SQLModel.metadata
