"""The dependency rule of README.md (Architecture), checked on the import graph of the sources."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "knowledge_base")
ADAPTER_MODULES = ("bot.telegram", "bot.app", "bot.__main__", "bot.runner")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _sources() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            graph[_module_name(path)] = _imports(path)
    return graph


GRAPH = _sources()


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _violations(source_prefix: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {imported}"
        for module, imports in GRAPH.items()
        if _under(module, source_prefix)
        for imported in imports
        if any(_under(imported, f) for f in forbidden)
    )


def test_the_graph_was_read() -> None:
    assert "bot.domain.tickets" in GRAPH
    assert "storage.models" in GRAPH


def test_domain_imports_nothing_of_the_project() -> None:
    assert (
        _violations(
            "bot.domain",
            (
                "bot.services",
                "bot.telegram",
                "bot.jobs",
                "bot.app",
                "storage",
                "knowledge_base",
                "aiogram",
                "sqlalchemy",
                "sqlmodel",
            ),
        )
        == []
    )


def test_storage_knows_nothing_of_telegram_or_the_bot() -> None:
    """Storage may use the domain's vocabulary (its columns return the domain's enums), which
    imports nothing of the project, so no cycle can run through it; nothing else of the bot."""
    outside_domain = [
        violation
        for violation in _violations("storage", ("aiogram", "bot"))
        if not _under(violation.split(" imports ")[1], "bot.domain")
    ]
    assert outside_domain == []


def test_knowledge_base_is_independent() -> None:
    assert _violations("knowledge_base", ("aiogram", "bot", "storage")) == []


@pytest.mark.parametrize(
    "package",
    [
        "bot.services",
        "bot.jobs",
        "bot.domain",
        "bot.locales",
        "bot.forms",
        "storage",
        "knowledge_base",
    ],
)
def test_only_the_adapter_imports_aiogram(package: str) -> None:
    assert _violations(package, ("aiogram",)) == []


def test_services_do_not_reach_into_the_adapter() -> None:
    assert _violations("bot.services", ("bot.telegram", "bot.app", "bot.runner")) == []
    assert _violations("bot.jobs", ("bot.telegram", "bot.app", "bot.runner")) == []


def test_no_module_level_engine_bot_or_settings() -> None:
    """No import-time side effects: these are built by the composition root only."""
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
                    node.value, ast.Call
                ):
                    name = ast.unparse(node.value.func)
                    if name.split(".")[-1] in {
                        "Bot",
                        "Dispatcher",
                        "Settings",
                        "create_engine",
                        "create_async_engine",
                    }:
                        offenders.append(f"{path.relative_to(ROOT)}: {ast.unparse(node)}")
    assert offenders == []


SQL_BUILDERS = {"select", "insert", "update", "delete", "text"}
# The composition root builds the engine; the migrations (under storage/) write DDL. The
# supervisors' report reads with its own read-only statements in its own module (DESIGN.md
# homes the analytics queries in `bot/services/analytics/`); they are named one by one, so any
# other module that writes SQL still fails here.
MAY_BUILD_SQL = (
    "storage",
    "bot.app",
    "bot.services.analytics.queries",
    "bot.services.analytics.export",
)


def _sql_builders_imported(path: Path) -> list[str]:
    """The SQL builders a module imports: `select`/`insert`/`update`/`delete`/`text` from
    SQLAlchemy (any of its modules, dialects included), `select` from SQLModel, or SQLAlchemy
    itself (which carries them all)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name in ("sqlalchemy", "sqlmodel")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            top = node.module.split(".")[0]
            if top == "sqlalchemy":
                names = {a.name for a in node.names} & (SQL_BUILDERS | {"*"})
            elif top == "sqlmodel":
                names = {a.name for a in node.names} & {"select", "*"}
            else:
                continue
            found += [f"{node.module}.{name}" for name in sorted(names)]
    return found


def test_only_storage_builds_sql() -> None:
    """Services use repositories from the unit of work; only `storage/` writes SQL."""
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = _module_name(path)
            if any(_under(module, allowed) for allowed in MAY_BUILD_SQL):
                continue
            offenders += [f"{module} imports {name}" for name in _sql_builders_imported(path)]
    assert offenders == []


def test_the_sql_check_sees_a_builder(tmp_path: Path) -> None:
    source = tmp_path / "service.py"
    source.write_text(
        "from sqlalchemy import func, update\nfrom sqlmodel import col, select\n"
        "from sqlalchemy.dialects.postgresql import insert\n",
        encoding="utf-8",
    )
    assert _sql_builders_imported(source) == [
        "sqlalchemy.update",
        "sqlmodel.select",
        "sqlalchemy.dialects.postgresql.insert",
    ]
