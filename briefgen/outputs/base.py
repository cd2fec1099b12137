"""What an output format is, and the registry of them.

An :class:`Output` turns a :class:`~briefgen.brief.model.Brief` into the bytes of one file
(``brief.md``, ``brief.html``, ...). The registry (``briefgen.outputs.OUTPUTS``) is the one list
of formats: config validation of ``formats:`` and ``attach:``, ``--format`` parsing and its
``--help``, and the file writer all read it, so a new format is one module and one template.

This module and the output modules are cheap to import (the config schema imports them):
Jinja2, Python-Markdown and WeasyPrint are imported inside ``render``, in the render process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from briefgen.errors import ConfigError

if TYPE_CHECKING:
    from briefgen.brief.model import Brief

T = TypeVar("T")


@dataclass
class RenderContext:
    """What the outputs of one build share: the template folders, and work done once.

    ``once`` keeps a result (brief.md's text, which brief.html and brief.pdf are converted
    from) for the other outputs of the same build.
    """

    template_dirs: tuple[Path, ...]
    results: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], T]) -> T:
        """Return the result stored under ``key``, making it first if needed."""
        if key not in self.results:
            self.results[key] = make()
        return self.results[key]  # type: ignore[no-any-return]


#: ``RenderContext.results`` key: file name -> sha256 of the files rendered before an output
#: that records them (``records_files``: brief.json), which renders after the others.
FILES_KEY = "files"


def records_files(output: Output) -> bool:
    """Tell whether an output records the other files' sha256 (so it renders after them)."""
    return bool(getattr(output, "records_files", False))


class Output(Protocol):
    """One output format of a brief."""

    name: str  # in `formats:` and `--format`, e.g. "md"
    filename: str  # the file written into the brief's folder, e.g. "brief.md"
    summary: str  # one line for `--help` and the docs
    # True when rendering runs a user's template or stylesheet: then it happens only in the
    # render process, under its time and memory limits (briefgen._proc). False: in-process.
    guarded: bool

    def render(self, brief: Brief, context: RenderContext) -> bytes:
        """Return the file's bytes; raise RenderError naming the template on a mistake."""
        ...


@runtime_checkable
class LaidOutOutput(Protocol):
    """An output whose last step needs an engine that is slow to import (WeasyPrint).

    ``prepare`` runs with the templates; ``finish`` lays the prepared page out in a process
    that imported the engine ahead of time (``warm_up``), while the brief was being selected.
    ``render`` must equal ``finish(prepare(...))``.
    """

    def prepare(self, brief: Brief, context: RenderContext) -> Any:
        """Return what ``finish`` needs (picklable: it crosses to the layout process)."""
        ...

    def finish(self, prepared: Any) -> bytes:
        """Return the file's bytes from what ``prepare`` returned."""
        ...

    def warm_up(self) -> None:
        """Import the engine (run ahead of time in the layout process)."""
        ...


class OutputRegistry:
    """The output formats by name, in the order `--help` lists them."""

    def __init__(self, outputs: Iterable[Output]) -> None:
        self._outputs: dict[str, Output] = {}
        for output in outputs:
            self.register(output)

    def register(self, output: Output) -> None:
        """Add a format (its name must be new, its file name unused)."""
        if output.name in self._outputs:
            raise ValueError(f"an output named {output.name!r} is already registered")
        if any(o.filename == output.filename for o in self._outputs.values()):
            raise ValueError(f"another output already writes {output.filename}")
        self._outputs[output.name] = output

    def unregister(self, name: str) -> None:
        """Remove a format (tests register toy formats and remove them again)."""
        self._outputs.pop(name, None)

    def get(self, name: str) -> Output:
        """Return the format called ``name`` (a KeyError for an unknown one)."""
        return self._outputs[name]

    def names(self) -> list[str]:
        """Return every format's name, in registry order."""
        return list(self._outputs)

    def __contains__(self, name: object) -> bool:
        return name in self._outputs

    def __iter__(self) -> Iterator[Output]:
        return iter(list(self._outputs.values()))

    def choices(self) -> str:
        """Return "md, html, pdf, json": the names for messages."""
        return ", ".join(self._outputs)

    def name_problem(self, value: object) -> str | None:
        """Return why ``value`` is not a format name, or None when it is one."""
        import difflib

        if isinstance(value, str) and value in self._outputs:
            return None
        message = f"must be one of: {self.choices()}"
        if isinstance(value, str):
            close = difflib.get_close_matches(value, self.names(), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            return f"{message} (got '{value}'{hint})"
        return f"{message} (got {value!r})"

    def parse(self, value: str | None, option: str = "--format") -> list[str] | None:
        """Parse ``--format md,pdf`` (``None``: the brief's own formats)."""
        if value is None:
            return None
        formats = [f.strip().lower() for f in value.split(",") if f.strip()]
        unknown = [f for f in formats if f not in self._outputs]
        if unknown or not formats:
            raise ConfigError(
                f"{option}: unknown format {', '.join(unknown) or repr(value)} "
                f"(choose from {self.choices()})"
            )
        return list(dict.fromkeys(formats))

    def help_text(self) -> str:
        """Return the formats for `--help`: "md (Markdown), html (...), ..."."""
        return ", ".join(f"{o.name} ({o.summary})" for o in self)

    def layout_outputs(self, names: Iterable[str]) -> list[str]:
        """Return which of ``names`` are laid out in a warm process (see LaidOutOutput)."""
        return [n for n in names if isinstance(self._outputs.get(n), LaidOutOutput)]
