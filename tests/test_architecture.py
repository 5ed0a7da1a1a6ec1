"""The dependency rule of README.md (Architecture), checked on the import graph of the sources."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "storage", "knowledge_base")
ADAPTER_MODULES = ("bot.telegram", "bot.app", "bot.__main__", "bot.runner")


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
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
# supervisors' report is a library of its own (README.md, "Statistics for supervisors") that
# reads with its own read-only statements in its own modules; they are named one by one, so
# any other module that writes SQL still fails here.
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


# The import graph: what a module imports when it is loaded (module level, also under a
# module-level `if`/`try`). Imports under `if TYPE_CHECKING:` never run and imports inside
# functions run later, when every module is loaded, so neither can make a circle at import
# time; both are left out.
CYCLE_PACKAGES = (*PACKAGES, "sandbox")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _loaded_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node):
                found += _loaded_imports(node.body)
            found += _loaded_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                found += _loaded_imports(block)
    return found


def _module_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Project module -> the project modules it imports when loaded (`from a import b` names
    the module `a.b` when there is one, else `a`; relative imports resolved)."""
    paths = {
        _module_name(path, root): path
        for package in packages
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        targets: set[str] = set()
        for node in _loaded_imports(ast.parse(path.read_text(encoding="utf-8")).body):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
                continue
            base = node.module or ""
            if node.level:
                package = module.split(".")
                if path.name != "__init__.py":
                    package.pop()
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                name = f"{base}.{alias.name}"
                targets.add(name if name in paths else base)
        graph[module] = {target for target in targets if target in paths and target != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The circles of the graph: its strongly connected components of more than one module."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in order:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], order[target])
        if low[module] == order[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return found


def test_the_import_graph_has_no_circle() -> None:
    graph = _module_graph(ROOT, CYCLE_PACKAGES)
    assert "storage.models" in graph["bot.services.tickets"]
    assert _cycles(graph) == []


def test_the_circle_check_sees_a_circle(tmp_path: Path) -> None:
    package = tmp_path / "app"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "inner" / "__init__.py").write_text("from . import b\n", encoding="utf-8")
    (package / "a.py").write_text("from app.inner import b\n", encoding="utf-8")
    (package / "inner" / "b.py").write_text(
        "from typing import TYPE_CHECKING\nfrom ..c import C\n"
        "if TYPE_CHECKING:\n    from app import d\n",
        encoding="utf-8",
    )
    (package / "c.py").write_text(
        "try:\n    import app.a\nexcept ImportError:\n    pass\n", encoding="utf-8"
    )
    (package / "d.py").write_text("import app.inner.b\n", encoding="utf-8")
    (package / "e.py").write_text("def later():\n    import app.a\n", encoding="utf-8")
    graph = _module_graph(tmp_path, ("app",))
    assert graph["app.inner"] == {"app.inner.b"}
    assert graph["app.inner.b"] == {"app.c"}
    assert graph["app.e"] == set()
    assert _cycles(graph) == [["app.a", "app.c", "app.inner.b"]]
