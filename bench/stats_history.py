"""The report benchmark's history, generated inside the database (seconds, not minutes).

One timeline per ticket is drawn from deterministic pseudo-random numbers computed in SQL
from the ticket's id (the same statements on SQLite and PostgreSQL, so both databases hold
the same history), into a temporary table of moments in seconds since the epoch; tickets and
their events are then `INSERT ... SELECT`-ed from it, cut at `NOW`. Indexes are dropped while
the rows go in and rebuilt afterwards.

About 1,370 tickets a day: registration, assignment (90%), taken, waiting for the customer
and back (20%), "still working on it" a day later
(about a third), resolved, reopened after "it did not help" and resolved again (5%), closed
(80%); rated (40% of the resolved), with a decision and, for half of them, a cause.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PER_DAY = 1_000_000 / 730
CUSTOMERS = 50_000
AGENTS = 20
FIRST_AGENT = 2000
CATEGORIES = (
    ("delivery", "delivery", 35),
    ("payment", "payments", 20),
    ("product_quality", "support", 20),
    ("service", "support", 10),
    ("website", "support", 10),
    ("other", "support", 5),
)
PRIORITIES = (("urgent", 5), ("high", 15), ("normal", 60), ("low", 20))
DECISIONS = ("refund", "replacement", "compensation", "explanation", "apology", "rejected")
CAUSES = ("late_courier", "damaged_in_transit", "double_charge", "defective", "bug", "other")
RATINGS = (1, 2, 3, 4, 5, 5, 4, 5)
TABLES = ("customers", "tickets", "ticket_events")
PRIME = 2_147_483_647  # 2**31 - 1: products of two residues fit in 64-bit integers


def draw(stream: int) -> str:
    """A number in [0, 1) from the row's ``id``, a different one per ``stream``: an affine
    map then a square modulo a prime (the square breaks the lattice a linear map leaves)."""
    factor, offset = 1_103_515_245 + 7_919 * stream, 12_345 + 104_729 * stream
    step = f"((CAST(id AS BIGINT) * {factor} + {offset}) % {PRIME})"
    return f"CAST({step} * {step} % {PRIME} AS DOUBLE PRECISION) / {PRIME}"


def _pick(u: str, weighted: Sequence[tuple[Any, ...]], column: int) -> str:
    total = sum(int(row[-1]) for row in weighted)
    branches, bound = [], 0
    for row in weighted[:-1]:
        bound += int(row[-1])
        branches.append(f"WHEN {u} < {bound / total} THEN '{row[column]}'")
    return f"CASE {' '.join(branches)} ELSE '{weighted[-1][column]}' END"


def _choice(u: str, values: Sequence[object]) -> str:
    quoted = [f"'{v}'" if isinstance(v, str) else str(v) for v in values]
    branches = " ".join(f"WHEN {i} THEN {v}" for i, v in enumerate(quoted))
    return f"CASE CAST(FLOOR({u} * {len(values)}) AS INTEGER) {branches} ELSE {quoted[-1]} END"


def _hours(expression: str) -> str:
    return f"3600.0 * ({expression})"


def series(dialect: str, count: int) -> str:
    """The rows ``id`` = 1..count."""
    if dialect == "postgresql":
        return f"(SELECT generate_series(1, {count}) AS id) AS series"
    return (
        f"(WITH RECURSIVE s(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM s WHERE id < {count})"
        " SELECT id FROM s) AS series"
    )


def timestamp(dialect: str, seconds: str) -> str:
    """A moment in seconds since the epoch as the column type stores it (SQLite: UTC text)."""
    if dialect == "postgresql":
        return f"to_timestamp({seconds})"
    return f"strftime('%Y-%m-%d %H:%M:%f', {seconds}, 'unixepoch') || '000'"


def timeline_statement(dialect: str, tickets: int) -> str:
    """Fills the temporary table ``timeline`` (moments in epoch seconds, NULL: never)."""
    span = tickets / PER_DAY * 86400
    start = (NOW - timedelta(seconds=span)).timestamp()
    u = [draw(i) for i in range(24)]
    draws = ", ".join(f"{expression} AS u{i}" for i, expression in enumerate(u))
    created = f"{start} + (id - 1) * {span / tickets} + 60 * u0"
    first = f"{created} + {_hours('0.05 + 12 * u1 * u1 * u1')}"
    waits = "u2 < 0.2"
    wait = f"CASE WHEN {waits} THEN {first} + {_hours('0.5 + 3.5 * u3')} END"
    back = f"CASE WHEN {waits} THEN {first} + {_hours('0.5 + 3.5 * u3 + 1 + 19 * u4')} END"
    resolved = f"COALESCE({back}, {first}) + {_hours('1 + 90 * u5 * u5 * u5')}"
    return f"""
        CREATE TEMPORARY TABLE timeline AS
        SELECT id, created, first, wait, back, resolved, reopen,
            CASE WHEN reopen IS NOT NULL THEN reopen + {_hours("2 + 22 * u8")} END AS resolved2,
            u9, u10, u11, u12, u13, u14, u15, u16, u17, u18, u19, u20
        FROM (
            SELECT id, u8, u9, u10, u11, u12, u13, u14, u15, u16, u17, u18, u19, u20,
                {created} AS created, {first} AS first, {wait} AS wait, {back} AS back,
                {resolved} AS resolved,
                CASE WHEN u6 < 0.05 THEN {resolved} + {_hours("1 + 47 * u7")} END AS reopen
            FROM (SELECT id, {draws} FROM {series(dialect, tickets)}) AS draws
        ) AS moments
    """


def ticket_statement(dialect: str) -> str:
    now = NOW.timestamp()
    final = "COALESCE(resolved2, resolved)"
    closed = f"{final} + {_hours('24 + 144 * u10')}"
    rated = f"{final} + {_hours('1 + 47 * u12')}"
    done = f"{final} <= {now}"

    def at(moment: str, condition: str = "") -> str:
        test = f"{moment} <= {now}" + (f" AND {condition}" if condition else "")
        return f"CASE WHEN {test} THEN {timestamp(dialect, moment)} END"

    status = f"""CASE
        WHEN u9 < 0.8 AND {closed} <= {now} THEN 'closed'
        WHEN resolved2 <= {now} THEN 'resolved'
        WHEN reopen <= {now} THEN 'reopened'
        WHEN resolved <= {now} THEN 'resolved'
        WHEN back <= {now} THEN 'in_progress'
        WHEN wait <= {now} THEN 'waiting_customer'
        WHEN first <= {now} THEN 'in_progress'
        ELSE 'new' END"""
    resolved_at = f"""CASE
        WHEN resolved2 <= {now} THEN {timestamp(dialect, "resolved2")}
        WHEN reopen <= {now} THEN NULL
        WHEN resolved <= {now} THEN {timestamp(dialect, "resolved")} END"""
    is_rated = f"u11 < 0.4 AND {rated} <= {now}"
    rating = f"CASE WHEN {is_rated} THEN {_choice('u13', RATINGS)} END"
    assignee = (
        f"CASE WHEN u18 < 0.9 THEN {FIRST_AGENT} + CAST(FLOOR(u19 * {AGENTS}) AS INTEGER) END"
    )
    return f"""
        INSERT INTO tickets (id, number, customer_id, kind, channel, category, description,
            fields, status, priority, team, assignee_id, created_at, updated_at,
            first_response_at, waiting_since, paused_seconds, resolved_at, closed_at,
            resolution_type, rating, rating_comment, rated_at, survey_sent_at, root_cause)
        SELECT id, 'C-' || substr(CAST(10000000 + id AS TEXT), 2), (id - 1) % {CUSTOMERS} + 1,
            'complaint', 'telegram', {_pick("u14", CATEGORIES, 0)}, '', '{{}}', {status},
            {_pick("u15", PRIORITIES, 0)}, {_pick("u14", CATEGORIES, 1)}, {assignee},
            {timestamp(dialect, "created")}, {timestamp(dialect, "created")},
            {at("first")}, {at("wait", f"NOT back <= {now}")}, 0, {resolved_at},
            {at(closed, "u9 < 0.8")},
            CASE WHEN {done} THEN {_choice("u16", DECISIONS)} END,
            {rating}, CASE WHEN {is_rated} AND u13 < 0.25 THEN 'too slow' END,
            {at(rated, "u11 < 0.4")}, {at(f"{final} + 1800")},
            CASE WHEN {done} AND u17 < 0.5 THEN {_choice("u20", CAUSES)} END
        FROM timeline ORDER BY id
    """


def event_statement(dialect: str) -> str:
    now = NOW.timestamp()
    closed = f"COALESCE(resolved2, resolved) + {_hours('24 + 144 * u10')}"
    steps = (
        ("created", "'customer'", "'status'", "NULL", "'new'", "NULL", "TRUE"),
        ("created", "'system'", "'assign'", "NULL", "NULL", "NULL", "u18 < 0.9"),
        ("first", "'agent'", "'status'", "'new'", "'in_progress'", "NULL", "TRUE"),
        # "Still working on it" a day after creation, for tickets not resolved by then.
        (
            "created + 86400",
            "'system'",
            "'still_working'",
            "NULL",
            "NULL",
            "NULL",
            "resolved > created + 86400",
        ),
        ("wait", "'agent'", "'status'", "'in_progress'", "'waiting_customer'", "NULL", "TRUE"),
        ("back", "'customer'", "'status'", "'waiting_customer'", "'in_progress'", "NULL", "TRUE"),
        ("resolved", "'agent'", "'status'", "'in_progress'", "'resolved'", "NULL", "TRUE"),
        ("reopen", "'customer'", "'status'", "'resolved'", "'reopened'", "'not solved'", "TRUE"),
        ("resolved2", "'agent'", "'status'", "'reopened'", "'resolved'", "NULL", "TRUE"),
        (closed, "'system'", "'status'", "'resolved'", "'closed'", "NULL", "u9 < 0.8"),
    )
    true = "TRUE" if dialect == "postgresql" else "1"
    parts = [
        f"SELECT id AS ticket_id, {moment} AS moment, {order} AS step, {actor} AS actor_kind,"
        f" {kind} AS kind, {source} AS from_status, {target} AS to_status, {comment} AS comment"
        f" FROM timeline WHERE {moment} <= {now} AND {condition.replace('TRUE', true)}"
        for order, (moment, actor, kind, source, target, comment, condition) in enumerate(steps)
    ]
    union = " UNION ALL ".join(parts)
    return f"""
        INSERT INTO ticket_events (ticket_id, at, kind, actor_kind, from_status, to_status,
            comment, data)
        SELECT ticket_id, {timestamp(dialect, "moment")}, kind, actor_kind, from_status,
            to_status, comment, '{{}}'
        FROM ({union}) AS steps ORDER BY ticket_id, moment, step
    """


def customer_statement(dialect: str) -> str:
    false = "FALSE" if dialect == "postgresql" else "0"
    now = timestamp(dialect, str(NOW.timestamp()))
    return f"""
        INSERT INTO customers (id, telegram_id, first_name, locale, is_banned, is_unreachable,
            created_at, updated_at)
        SELECT id, 10000 + id, 'C', CASE WHEN id % 3 = 1 THEN 'en' ELSE 'ru' END, {false},
            {false}, {now}, {now}
        FROM {series(dialect, CUSTOMERS)}
    """


def statements(dialect: str, tickets: int) -> list[str]:
    """Everything that fills an empty, migrated database (indexes aside: see the callers)."""
    return [
        customer_statement(dialect),
        timeline_statement(dialect, tickets),
        ticket_statement(dialect),
        event_statement(dialect),
        "DROP TABLE timeline",
    ]


def _sqlite_indexes(connection: sqlite3.Connection) -> list[tuple[str, str]]:
    marks = ", ".join("?" for _ in TABLES)
    return list(
        connection.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({marks})",
            TABLES,
        )
    )


def fill_sqlite(path: Path, tickets: int) -> None:
    """Insert the history with the standard library, indexes rebuilt once at the end."""
    connection = sqlite3.connect(path, isolation_level=None)
    # One big transaction without a journal (a failed build is thrown away), then WAL again.
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-200000")
    indexes = _sqlite_indexes(connection)
    connection.execute("BEGIN")
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    for statement in statements("sqlite", tickets):
        connection.execute(statement)
    for _, sql in indexes:
        connection.execute(sql)
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()


async def fill_postgres(url: str, tickets: int) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database,
    )
    try:
        async with connection.transaction():
            # Foreign keys are right by construction: not checked row by row (this needs a
            # superuser, as on a test server).
            await connection.execute("SET LOCAL session_replication_role = replica")
            indexes = await connection.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[])"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint"
                " WHERE conindid = format('%I', indexname)::regclass)",
                list(TABLES),
            )
            for row in indexes:
                await connection.execute(f'DROP INDEX "{row["indexname"]}"')
            for statement in statements("postgresql", tickets):
                await connection.execute(statement)
            for row in indexes:
                await connection.execute(row["indexdef"])
            await connection.execute(
                "SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"
            )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
