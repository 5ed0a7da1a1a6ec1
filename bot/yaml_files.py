"""YAML files of the bot's configuration (form, routing, causes, templates), parsed by libyaml
when PyYAML was built with it: several times faster than the pure-Python parser, with the same
safe constructor, so the same data."""

from __future__ import annotations

from typing import Any

import yaml

_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """The data of one YAML document, safe types only; raises `yaml.YAMLError`."""
    return yaml.load(text, Loader=_SafeLoader)
