"""Exports of a period: one row per ticket and one row per event, as CSV and XLSX.

Rows are streamed straight to temporary files in batches of tickets, so a large period never
sits in memory. CSV is UTF-8 with a byte-order mark (spreadsheet programs then read Cyrillic
right); XLSX is written by XlsxWriter in constant-memory mode (rows go to disk as they are
written). Telegram takes uploads up to 50 MB: a larger CSV is zipped and, if still too big,
split into parts; an XLSX that is too big is left out with a note (its data is compressed
already).
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from bot.domain.sla import SlaPolicy
from bot.services.analytics.metrics import TicketClock, TicketFacts
from bot.services.analytics.queries import (
    BATCH,
    FACT_COLUMNS,
    Window,
    agent_names,
    attach_events,
    fact_of,
    stream,
)
from bot.services.analytics.queries import C as CUSTOMERS
from bot.services.analytics.queries import E as EVENTS
from bot.services.analytics.queries import T as TICKETS

UPLOAD_LIMIT = 50 * 1024 * 1024
PART_LIMIT = 45 * 1024 * 1024  # room for the zip's own bytes
TICKET_COLUMNS = (
    "number",
    "created_at",
    "kind",
    "category",
    "team",
    "agent_id",
    "agent",
    "priority",
    "status",
    "language",
    "source",
    "first_response_at",
    "first_response_hours",
    "first_response_target_hours",
    "first_response_met",
    "resolved_at",
    "resolution_hours",
    "resolution_target_hours",
    "resolution_met",
    "closed_at",
    "decision",
    "cause",
    "rating",
    "reopens",
)
EVENT_COLUMNS = (
    "ticket",
    "at",
    "kind",
    "actor",
    "actor_id",
    "from_status",
    "to_status",
    "comment",
)
BOM = "\ufeff".encode()
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ExportFile:
    path: Path
    name: str


@dataclass
class ExportResult:
    tickets: int = 0
    events: int = 0
    csv_files: list[ExportFile] = field(default_factory=list)
    xlsx: ExportFile | None = None
    zipped: bool = False
    split: bool = False
    xlsx_too_large: bool = False

    @property
    def files(self) -> list[ExportFile]:
        return self.csv_files + ([self.xlsx] if self.xlsx else [])


def _safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Writers:
    """The CSV files and the workbook, written row by row."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.tickets_path = folder / f"{stem}-tickets.csv"
        self.events_path = folder / f"{stem}-events.csv"
        self.xlsx_path = folder / f"{stem}.xlsx"
        self._handles: list[TextIO] = []
        self.tickets_csv = self._csv(self.tickets_path, TICKET_COLUMNS)
        self.events_csv = self._csv(self.events_path, EVENT_COLUMNS)
        # Imported by the export only: the bot's process need not carry it (about 2 MB).
        import xlsxwriter

        self.workbook = xlsxwriter.Workbook(
            str(self.xlsx_path), {"constant_memory": True, "tmpdir": str(folder)}
        )
        bold = self.workbook.add_format({"bold": True})
        self.tickets_sheet = self.workbook.add_worksheet("tickets")
        self.events_sheet = self.workbook.add_worksheet("events")
        self.tickets_sheet.write_row(0, 0, TICKET_COLUMNS, bold)
        self.events_sheet.write_row(0, 0, EVENT_COLUMNS, bold)
        self.ticket_row = self.event_row = 1

    def _csv(self, path: Path, header: Sequence[str]) -> Any:
        handle = path.open("w", encoding="utf-8-sig", newline="")
        self._handles.append(handle)
        writer = csv.writer(handle)
        writer.writerow(header)
        return writer

    def ticket(self, row: Sequence[Any]) -> None:
        cells = [_safe(value) for value in row]
        self.tickets_csv.writerow(["" if value is None else value for value in cells])
        self.tickets_sheet.write_row(self.ticket_row, 0, cells)
        self.ticket_row += 1

    def event(self, row: Sequence[Any]) -> None:
        cells = [_safe(value) for value in row]
        self.events_csv.writerow(["" if value is None else value for value in cells])
        self.events_sheet.write_row(self.event_row, 0, cells)
        self.event_row += 1

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        self.workbook.close()


class Exporter:
    """Writes the tickets created in a period (and their events) to files."""

    def __init__(self, policy: SlaPolicy, zone: ZoneInfo) -> None:
        self.clock = TicketClock(policy)
        self.zone = zone

    def local(self, moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return moment.astimezone(self.zone).replace(tzinfo=None).isoformat(timespec="seconds")

    def _hours(self, value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    def ticket_row(self, ticket: TicketFacts, names: Mapping[int, str]) -> list[Any]:
        first_target, resolution_target = self.clock.targets(ticket)
        calendar = self.clock.business
        first = (
            self.clock.first_response(ticket, calendar)
            if ticket.first_response_at is not None
            else None
        )
        resolution = (
            self.clock.resolution(ticket, calendar)
            if ticket.resolution_moment is not None
            else None
        )
        return [
            ticket.number,
            self.local(ticket.created_at),
            ticket.kind,
            ticket.category,
            ticket.team,
            ticket.assignee_id,
            names.get(ticket.assignee_id) if ticket.assignee_id else None,
            ticket.priority,
            ticket.status,
            ticket.locale,
            ticket.channel,
            self.local(ticket.first_response_at),
            self._hours(first),
            first_target,
            None if first is None else first <= first_target,
            self.local(ticket.resolved_at),
            self._hours(resolution),
            resolution_target,
            None if resolution is None else resolution <= resolution_target,
            self.local(ticket.closed_at),
            ticket.resolution_type,
            ticket.root_cause,
            ticket.rating,
            ticket.reopens,
        ]

    def write(
        self,
        connection: Connection,
        window: Window,
        folder: Path,
        stem: str,
        *,
        for_upload: bool = True,
    ) -> ExportResult:
        """One read transaction: tickets in batches (keyset on id), then their events."""
        names = agent_names(connection)
        writers = _Writers(folder, stem)
        result = ExportResult()
        in_period = (TICKETS.c.created_at >= window.start) & (TICKETS.c.created_at < window.end)
        try:
            last_id = 0
            while True:
                batch = [
                    fact_of(row)
                    for row in connection.execute(
                        select(*FACT_COLUMNS)
                        .select_from(
                            TICKETS.outerjoin(CUSTOMERS, CUSTOMERS.c.id == TICKETS.c.customer_id)
                        )
                        .where(in_period, TICKETS.c.id > last_id)
                        .order_by(TICKETS.c.id)
                        .limit(BATCH)
                    )
                ]
                if not batch:
                    break
                facts = {ticket.id: ticket for ticket in batch}
                attach_events(connection, facts)
                for ticket in batch:
                    writers.ticket(self.ticket_row(ticket, names))
                result.tickets += len(batch)
                last_id = batch[-1].id
            events = stream(
                connection,
                select(
                    TICKETS.c.number,
                    EVENTS.c.at,
                    EVENTS.c.kind,
                    EVENTS.c.actor_kind,
                    EVENTS.c.actor_id,
                    EVENTS.c.from_status,
                    EVENTS.c.to_status,
                    EVENTS.c.comment,
                )
                .select_from(EVENTS.join(TICKETS, TICKETS.c.id == EVENTS.c.ticket_id))
                .where(in_period)
                .order_by(EVENTS.c.ticket_id, EVENTS.c.at, EVENTS.c.id),
            )
            for number, at, kind, actor, actor_id, old, new, comment in events:
                writers.event([number, self.local(at), kind, actor, actor_id, old, new, comment])
                result.events += 1
        finally:
            writers.close()
        paths = [writers.tickets_path, writers.events_path]
        if not for_upload:
            result.csv_files = [ExportFile(path, path.name) for path in paths]
            result.xlsx = ExportFile(writers.xlsx_path, writers.xlsx_path.name)
            return result
        result.csv_files = _fit_csv(paths, result)
        if writers.xlsx_path.stat().st_size > UPLOAD_LIMIT:
            result.xlsx_too_large = True
            writers.xlsx_path.unlink()
        else:
            result.xlsx = ExportFile(writers.xlsx_path, writers.xlsx_path.name)
        return result


def _fit_csv(paths: Sequence[Path], result: ExportResult) -> list[ExportFile]:
    """Each CSV as it is, zipped when over the upload limit, split when still over."""
    files: list[ExportFile] = []
    for path in paths:
        if path.stat().st_size <= UPLOAD_LIMIT:
            files.append(ExportFile(path, path.name))
            continue
        zipped = path.with_suffix(".zip")
        with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, path.name)
        result.zipped = True
        if zipped.stat().st_size <= UPLOAD_LIMIT:
            files.append(ExportFile(zipped, zipped.name))
            continue
        zipped.unlink()
        result.split = True
        files.extend(ExportFile(part, part.name) for part in _split(path))
    return files


def _split(path: Path) -> list[Path]:
    """CSV parts of at most `PART_LIMIT` bytes (a longer single row gets a part of its own),
    each with the header row."""
    parts: list[Path] = []
    with path.open("r", encoding="utf-8-sig", newline="") as source:
        rows = csv.reader(source)
        header = _csv_line(next(rows))
        handle: BinaryIO | None = None
        size = 0
        for row in rows:
            line = _csv_line(row)
            if handle is None or size + len(line) > PART_LIMIT:
                if handle is not None:
                    handle.close()
                target = path.with_name(f"{path.stem}-part{len(parts) + 1}.csv")
                parts.append(target)
                handle = target.open("wb")
                handle.write(BOM + header)
                size = len(BOM) + len(header)
            handle.write(line)
            size += len(line)
        if handle is not None:
            handle.close()
    return parts


def _csv_line(row: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(row)
    return buffer.getvalue().encode("utf-8")


@contextmanager
def export_folder() -> Iterator[Path]:
    """A temporary folder for one export, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="desk-export-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
