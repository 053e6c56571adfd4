"""ruff and mypy stay clean: the checks the style guide asks for, run with the suite."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "digest", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def _modules() -> list[Path]:
    return sorted((ROOT / "digest").rglob("*.py"))


def test_no_module_is_over_500_lines_and_no_cli_module_over_200() -> None:
    long = {}
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = 200 if path.parent.name == "cli" else 500
        if lines > limit:
            long[str(path.relative_to(ROOT))] = lines
    assert not long, f"modules over their limit (500 lines, 200 in digest/cli/): {long}"


def _private_imports(path: Path) -> list[str]:
    """`from x import _name` where x is a dependency or another package of digest's."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            home = node.module if (ROOT / node.module.replace(".", "/")).is_dir() else None
            source = home or node.module.rpartition(".")[0]
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                if private and source != package:
                    found.append(
                        f"{path.relative_to(ROOT)}: from {node.module} import {alias.name}"
                    )
    return found


def test_no_module_imports_a_private_name_of_another_package() -> None:
    found = [line for path in _modules() for line in _private_imports(path)]
    assert not found, "\n".join(found)


def test_ops_and_cli_use_only_what_pipeline_exports() -> None:
    """Names taken from `digest.pipeline` (imported, or read as `pipeline.x`) are in its
    __all__; the contract `pipeline-face` keeps them off its modules."""
    from digest import pipeline

    found = []
    for path in _modules():
        if path.parent.name not in ("ops", "cli"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "digest.pipeline":
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.Attribute) and ast.unparse(node.value) == "pipeline":
                names = [node.attr]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n not in pipeline.__all__]
    assert not found, "not in digest.pipeline.__all__:\n" + "\n".join(found)


def test_import_contracts_hold() -> None:
    """The rooms' import rules in pyproject.toml (see docs/architecture.md)."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
