"""The house rules ARCHITECTURE.md states, checked on the source: the core never imports a
room statically, no import cycle between the top-level packages, and a check's function is
named ``check_`` + its id."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import rooms

REPO = Path(__file__).resolve().parents[2]
TOP = ("harness", "sip_checks", "router_checks", "reports")
# The lab is equipment built from the rooms' parts (the SIP toolkit plays the far end), not
# core: it may import them. Everything else under harness/ is core.
NOT_CORE = ("harness/lab/",)


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import statement, nested ones included."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def _top_of(module: str) -> str:
    return module.split(".")[0]


def test_the_core_reaches_the_rooms_only_through_the_table() -> None:
    bad = []
    for path in sorted((REPO / "harness").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(NOT_CORE):
            continue
        bad += [f"{rel}:{line} imports {mod}" for line, mod in _imports(path)
                if _top_of(mod) in ("sip_checks", "router_checks", "reports")]
    assert bad == []


def test_no_import_cycle_between_top_level_packages() -> None:
    """reports and the rooms import the core; the core (lab aside) imports neither; the
    rooms do not import each other or the reports."""
    edges: set[tuple[str, str]] = set()
    for pkg in TOP:
        for path in (REPO / pkg).rglob("*.py"):
            if path.relative_to(REPO).as_posix().startswith(NOT_CORE):
                continue
            for _, mod in _imports(path):
                if _top_of(mod) in TOP and _top_of(mod) != pkg:
                    edges.add((pkg, _top_of(mod)))
    assert edges <= {("sip_checks", "harness"), ("router_checks", "harness"),
                     ("reports", "harness")}, sorted(edges)


def _checks() -> Iterator[tuple[str, str, str]]:
    """(file, function name, id) of every ``@pytest.mark.check`` function in the rooms."""
    for pkg in rooms.CHECK_PACKAGES:
        for path in sorted((REPO / pkg).rglob("check_*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.FunctionDef):
                    continue
                for deco in node.decorator_list:
                    if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                            and deco.func.attr == "check"):
                        ident = next(k.value for k in deco.keywords if k.arg == "id")
                        assert isinstance(ident, ast.Constant)
                        yield path.name, node.name, str(ident.value)


def test_there_are_checks_to_name() -> None:
    assert len(list(_checks())) >= 10


@pytest.mark.parametrize(("file", "name", "ident"), list(_checks()))
def test_a_check_function_is_named_after_its_id(file: str, name: str, ident: str) -> None:
    assert name == "check_" + ident.replace(".", "_"), f"{file}: {name} for id {ident}"


def test_check_ids_are_unique() -> None:
    ids = [ident for _, _, ident in _checks()]
    assert len(ids) == len(set(ids))
