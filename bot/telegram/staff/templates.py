"""Canned replies: a YAML file of named texts per language with placeholders."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.yaml_files import parse_yaml

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


class TemplateError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    titles: Mapping[str, str]
    texts: Mapping[str, str]

    def title(self, locale: str) -> str:
        return self.titles.get(locale) or next(iter(self.titles.values()), self.name)

    def render(self, locale: str, **params: str) -> str:
        """HTML text in `locale` (or any language it has); parameters are escaped."""
        text = self.texts.get(locale) or next(iter(self.texts.values()))
        safe = _Params({name: html.escape(value, quote=False) for name, value in params.items()})
        return text.format_map(safe)


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def load_templates(directory: Path | None = None) -> dict[str, Template]:
    folder = directory or DEFAULT_TEMPLATES_DIR
    templates: dict[str, Template] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            data: Any = parse_yaml(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise TemplateError(f"{path.name}: {exc}") from exc
        for name, spec in data.items():
            texts = spec.get("text") if isinstance(spec, Mapping) else None
            if not isinstance(texts, Mapping) or not texts:
                raise TemplateError(f"{path.name}: template {name!r} needs text per language")
            titles = spec.get("title") or {}
            templates[str(name).lower()] = Template(
                str(name).lower(),
                {str(k): str(v) for k, v in titles.items()},
                {str(k): str(v).strip() for k, v in texts.items()},
            )
    return templates
