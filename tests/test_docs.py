"""The README cannot drift from the code: every command, option and output field is in it."""

from __future__ import annotations

import re

import click
import pytest

from twicetold.cli import cli
from twicetold.outputs import CLUSTERS_SCHEMA, DOCUMENT_FIELDS, PAIRS_SCHEMA, PASSAGE_TYPE

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, prefix + name + " ")
    return out


COMMANDS = _commands(cli)


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_is_documented_with_help_and_example(name: str, command: click.Command) -> None:
    assert f"twicetold {name}" in README
    assert command.help, f"{name} has no help text"
    if not isinstance(command, click.Group):
        assert "Example:" in command.help, f"{name} --help has no Example line"


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_option_is_documented(name: str, command: click.Command) -> None:
    for param in command.params:
        if isinstance(param, click.Option) and param.help != "Show this message and exit.":
            longest = max(param.opts, key=len)
            assert longest in README, f"{name}: option {longest} is not in the README"


@pytest.mark.parametrize("field", [*PAIRS_SCHEMA.names, *PASSAGE_TYPE.names, *CLUSTERS_SCHEMA.names, *DOCUMENT_FIELDS])
def test_every_output_field_is_documented(field: str) -> None:
    assert re.search(rf"`{field}`", README), f"output field {field} is not documented in the README"


def test_readme_opens_with_install_and_test_commands() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    lines = [line for line in first_block.strip().splitlines() if line.strip()]
    assert "pip install" in lines[0] and "twicetold scan examples/news" in lines[0]
    assert "pytest" in lines[1]
    assert (REPO / "examples" / "news").is_dir()
