"""Reads and validates the knowledge base data files.

Layout: `<root>/<locale>/*.yaml`, each a list of entries; `<root>/<locale>/_synonyms.yaml`
maps a canonical word to its variants. Other files starting with `_` are ignored. Every
problem is collected so one failed load shows the operator everything to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from knowledge_base.errors import KnowledgeBaseError, LoadIssue
from knowledge_base.html_check import check_telegram_html
from knowledge_base.models import Entry, NonBlank
from knowledge_base.normaliser import Normaliser

SYNONYMS_FILE = "_synonyms.yaml"
_YAML_SUFFIXES = (".yaml", ".yml")
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SYNONYMS = TypeAdapter(dict[NonBlank, list[NonBlank]])
_FROM_LOCATION = frozenset({"locale", "source"})


@dataclass
class LoadedData:
    """Everything read from a data directory."""

    entries: list[Entry] = field(default_factory=list)
    synonyms: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def load_dir(root: str | Path) -> LoadedData:
    """Load every locale under `root`; raise `KnowledgeBaseError` listing all problems."""
    root = Path(root)
    if not root.is_dir():
        raise KnowledgeBaseError([LoadIssue(str(root), None, "not a directory")])
    issues: list[LoadIssue] = []
    data = LoadedData()
    for locale_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if locale_dir.name.startswith((".", "_")):
            continue
        locale = locale_dir.name
        synonyms_path = locale_dir / SYNONYMS_FILE
        if synonyms_path.exists():
            data.synonyms[locale] = _load_synonyms(synonyms_path, issues)
        files = sorted(
            p
            for p in locale_dir.iterdir()
            if p.suffix in _YAML_SUFFIXES and not p.name.startswith(("_", "."))
        )
        entries: list[Entry] = []
        for path in files:
            entries.extend(_load_entries(path, locale, issues))
        issues.extend(find_conflicts(entries))
        data.entries.extend(entries)
    if not data.entries and not issues:
        issues.append(LoadIssue(str(root), None, "no entries found (expected <locale>/*.yaml)"))
    if issues:
        raise KnowledgeBaseError(issues)
    return data


def _read_yaml(path: Path, issues: list[LoadIssue]) -> tuple[bool, Any]:
    try:
        with path.open(encoding="utf-8") as stream:
            return True, yaml.load(stream, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        issues.append(LoadIssue(str(path), None, f"invalid YAML{where}: {problem}"))
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(LoadIssue(str(path), None, f"cannot read file: {exc}"))
    return False, None


def _load_synonyms(path: Path, issues: list[LoadIssue]) -> dict[str, list[str]]:
    ok, raw = _read_yaml(path, issues)
    if not ok or raw is None:
        return {}
    try:
        synonyms = _SYNONYMS.validate_python(raw)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            issues.append(LoadIssue(str(path), None, f"synonyms {where}: {error['msg']}"))
        return {}
    owner: dict[str, str] = {}
    for canonical, variants in synonyms.items():
        for variant in variants:
            key = Normaliser.clean(variant)
            if key in owner and owner[key] != canonical:
                issues.append(
                    LoadIssue(
                        str(path),
                        None,
                        f"variant '{variant}' is listed under both "
                        f"'{owner[key]}' and '{canonical}'",
                    )
                )
            owner[key] = canonical
    return synonyms


def _load_entries(path: Path, locale: str, issues: list[LoadIssue]) -> list[Entry]:
    ok, raw = _read_yaml(path, issues)
    if not ok or raw is None:
        return []
    if not isinstance(raw, list):
        issues.append(LoadIssue(str(path), None, "expected a list of entries at the top level"))
        return []
    entries: list[Entry] = []
    for position, item in enumerate(raw, start=1):
        label = _label(item, position)
        if not isinstance(item, dict):
            issues.append(
                LoadIssue(str(path), label, "expected a mapping with id/questions/answer")
            )
            continue
        # `locale` and `source` come from the file's place, never from its content.
        for key in _FROM_LOCATION & item.keys():
            issues.append(LoadIssue(str(path), label, f"{key}: Extra inputs are not permitted"))
        try:
            entry = Entry.model_validate({**item, "locale": locale, "source": path})
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]) or "entry"
                issues.append(LoadIssue(str(path), label, f"{where}: {error['msg']}"))
            continue
        for problem in check_telegram_html(entry.answer):
            issues.append(LoadIssue(str(path), entry.id, f"answer: {problem}"))
        entries.append(entry)
    return entries


def _label(item: object, position: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip():
        return str(item["id"])
    return f"#{position}"


def find_conflicts(entries: list[Entry], *, questions: bool = True) -> list[LoadIssue]:
    """Duplicate ids and (with `questions`) questions shared by two entries of one locale."""
    issues: list[LoadIssue] = []
    first_by_id: dict[str, Entry] = {}
    owner_by_question: dict[str, str] = {}
    for entry in entries:
        source = str(entry.source) if entry.source else "<memory>"
        first = first_by_id.setdefault(entry.id, entry)
        if first is not entry:
            issues.append(
                LoadIssue(source, entry.id, f"duplicate id (first defined in {first.source})")
            )
            continue
        if not questions:
            continue
        for question in entry.questions:
            key = Normaliser.clean(question)
            owner = owner_by_question.setdefault(key, entry.id)
            if owner != entry.id:
                issues.append(
                    LoadIssue(source, entry.id, f"question '{question}' is also in entry '{owner}'")
                )
    return issues
