"""Who may import whom (docs/architecture.md): checked by reading every module's syntax tree.

- Nothing outside furu-core imports `furu._*`: furu-slurm, furu-server, furu-client, the tests
  of those packages, these integration tests, the examples and the benchmarks use the names in
  `furu.__all__` only. Package code also never reaches into a step's private `_furu_*`
  attributes (`furu.step_id(step)` and `furu.step_dir(step)` say what they hold).
- furu-core imports no other furu package and no scheduler library, and holds no scheduler
  logic: no `SLURM_*` / `SUBMITIT_*` variable, no `submitit` in its code.
- furu-client imports neither furu-core nor furu-server (it speaks HTTP only).
- furu-server never imports furu-slurm (it reads the store, never the scheduler).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = REPO / "packages"
CORE_SRC = PACKAGES / "furu-core" / "src" / "furu"
OUTSIDE_CORE = [
    PACKAGES / "furu-slurm",
    PACKAGES / "furu-server",
    PACKAGES / "furu-client",
    REPO / "tests-integration",
    REPO / "examples",
    REPO / "benchmarks",
]
PACKAGE_SOURCES = [
    PACKAGES / "furu-slurm" / "src",
    PACKAGES / "furu-server" / "src",
    PACKAGES / "furu-client" / "src",
    REPO / "examples",
]
SCHEDULER_WORDS = ("SLURM_", "SUBMITIT_", "submitit")


def _modules(*roots: Path) -> Iterator[tuple[Path, ast.Module]]:
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            if "node_modules" in path.parts or ".venv" in path.parts:
                continue
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """`(line, dotted name)` of everything a module imports (`from a import b` gives `a.b`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(REPO)}:{line}"


def test_nothing_outside_the_core_imports_its_private_modules() -> None:
    found = [
        f"{_where(path, line)} imports {name}"
        for path, tree in _modules(*OUTSIDE_CORE)
        for line, name in _imports(tree)
        if name.startswith("furu._")
    ]
    assert found == [], "use the public API in furu.__all__ (furu.Store, furu.StepDir, ...)"


def test_package_code_never_touches_a_steps_private_attributes() -> None:
    found = [
        f"{_where(path, node.lineno)} uses .{node.attr}"
        for path, tree in _modules(*PACKAGE_SOURCES)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr.startswith("_furu_")
    ]
    assert found == [], "use furu.step_id(step) / furu.step_dir(step)"


def test_the_core_imports_no_other_furu_package_and_no_scheduler() -> None:
    banned = ("furu_slurm", "furu_server", "furu_client", "submitit", "fastapi", "httpx")
    found = [
        f"{_where(path, line)} imports {name}"
        for path, tree in _modules(CORE_SRC)
        for line, name in _imports(tree)
        if name.split(".")[0] in banned
    ]
    assert found == []


def test_the_core_holds_no_scheduler_logic() -> None:
    found = []
    for path, tree in _modules(CORE_SRC):
        for node in ast.walk(tree):
            text = None
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            elif isinstance(node, ast.Name):
                text = node.id
            elif isinstance(node, ast.Attribute):
                text = node.attr
            if text and any(word in text for word in SCHEDULER_WORDS):
                found.append(f"{_where(path, node.lineno)}: {text[:60]!r}")
    assert found == [], "scheduler facts reach the core through furu.attempt_context()"


@pytest.mark.parametrize(
    ("package", "banned"),
    [
        ("furu-client", ("furu", "furu_server", "furu_slurm")),
        ("furu-server", ("furu_slurm", "submitit")),
    ],
)
def test_package_boundaries(package: str, banned: tuple[str, ...]) -> None:
    found = [
        f"{_where(path, line)} imports {name}"
        for path, tree in _modules(PACKAGES / package / "src")
        for line, name in _imports(tree)
        if name.split(".")[0] in banned
    ]
    assert found == []


def test_the_contract_sees_a_violation(tmp_path: Path) -> None:
    """The checks above read real imports: a planted one is found."""
    planted = tmp_path / "planted.py"
    planted.write_text("from furu._store import FURU_DIR\nimport furu._lock\nx.y._furu_hash\n")
    tree = ast.parse(planted.read_text())
    assert [name for _, name in _imports(tree)] == ["furu._store.FURU_DIR", "furu._lock"]
    assert any(isinstance(n, ast.Attribute) and n.attr == "_furu_hash" for n in ast.walk(tree))
