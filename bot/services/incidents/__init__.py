"""Mass incidents: detection, alerts, declaring and linking, fan-out to customers, figures."""

from bot.services.incidents.common import (
    AlertButtons,
    Detection,
    IncidentConfig,
    IncidentContext,
    IncidentError,
    IncidentFigures,
    IncidentView,
    LinkedView,
    Resolution,
)
from bot.services.incidents.detection import IncidentDetection
from bot.services.incidents.fanout import IncidentFanout
from bot.services.incidents.lifecycle import IncidentLifecycle
from bot.services.incidents.service import IncidentService, compose_incidents

__all__ = [
    "AlertButtons",
    "Detection",
    "IncidentConfig",
    "IncidentContext",
    "IncidentDetection",
    "IncidentError",
    "IncidentFanout",
    "IncidentFigures",
    "IncidentLifecycle",
    "IncidentService",
    "IncidentView",
    "LinkedView",
    "Resolution",
    "compose_incidents",
]
