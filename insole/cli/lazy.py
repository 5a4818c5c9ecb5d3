"""A click group whose subcommands are imported only when they are run (or their own ``--help`` is asked for).

``insole --help`` lists every command from a table of names, modules and one-line summaries, without importing
any of them; ``insole analyze FILE`` imports the analysis and nothing of the recorder, the emulators, the batch
or the report. The summaries in the table are checked against the commands' own docstrings by a test
(tests/test_cli_startup.py), so they cannot drift apart.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand lives and the one line ``--help`` shows for it.

    Attributes
    ----------
    target : str
        ``"package.module:attribute"`` of the :class:`click.Command`.
    short_help : str
        The first sentence of the command's docstring, as click would show it.
    """

    target: str
    short_help: str

    def load(self) -> click.Command:
        """Import the module and return the command."""
        module, _, attribute = self.target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wrong table entry
            raise TypeError(f"{self.target} is not a click command")
        return command


class LazyGroup(click.Group):
    """A :class:`click.Group` that also holds commands by name and import path, loaded on first use."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands: dict[str, LazyCommand] = {}

    def add_lazy_command(self, name: str, target: str, short_help: str) -> None:
        """Register command ``name``, found at ``target`` (``"module:attribute"``), shown as ``short_help``."""
        self.lazy_commands[name] = LazyCommand(target, short_help)

    def add_lazy_commands(self, table: tuple[tuple[str, str, str], ...]) -> None:
        """Register every ``(name, target, short_help)`` of ``table``."""
        for name, target, short_help in table:
            self.add_lazy_command(name, target, short_help)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(self.lazy_commands[cmd_name].load(), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their summaries, importing none that is not loaded yet."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                rows.append((name, self.lazy_commands[name].short_help))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class LazyChoice(click.Choice):
    """A :class:`click.Choice` whose choices are computed on first use (when a value is checked), so that a
    command's ``--help`` does not import the registry that defines them. Give the parameter a ``metavar``."""

    def __init__(self, load: Callable[[], Sequence[str]], case_sensitive: bool = True) -> None:
        self._load = load
        self._choices: tuple[str, ...] | None = None
        self.case_sensitive = case_sensitive

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        if self._choices is None:
            self._choices = tuple(self._load())
        return self._choices

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        self._choices = tuple(value)
