"""Brief templates: Jinja2's immutable sandbox, with escaping that matches the output.

Templates are the user's to change, so they run in the sandbox with ``StrictUndefined``, and
every mistake in one becomes a RenderError naming the template file and line. In a Markdown
template every ``{{ … }}`` value is escaped for Markdown unless a filter marked it safe, and in
an HTML template for HTML: corpus text can never become markup by omission.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from briefgen.brief.cite import long_date
from briefgen.brief.model import Brief
from briefgen.errors import RenderError
from briefgen.outputs.guard import stage
from briefgen.outputs.markup import escape_markdown, github_slug, new_markdown

# A URL we are willing to turn into a link: http(s), and nothing Markdown or HTML treats specially.
_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+$")

Escape = Literal["markdown", "html", "text"]


def find_template_dirs(root: Path, template_dir: str | None) -> list[Path]:
    """Return the folders templates are looked up in: the brief's own, then the project's."""
    dirs = []
    if template_dir:
        own = Path(template_dir) if Path(template_dir).is_absolute() else root / template_dir
        if not own.is_dir():
            raise RenderError(f"template folder {own} does not exist (briefs.*.template_dir)")
        # The PDF may embed any file of a template folder (<a rel=attachment>): never a
        # folder that holds the user's home, or the whole file system.
        real, home = own.resolve(), Path(os.path.expanduser("~")).resolve()
        if real == Path(real.anchor) or home.is_relative_to(real):
            raise RenderError(
                f"template folder {own} (briefs.*.template_dir) is the filesystem root or holds "
                "a home folder: a template could attach any file in it to the PDF; use a folder "
                "that holds only templates, e.g. templates/"
            )
        dirs.append(own)
    project = root / "templates"
    if project.is_dir() and project not in dirs:
        dirs.append(project)
    if not dirs:
        raise RenderError(
            f"no templates folder in {root}: run `briefgen init` or set template_dir for the brief"
        )
    return dirs


def render_template(
    brief: Brief,
    template_dirs: Sequence[Path],
    name: str,
    *,
    escape: Escape,
    extra: dict[str, Any] | None = None,
) -> str:
    """Render the template ``name`` for ``brief``, every printed value escaped for ``escape``.

    ``markdown``: values are made inert Markdown (filter ``url`` gives a safe autolink);
    ``html``: Jinja2's HTML autoescape; ``text``: printed as they are (for plain-text formats,
    where nothing is markup). Filters everywhere: ``anchor`` (a heading's GitHub anchor),
    ``longdate`` ("March 15, 2026"), ``count`` ("105,359").
    """
    if escape == "markdown":
        md = new_markdown()
        env = _environment(template_dirs, autoescape=False, finalize=_markdown_finalizer(md))
        env.filters["url"] = lambda url: _markdown_url(url, md)
    else:
        env = _environment(template_dirs, autoescape=escape == "html", finalize=None)
    return _render(env, name, brief, extra or {})


def find_file(template_dirs: Sequence[Path], name: str) -> Path:
    """Return the first template folder's copy of a file."""
    for d in template_dirs:
        if (d / name).is_file():
            return d / name
    raise RenderError(f"{name} not found in {', '.join(str(d) for d in template_dirs)}")


def _environment(
    template_dirs: Sequence[Path], *, autoescape: bool, finalize: Callable[[Any], Any] | None
) -> ImmutableSandboxedEnvironment:
    """Return a sandboxed environment with the filters the brief templates use."""
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["anchor"] = lambda text: Markup(github_slug(str(text)))
    env.filters["longdate"] = long_date
    env.filters["count"] = lambda n: f"{int(n):,}"  # 105359 → "105,359"
    return env


def _render(env: ImmutableSandboxedEnvironment, name: str, brief: Brief, extra: dict[str, Any]) -> str:
    """Render one template; any mistake in it becomes a RenderError with file and line."""
    try:
        template = env.get_template(name)
        stage(f"template {template.filename or name}")
        return template.render(brief=brief, corpus=brief.corpus, **extra)
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name}:{exc.lineno}"
        raise RenderError(f"brief {brief.name}: {where}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        dirs = ", ".join(str(d) for d in env.loader.searchpath)  # type: ignore[union-attr]
        raise RenderError(f"brief {brief.name}: template {exc.name} not found in {dirs}") from None
    except Exception as exc:  # noqa: BLE001 - any runtime mistake in a user's template
        where = _template_location(exc) or name
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise RenderError(f"brief {brief.name}: {where}: {message}") from None


def _template_location(exc: BaseException) -> str | None:
    """Find the template file and line an exception was raised from (Jinja rewrites frames)."""
    location = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith((".j2", ".html", ".md")):
            location = f"{filename}:{tb.tb_lineno}"
        tb = tb.tb_next
    return location


def _markdown_finalizer(md: Any) -> Callable[[Any], str]:
    """Escape every value a Markdown template prints, unless a filter marked it safe."""

    def finalize(value: Any) -> str:
        if isinstance(value, Markup):
            return str(value)
        if value is None:
            return ""
        return escape_markdown(str(value), md)

    return finalize


def _markdown_url(url: str | None, md: Any) -> Markup:
    """Render a source URL as a Markdown autolink when it is a plain http(s) URL, else as text."""
    if not url:
        return Markup("")
    if _SAFE_URL.match(url):
        return Markup(f"<{url}>")
    return Markup(escape_markdown(url, md))
