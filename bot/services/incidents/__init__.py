"""Mass incidents: detection, alerts, declaring and linking, fan-out to customers, figures."""

from bot.services.incidents.common import (
    AlertButtons,
    Detection,
    IncidentConfig,
    IncidentError,
    IncidentFigures,
    IncidentView,
    LinkedView,
    Resolution,
)
from bot.services.incidents.service import IncidentService

__all__ = [
    "AlertButtons",
    "Detection",
    "IncidentConfig",
    "IncidentError",
    "IncidentFigures",
    "IncidentService",
    "IncidentView",
    "LinkedView",
    "Resolution",
]
