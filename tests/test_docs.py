"""Every CLI command has help, every setting is documented, and the quickstart is what CI runs."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

from pydantic import BaseModel

from digest.cli import parser
from digest.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            keys.extend(_keys(sub, f"{prefix}{key}."))
        else:
            keys.append(prefix + key)
    return keys


def test_every_command_has_help() -> None:
    subparsers = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert {"demo", "crawl", "build", "run"} <= set(subparsers.choices)
    for name, command in subparsers.choices.items():
        assert command.description, f"digest {name} has no description"
        for action in command._actions:
            assert action.help, f"digest {name} {action.option_strings} has no help"


def test_every_setting_is_in_readme_and_example_file() -> None:
    readme = (ROOT / "README.md").read_text()
    example = tomllib.loads((ROOT / "digest.toml").read_text())
    for key in _keys(Settings):
        assert f"`{key}`" in readme, f"{key} is not documented in README.md"
        node: object = example
        for part in key.split("."):
            assert isinstance(node, dict) and part in node, f"{key} is missing from digest.toml"
            node = node[part]


def test_quickstart_is_the_ci_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
