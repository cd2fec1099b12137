"""The output registry (a new format is one module and one template) and the HTML edition."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from briefdata import HOSTILE, TEMPLATES, make_brief
from click.testing import CliRunner

from briefgen.brief.model import Brief
from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.errors import ConfigError
from briefgen.outputs import OUTPUTS
from briefgen.outputs.base import RenderContext
from briefgen.outputs.markup import new_markdown
from briefgen.outputs.render import render_outputs
from briefgen.outputs.templates import render_template

# --- a toy format: one class here, one template in the project ------------------------------


class PlainTextOutput:
    """brief.txt from brief.txt.j2: what a newcomer's new format looks like."""

    name = "txt"
    filename = "brief.txt"
    summary = "plain text"
    guarded = True

    def render(self, brief: Brief, context: RenderContext) -> bytes:
        text = render_template(brief, context.template_dirs, "brief.txt.j2", escape="text")
        return text.encode("utf-8")


TXT_TEMPLATE = (
    "{{ brief.title | upper }}\n{% for s in brief.sections %}{{ s.title }}: "
    "{{ s.quotes | length }} quotes\n{% endfor %}"
)


@pytest.fixture
def plain_text() -> Iterator[None]:
    """The toy format, registered for one test."""
    OUTPUTS.register(PlainTextOutput())
    try:
        yield
    finally:
        OUTPUTS.unregister("txt")


def test_a_registered_format_is_validated_parsed_helped_and_built(
    plain_text: None, project: Path
) -> None:
    (project / "templates" / "brief.txt.j2").write_text(TXT_TEMPLATE, encoding="utf-8")
    config = project / "config.yaml"
    config.write_text(
        config.read_text("utf-8").replace("formats: [md, pdf, json]", "formats: [md, txt]"),
        encoding="utf-8",
    )
    assert load_config(config).config.briefs["japan-daily"].formats == ["md", "txt"]

    runner = CliRunner()
    assert "txt (plain text)" in runner.invoke(cli, ["build", "--help"]).output
    result = runner.invoke(cli, ["build", "-c", str(config), "--as-of", "2026-03-15"])
    assert result.exit_code == 0, result.output
    folder = project / "briefs" / "japan-daily"
    assert sorted(p.name for p in folder.iterdir()) == ["brief.md", "brief.txt"]
    text = (folder / "brief.txt").read_text("utf-8")
    assert text.startswith("JAPAN POLICY BRIEF\nSecurity and defence: ")

    out = project / "only-txt"
    result = runner.invoke(cli, ["build", "-c", str(config), "--format", "txt", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["brief.txt"]


def test_unknown_formats_are_refused_everywhere(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown format txt \(choose from md, html, pdf, json\)"):
        OUTPUTS.parse("md,txt")
    config = project / "config.yaml"
    text = config.read_text("utf-8")
    line = text.splitlines().index("    formats: [md, pdf, json]") + 1
    config.write_text(text.replace("formats: [md, pdf, json]", "formats: [md, txt]"), "utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(config)
    expected = (
        f"{config}:{line}:19: briefs.japan-daily.formats[1]: must be one of: md, html, pdf, "
        "json (got 'txt')"
    )
    assert info.value.problems == [expected]


def test_registry_refuses_a_second_format_of_the_same_name_or_file() -> None:
    with pytest.raises(ValueError, match="already registered"):
        OUTPUTS.register(OUTPUTS.get("md"))
    clash = PlainTextOutput()
    clash.filename = "brief.md"
    with pytest.raises(ValueError, match="already writes brief.md"):
        OUTPUTS.register(clash)
    assert OUTPUTS.names() == ["md", "html", "pdf", "json"]


# --- the HTML edition -------------------------------------------------------------------------


class Page(HTMLParser):
    """Every start tag with its attributes, the text, and the text of each element id'd."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def attrs(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def hostile() -> tuple[Brief, str, str]:
    """The hostile brief's brief.md and brief.html."""
    brief = make_brief(hostile=True)
    out = render_outputs(brief, ["md", "html"], [TEMPLATES])
    return brief, out["md"].decode("utf-8"), out["html"].decode("utf-8")


def test_html_edition_is_standalone(hostile: tuple[Brief, str, str]) -> None:
    _, _, page = hostile
    tags = parse(page)
    names = {t for t, _ in tags.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed", "base", "svg"}
    assert len(tags.attrs("style")) == 1 and "@import" not in page and "url(" not in page
    csp = [a for a in tags.attrs("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and (csp[0]["content"] or "").startswith("default-src 'none'")
    for tag, attrs in tags.tags:
        assert not any(k.startswith("on") for k in attrs), (tag, attrs)
        for key in ("src", "srcset", "background", "poster", "data"):
            assert key not in attrs, (tag, attrs)
        if tag == "a":  # links are followed by a reader, never fetched
            href = attrs.get("href") or ""
            assert href.startswith("#") or href == "https://asia.nikkei.com/a", href


def test_html_edition_has_the_markdowns_content_and_escaping(
    hostile: tuple[Brief, str, str],
) -> None:
    brief, md_text, page = hostile
    tags = parse(page)
    text = squash("".join(tags.text))
    for passage in HOSTILE:
        assert f"{passage} end." in text  # shown as text, not markup
    assert sum(1 for t, _ in tags.tags if t == "h1") == 1
    for c in brief.citations:
        assert squash(c.text) in text or c.text[:100] in text
        # One note per number, in the Notes (a passage cited again twice: two equal short notes).
        assert text.count(c.note) == sum(d.note == c.note for d in brief.citations)
    # Every in-page link (contents, note calls and back-links) lands on an element.
    ids = {a["id"] for _, a in tags.tags if a.get("id")}
    hrefs = {a["href"] for a in tags.attrs("a") if (a.get("href") or "").startswith("#")}
    assert hrefs and {h[1:] for h in hrefs} <= ids
    contents = re.findall(r"\]\(#([^)]+)\)", md_text)
    assert contents and set(contents) <= ids
    calls = [a for a in tags.attrs("a") if a.get("class") == "footnote-ref"]
    assert len(calls) == len(re.findall(r"(?<!\\)\[\^\d+\](?!:)", md_text))


def test_both_html_layouts_escape_alike() -> None:
    # brief.md is escaped for one Markdown configuration; both conversions must read it alike.
    assert new_markdown("screen").ESCAPED_CHARS == new_markdown("print").ESCAPED_CHARS
