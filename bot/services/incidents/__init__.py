"""Mass incidents: detection, alerts, declaring and linking, fan-out to customers, figures."""

from bot.services.incidents.service import (
    AlertButtons,
    Detection,
    IncidentConfig,
    IncidentError,
    IncidentFigures,
    IncidentService,
    IncidentView,
    LinkedView,
    Resolution,
)

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
