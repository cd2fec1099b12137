"""`briefgen build --deliver`, `briefgen deliver` and `build --previous` on the seeds project,
with a real SMTP server and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
import yaml
from click.testing import CliRunner
from mailserver import HTTPServer, SMTPServer, http_server, smtp_server
from test_build import copy_project, indexed

from briefgen.cli import cli

CREDENTIALS = ("BRIEFGEN_SMTP_USERNAME", "BRIEFGEN_SMTP_PASSWORD", "BRIEFGEN_WEBHOOK_SECRET")


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def servers() -> Iterator[tuple[SMTPServer, HTTPServer]]:
    with smtp_server() as smtp, http_server() as hook:
        yield smtp, hook


def delivered_project(root: Path, smtp: SMTPServer, hook: HTTPServer) -> Path:
    """The seeds project (indexed) with japan-daily delivered to the test servers."""
    config = copy_project(root) / "config.yaml"
    data = yaml.safe_load(config.read_text("utf-8"))
    data["briefs"]["japan-daily"]["deliver"] = {
        "email": {
            "to": ["desk@example.org"],
            "from": "Japan Desk <briefs@example.org>",
            "smtp": {"host": smtp.host, "port": smtp.port, "security": "none"},
        },
        "webhook": {"url": hook.url},
    }
    config.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    indexed(root)
    return config


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_build_deliver_then_deliver_again(
    tmp_path: Path, servers: tuple[SMTPServer, HTTPServer]
) -> None:
    smtp, hook = servers
    config = delivered_project(tmp_path / "project", smtp, hook)
    code, output = invoke("build", "-c", str(config), "--as-of", "2026-03-15", "--deliver")
    assert code == 0, output
    folder = tmp_path / "project" / "briefs" / "japan-daily"
    # md, pdf, json as configured; the email's body (html) is built too.
    assert {p.name for p in folder.iterdir()} == {"brief.md", "brief.html", "brief.pdf", "brief.json"}
    assert "japan-daily: email: sent (250 2.0.0 OK queued as TEST0001)" in output
    assert "japan-daily: webhook: sent (HTTP 200)" in output

    [mail] = smtp.received
    message = mail.message
    assert message["Subject"] == "Japan Policy Brief — 2026-03-15"
    html = message.get_body(("html",)).get_content()
    assert html == (folder / "brief.html").read_text("utf-8")
    assert "<h1>Japan Policy Brief</h1>" in html and "<script" not in html
    assert message.get_body(("plain",)).get_content().startswith("# Japan Policy Brief\n")
    [pdf] = list(message.iter_attachments())
    assert pdf.get_filename() == "japan-daily-2026-03-15.pdf"
    reader = pypdf.PdfReader(io.BytesIO(pdf.get_content()))
    assert "Japan Policy Brief" in reader.pages[0].extract_text()
    payload = json.loads(hook.requests[0].body)
    assert payload["slot"] is None and payload["date"] == "2026-03-15"
    assert payload["files"]["html"] == "briefs/japan-daily/brief.html"
    assert [s["topic"] for s in payload["sections"]] == ["security", "trade", "china", "korea"]

    code, output = invoke("deliver", "japan-daily", "-c", str(config), "--to", "boss@example.org")
    assert code == 0, output
    assert len(smtp.received) == 2 and len(hook.requests) == 1  # --to: the email only
    again = smtp.received[1]
    assert again.rcpt_tos == ["boss@example.org"] and again.message["To"] == "boss@example.org"
    assert again.message["Message-ID"] != message["Message-ID"]  # a re-send is a new message

    code, history = invoke("history", "-c", str(config))
    assert code == 0
    lines = history.splitlines()
    assert "manual build" in lines[1] and "done" in lines[1]
    assert lines[2].strip().startswith("-> email: sent, 1 try")
    assert lines[3].strip().startswith("-> webhook: sent, 1 try")
    assert lines[4].strip().startswith("-> email re-send to boss@example.org: sent, 1 try")

    code, output = invoke("deliver", "japan-daily", "-c", str(config), "--run", "99")
    assert code == 1 and output.strip() == (
        "error: run 99 is not a run of japan-daily; see `briefgen history japan-daily`"
    )
    code, output = invoke("deliver", "japan-daily", "-c", str(config), "--to", "not an address")
    assert code == 2 and "--to not an address: 'not an address' is not an email address" in output


def test_build_deliver_needs_a_deliver_section(project: Path) -> None:
    code, output = invoke("build", "-c", str(project / "config.yaml"), "--deliver")
    assert code == 2
    assert output.strip() == (
        "config.yaml: briefs.japan-daily has no deliver: section; add deliver: email: or "
        "webhook: (see docs/scheduling.md)"
    )


def test_build_previous_marks_what_is_new(tmp_path: Path) -> None:
    config = indexed(copy_project(tmp_path / "project")).path
    out = tmp_path / "out"
    code, output = invoke("build", "-c", str(config), "--format", "json", "--out", str(out),
                          "--as-of", "2026-03-14")
    assert code == 0, output
    record = json.loads((out / "brief.json").read_text("utf-8"))
    first = record["key_points"][0]["citation"]  # the first key point; its passage's notes in
    for section in record["sections"]:  # the sections point back to it (see_note)
        section["passages"] = [p for p in section["passages"] if p["see_note"] != first]
    (out / "brief.json").write_text(json.dumps(record), "utf-8")

    code, output = invoke("build", "-c", str(config), "--format", "md", "--out", str(tmp_path),
                          "--as-of", "2026-03-15", "--previous", str(out / "brief.json"))
    assert code == 0, output
    md = (tmp_path / "brief.md").read_text("utf-8")
    assert "\n\n1 new since March 14, 2026 (marked **New**).\n\n## Key points" in md
    key_points = md.split("## Key points")[1].split("##")[0]
    assert key_points.count("**New**") == 1
    assert key_points.strip().startswith("- **New** **Security and defence:**")

    code, output = invoke("build", "-c", str(config), "--format", "md", "--out", str(tmp_path),
                          "--as-of", "2026-03-15", "--previous", str(out / "missing.json"))
    assert code == 2 and "does not exist" in output
