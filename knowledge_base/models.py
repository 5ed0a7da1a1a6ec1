"""Public data types of the knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, computed_field

# Entry ids travel in Telegram callback data (64 bytes in all), so they stay short and ASCII.
EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)]
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=40)
]


class EntryData(BaseModel):
    """One entry as written in a data file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: EntryId
    questions: tuple[NonBlank, ...] = Field(min_length=1)
    answer: NonBlank
    tags: tuple[Tag, ...] = ()


class Entry(EntryData):
    """A loaded entry: the file data plus where it came from."""

    locale: str
    source: Path | None = None


class Match(BaseModel):
    """One entry found for a query; `score` is 0..100, higher is better."""

    model_config = ConfigDict(frozen=True)

    entry: Entry
    score: float = Field(ge=0, le=100)
    question: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def entry_id(self) -> str:
        return self.entry.id


DecisionKind = Literal["answer", "suggest", "none"]


class Decision(BaseModel):
    """What to do with a query.

    "answer": send `matches[0]`'s answer (further matches are related entries).
    "suggest": offer `matches` for the customer to choose from.
    "none": nothing relevant; `matches` is empty.
    """

    model_config = ConfigDict(frozen=True)

    kind: DecisionKind
    matches: tuple[Match, ...] = ()

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None
