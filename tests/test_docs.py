"""The README stays true: its settings reference and its commands."""

import re
from pathlib import Path

import typer.main

from docrelay.cli import app
from docrelay.config import settings_reference

README = Path(__file__).parent.parent / "README.md"


def test_settings_reference_matches_the_model() -> None:
    text = README.read_text()
    section = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", text, re.S)
    assert section, "README lacks the settings reference markers"
    assert section.group(1) == settings_reference(), (
        "README's settings table differs from the settings model; paste "
        "`python -c 'from docrelay.config import settings_reference as s; print(s())'`"
    )


def _commands(group: typer.Typer, prefix: str = "docrelay") -> list[str]:
    command = typer.main.get_group(group)
    names = []
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        if hasattr(sub, "commands"):
            names += [f"{prefix} {name} {inner}" for inner in sub.commands]
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_command_is_documented() -> None:
    text = README.read_text()
    commands = _commands(app)
    assert "docrelay serve" in commands and "docrelay keys create" in commands
    for command in commands:
        assert f"`{command}" in text, f"README does not document `{command}`"


def test_quick_start_names_the_test_command_ci_runs() -> None:
    ci = (README.parent / ".ci" / "run").read_text()
    assert "bash scripts/test" in ci
    assert "    bash scripts/test\n" in README.read_text()
