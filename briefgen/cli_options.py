"""What the command line's commands share: option groups (--config/--topic-file, the date
window), the --format option, commands whose help lists the project's topics or briefs, and
loading the configuration. ``briefgen.cli`` declares the commands with them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from briefgen.errors import BriefgenError

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

F = TypeVar("F", bound=Callable[..., Any])


def warn(message: str) -> None:
    """Print one warning line to stderr (control characters in it escaped: a file name must
    not forge a line of the log)."""
    from briefgen.names import printable

    click.echo(f"warning: {printable(message)}", err=True)


def config_options(func: F) -> F:
    """Add --config and --topic-file to a command that reads the configuration."""
    func = click.option(
        "--topic-file",
        "topic_files",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Extra topic file (YAML); may be given several times. config.yaml is not touched.",
    )(func)
    func = click.option(
        "--config",
        "-c",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Path to config.yaml (default: ./config.yaml).",
    )(func)
    return func


def load(config_path: Path | None, topic_files: tuple[Path, ...]) -> LoadedConfig:
    """Load and validate the configuration (every command that reads config does this first)."""
    from briefgen.config.load import load_config
    from briefgen.config.usage import with_cli_topics

    return with_cli_topics(load_config(config_path, topic_files=list(topic_files)), topic_files)


_DAY = click.DateTime(formats=["%Y-%m-%d"])
_WINDOW = (  # --as-of, --since, --within-days: on `select` and `build`
    click.option("--as-of", "as_of", type=_DAY, help="The corpus as it stood on this day: sources "
                 "dated later are left out, undated ones kept."),
    click.option("--since", type=_DAY, help="Only sources dated on or after this day."),
    click.option("--within-days", type=click.IntRange(min=1),
                 help="Only sources dated within N days before the as-of date (or today)."),
)


def window_options(func: F) -> F:
    """Add --as-of, --since and --within-days to a command that selects passages."""
    for option in reversed(_WINDOW):
        func = option(func)
    return func


class FormatOption(click.Option):
    """``--format``, whose help lists the output formats registered when it is shown."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from briefgen.outputs import OUTPUTS

        self.help = (
            f"Comma-separated output formats: {OUTPUTS.help_text()}. "
            "Default: the brief's own `formats`."
        )
        return super().get_help_record(ctx)


class NamesChoices(click.Command):
    """A command whose ``--help`` ends with the topics or briefs the project defines.

    The configuration is read (from --config, or ./config.yaml) only when help is shown; if it
    cannot be read, the help says which command lists them instead.
    """

    def __init__(self, *args: Any, choices: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = choices  # "topics" or "briefs"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["briefgen.args"] = list(args)  # --help exits while parsing: keep --config
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        formatter.write_paragraph()
        formatter.write_text(defined_names(self.choices, ctx.meta.get("briefgen.args", [])))


def defined_names(what: str, args: list[str]) -> str:
    """Say which topics or briefs the configuration named in ``args`` defines."""
    config, extra = None, []
    for i, arg in enumerate(args):
        value = args[i + 1] if i + 1 < len(args) else None
        if arg in ("-c", "--config"):
            config = value
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
        elif arg == "--topic-file" and value:
            extra.append(Path(value))
    try:
        cfg = load(Path(config) if config else None, tuple(extra))
    except BriefgenError:
        return f"`briefgen {what}` lists the {what} a project defines."
    names = list(cfg.topics) if what == "topics" else list(cfg.config.briefs)
    listed = ", ".join(names) or "none"
    where = config or "config.yaml"
    return f"{what.capitalize()} in {where}: {listed} (`briefgen {what}` describes them)."
