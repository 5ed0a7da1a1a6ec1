"""Errors raised while loading a knowledge base."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoadIssue:
    """One problem found in one data file."""

    file: str
    entry_id: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.entry_id is None else f"{self.file}: entry '{self.entry_id}'"
        return f"{where}: {self.message}"


class KnowledgeBaseError(Exception):
    """The knowledge base files are invalid; `errors` lists every problem found."""

    def __init__(self, errors: Iterable[LoadIssue]) -> None:
        self.errors: list[LoadIssue] = list(errors)
        count = len(self.errors)
        lines = "\n".join(f"  - {issue}" for issue in self.errors)
        super().__init__(f"knowledge base has {count} error(s):\n{lines}")
