"""The rooms of the code and the one direction of flow between them (ARCHITECTURE.md): each
module imports only from its own room and the rooms below it, never from above."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BELOW = {
    "pipeline": set(),
    "agents.observe": {"pipeline"},
    "agents.kafka": {"agents.observe", "pipeline"},
    "agents.stages": {"agents.kafka", "agents.observe", "pipeline"},
    "agents.feeds": {"agents.kafka", "agents.observe", "pipeline"},
    "agents.push": {"agents.kafka", "agents.observe", "pipeline"},
    "agents.web": {"agents.feeds", "agents.stages", "agents.kafka", "agents.observe", "pipeline"},
}
BELOW["agents.app"] = {"agents.web", "agents.push", *BELOW["agents.web"]}
BELOW["agents.cli"] = {"agents.app", *BELOW["agents.app"]}


def room_of(module: str) -> str | None:
    return next((room for room in BELOW if module == room or module.startswith(room + ".")), None)


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in ("pipeline", "agents"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            module = ".".join(parts).removesuffix(".__init__")
            if module != "agents":  # the package itself holds nothing
                found.append((module, path))
    return found


@pytest.mark.parametrize(("module", "path"), modules(), ids=lambda v: str(v))
def test_a_module_imports_only_its_own_room_and_those_below(module: str, path: Path) -> None:
    room = room_of(module)
    assert room is not None, f"{module} is in no room: add it to ARCHITECTURE.md and BELOW"
    allowed = {room, *BELOW[room]}
    wrong = sorted(
        imported
        for imported in imported_modules(path)
        if (other := room_of(imported)) is not None and other not in allowed
    )
    assert not wrong, f"{module} ({room}) imports {wrong}"


def test_every_module_keeps_within_400_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {lines}"
        for _, path in modules()
        if (lines := len(path.read_text().splitlines())) > 400
    ]
    assert not long


DECLARATIONS = {"agents/observe/metrics.py:__init__", "agents/cli/main.py:build_parser"}
"""Functions that are lists of declarations (metrics, command-line flags), read at a glance
however long: see ARCHITECTURE.md."""


def test_every_function_keeps_within_60_lines() -> None:
    long = []
    for _, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                where = f"{path.relative_to(ROOT)}:{node.name}"
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 60 and where not in DECLARATIONS:
                    long.append(f"{where}: {lines}")
    assert not long
