"""Reading the complaint form file."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.domain.form import FormSchema, FormSchemaError, schema_from_data
from bot.yaml_files import parse_yaml

DEFAULT_FORM_FILE = Path(__file__).resolve().parent / "complaint.yaml"


def load_form(path: Path | None = None) -> FormSchema:
    source = path or DEFAULT_FORM_FILE
    try:
        data = parse_yaml(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FormSchemaError(f"{source}: {exc}") from exc
    try:
        return schema_from_data(data)
    except FormSchemaError as exc:
        raise FormSchemaError(f"{source}: {exc}") from exc
