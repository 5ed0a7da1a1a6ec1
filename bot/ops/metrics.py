"""The Prometheus metrics of the bot, in one registry served at `/metrics`.

Counters are incremented where things happen (one call each); gauges that describe stored
state (outbox depth, open tickets) are read from the database when `/metrics` is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter(
    "bot_updates_total",
    "Updates handled, by kind (message, callback_query, ...)",
    ["kind"],
    registry=REGISTRY,
)
HANDLER_ERRORS = Counter(
    "bot_handler_errors_total",
    "Updates whose handling raised an error, by kind",
    ["kind"],
    registry=REGISTRY,
)
UPDATE_SECONDS = Histogram(
    "bot_update_handling_seconds",
    "Time to handle one update, by kind",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "bot_deliveries_total",
    "Outbox deliveries by result: sent, retried, 429, 403, failed",
    ["result"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "bot_outbox_depth",
    "Outbox messages waiting to be delivered (pending or sending)",
    registry=REGISTRY,
)
OUTBOX_OLDEST_DUE_AGE = Gauge(
    "bot_outbox_oldest_due_age_seconds",
    "How long the oldest due outbox message has been waiting (0: none due)",
    registry=REGISTRY,
)
OPEN_TICKETS = Gauge(
    "bot_open_tickets", "Tickets not closed, by status", ["status"], registry=REGISTRY
)
SLA_BREACHES = Counter(
    "bot_sla_breaches_total",
    "Service-level targets missed, by target (first_response, resolution)",
    ["target"],
    registry=REGISTRY,
)
SWEEP_SECONDS = Histogram(
    "bot_sweep_duration_seconds",
    "Duration of the scheduled sweeps, by sweep",
    ["sweep"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60),
    registry=REGISTRY,
)
LOOP_LAG = Gauge(
    "bot_event_loop_lag_seconds",
    "How late the event loop ran a timer, last measurement",
    registry=REGISTRY,
)


def record_delivery(result: str) -> None:
    """One outbox delivery attempt ended: sent, retried, 429, 403 or failed."""
    DELIVERIES.labels(result).inc()
