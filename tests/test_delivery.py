"""Scheduled delivery end to end: run-due builds, publishes, then sends by email and webhook to
real servers on 127.0.0.1, exactly once per slot; failures are recorded and retried.

Builds are the fake of tests/fake_pipeline.py (one file per format), so these tests measure
delivery, not rendering; tests/test_delivery_cli.py sends a real brief.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner
from fake_pipeline import FakeBuild
from mailserver import (
    SMTP_PASSWORD,
    SMTP_USERNAME,
    WEBHOOK_SECRET,
    HTTPServer,
    SMTPServer,
    closed_port,
    http_server,
    smtp_server,
)

from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.errors import ConfigError
from briefgen.schedule import deliveries
from briefgen.schedule.foreground import run_forever
from briefgen.schedule.report import format_history
from briefgen.schedule.run_due import RunDueResult, run_due
from briefgen.schedule.sqlite_history import RunState
from briefgen.schedule.state import open_history, runs_db_path

TOKYO = ZoneInfo("Asia/Tokyo")
SLOT_1 = datetime(2025, 3, 10, 7, 5, tzinfo=TOKYO)  # five minutes after Monday's 07:00 slot
CREDENTIALS = ("BRIEFGEN_SMTP_USERNAME", "BRIEFGEN_SMTP_PASSWORD", "BRIEFGEN_WEBHOOK_SECRET")


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without delivery secrets in the environment."""
    for name in CREDENTIALS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def hook() -> Iterator[HTTPServer]:
    with http_server() as server:
        yield server


def email(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "to": ["desk@example.org"],
        "from": "Briefs <briefs@example.org>",
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
        "attach": ["pdf"],
        **extra,
    }


def project(root: Path, deliver: dict[str, Any], *, index: dict[str, Any] | None = None,
            **brief: Any) -> Any:
    """Write a config with one brief, `daily` (07:00 Tokyo), delivered as ``deliver`` says
    (``index``: the index settings, so the run history's backend; default SQLite)."""
    data = {
        "index": index or {},
        "topics": {"t": {"title": "T", "terms": {"japan": 1}}},
        "topic_files": [],
        "briefs": {
            "daily": {
                "title": "Daily",
                "topics": ["t"],
                "formats": ["md", "pdf", "json"],
                "schedule": {"cron": "0 7 * * *", "timezone": "Asia/Tokyo"},
                "deliver": deliver,
                **brief,
            }
        },
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_config(path)


class Scheduler:
    """run_due with the fake build; collects what it printed."""

    def __init__(self, cfg: Any) -> None:
        self.cfg, self.build, self.lines = cfg, FakeBuild(), []

    def __call__(self, now: datetime) -> RunDueResult:
        return run_due(
            self.cfg, now=now, echo=self.lines.append, build=self.build,
            refresh_index=lambda *a, **k: None,
        )

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def deliveries_of(cfg: Any) -> list[tuple[str, str, int, str | None]]:
    """Return (channel, status, attempts, answer) of every delivery, oldest first."""
    with open_history(cfg) as state:
        runs = reversed(state.history(None, limit=100))
        return [(d.channel, d.status, d.attempts, d.answer) for r in runs for d in r.deliveries]


# --- exactly once ---------------------------------------------------------------------------


def test_each_slot_is_mailed_and_posted_once(
    tmp_path: Path, smtp: SMTPServer, hook: HTTPServer, monkeypatch: pytest.MonkeyPatch,
    index_settings: dict[str, Any],
) -> None:
    monkeypatch.setenv("BRIEFGEN_WEBHOOK_SECRET", WEBHOOK_SECRET)
    cfg = project(tmp_path, {"email": email(smtp.port), "webhook": {"url": hook.url}},
                  index=index_settings)
    run = Scheduler(cfg)

    first = run(SLOT_1)
    assert first.exit_code == 0 and first.built == [("daily", "2025-03-09T22:00:00Z")]
    assert first.delivered == [("daily", "email"), ("daily", "webhook")]
    assert len(smtp.received) == 1 and len(hook.requests) == 1
    folder = tmp_path / "briefs" / "daily" / "2025-03-10"
    # The email: the HTML edition as body, the Markdown as its plain twin, the PDF attached.
    message = smtp.received[0].message
    assert message["Subject"] == "Daily — 2025-03-10"
    assert message["To"] == "desk@example.org"
    assert message["Message-ID"] == "<briefgen.daily.20250309T2200Z@example.org>"
    assert message.get_body(("html",)).get_content() == (folder / "brief.html").read_text()
    assert message.get_body(("plain",)).get_content() == (folder / "brief.md").read_text()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "daily-2025-03-10.pdf"
    assert attachment.get_content() == (folder / "brief.pdf").read_bytes()
    # The POST: the summary, signed, checked by the receiving server.
    request = hook.requests[0]
    assert hook.signature_ok(request)
    assert json.loads(request.body) == {
        "brief": "daily",
        "title": "Daily",
        "date": "2025-03-10",
        "generated_at": "2025-03-10T00:00:00Z",
        "slot": "2025-03-10T07:00:00+09:00",
        "files": {fmt: f"briefs/daily/2025-03-10/brief.{fmt}" for fmt in
                  ("md", "html", "pdf", "json")},
        "sections": [{"topic": "t", "title": "T", "passages": 1}],
        "new_since_previous": None,
    }

    again = run(SLOT_1 + timedelta(minutes=5))
    assert again.exit_code == 0 and again.built == [] and again.delivered == []
    assert len(smtp.received) == 1 and len(hook.requests) == 1

    tuesday = run(SLOT_1 + timedelta(days=1))
    assert tuesday.delivered == [("daily", "email"), ("daily", "webhook")]
    assert len(smtp.received) == 2 and len(hook.requests) == 2
    assert smtp.received[1].message["Message-ID"] == "<briefgen.daily.20250310T2200Z@example.org>"
    assert json.loads(hook.requests[1].body)["new_since_previous"] == 1
    assert [(c, s) for c, s, _, _ in deliveries_of(cfg)] == [
        ("email", "sent"), ("webhook", "sent"), ("email", "sent"), ("webhook", "sent")
    ]


# --- failures -------------------------------------------------------------------------------


def test_server_down_the_brief_is_built_and_sent_once_when_the_server_is_back(
    tmp_path: Path, index_settings: dict[str, Any],
) -> None:
    with closed_port() as port:
        cfg = project(tmp_path, {"email": email(port)}, index=index_settings)
        run = Scheduler(cfg)
        down = run(SLOT_1)
    assert down.built == [("daily", "2025-03-09T22:00:00Z")] and down.exit_code == 1
    assert (tmp_path / "briefs" / "daily" / "latest" / "brief.pdf").is_file()
    [(channel, status, attempts, answer)] = deliveries_of(cfg)
    assert (channel, status, attempts) == ("email", "failed", 1)
    assert answer is not None and "connect failed" in answer and "refused" in answer.lower()
    assert "try 1 of 8" in run.text
    history = format_history(cfg, "daily", limit=5)
    assert "-> email: failed, 1 try" in history and "next after 2025-03-09 22:10:00" in history

    with smtp_server(port=port) as server:
        early = run(SLOT_1 + timedelta(minutes=2))  # the next try waits five minutes
        assert early.delivered == [] and server.received == []
        back = run(SLOT_1 + timedelta(minutes=6))
        assert back.delivered == [("daily", "email")] and back.exit_code == 0
        assert run(SLOT_1 + timedelta(minutes=30)).delivered == []
        assert len(server.received) == 1
    assert run.build.built() == [datetime(2025, 3, 10).date()]  # never rebuilt
    assert deliveries_of(cfg)[0][:3] == ("email", "sent", 2)


def test_retries_stop_at_the_cap(tmp_path: Path) -> None:
    with closed_port() as port:
        run = Scheduler(project(tmp_path, {"email": email(port)}))
        now = SLOT_1
        for _ in range(deliveries.MAX_ATTEMPTS + 2):
            run(now)
            now += timedelta(hours=2)
    [(_, status, attempts, _)] = deliveries_of(run.cfg)
    assert (status, attempts) == ("gave-up", deliveries.MAX_ATTEMPTS)
    assert f"giving up ({deliveries.MAX_ATTEMPTS} tries)" in run.text


def test_a_550_is_given_up_with_the_servers_message(tmp_path: Path, smtp: SMTPServer) -> None:
    smtp.handler.refuse["desk@example.org"] = "550 5.1.1 <desk@example.org>: User unknown"
    cfg = project(tmp_path, {"email": email(smtp.port)})
    run = Scheduler(cfg)
    assert run(SLOT_1).exit_code == 1
    assert run(SLOT_1 + timedelta(hours=1)).exit_code == 0  # not tried again
    [(_, status, attempts, answer)] = deliveries_of(cfg)
    assert (status, attempts) == ("gave-up", 1)
    assert answer is not None and "550 5.1.1 <desk@example.org>: User unknown" in answer
    assert smtp.received == []
    assert "-> email: gave-up, 1 try" in format_history(cfg, None, limit=5)


def test_http_errors_that_may_pass_are_retried_others_given_up(
    tmp_path: Path, hook: HTTPServer
) -> None:
    cfg = project(tmp_path, {"webhook": {"url": hook.url}})
    run = Scheduler(cfg)
    hook.status, hook.answer = 503, b"maintenance"
    run(SLOT_1)
    hook.status, hook.answer = 404, b"no such hook"
    run(SLOT_1 + timedelta(minutes=6))
    run(SLOT_1 + timedelta(hours=2))
    assert len(hook.requests) == 2
    [(_, status, attempts, answer)] = deliveries_of(cfg)
    assert (status, attempts) == ("gave-up", 2) and answer is not None and "HTTP 404" in answer


# --- credentials ------------------------------------------------------------------------------


def test_smtp_login_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFGEN_SMTP_USERNAME", SMTP_USERNAME)
    monkeypatch.setenv("BRIEFGEN_SMTP_PASSWORD", SMTP_PASSWORD)
    with smtp_server(auth=True) as server:
        run = Scheduler(project(tmp_path, {"email": email(server.port)}))
        assert run(SLOT_1).delivered == [("daily", "email")]
    assert [m.login for m in server.received] == [SMTP_USERNAME]


def test_a_wrong_password_is_one_line_without_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "not-the-Pa55word-xyz"
    monkeypatch.setenv("BRIEFGEN_SMTP_USERNAME", SMTP_USERNAME)
    monkeypatch.setenv("BRIEFGEN_SMTP_PASSWORD", wrong)
    with smtp_server(auth=True) as server:
        cfg = project(tmp_path, {"email": email(server.port)})
        run = Scheduler(cfg)
        assert run(SLOT_1).exit_code == 1
        result = CliRunner().invoke(cli, ["deliver", "daily", "-c", str(cfg.path)])
    assert server.received == []
    assert result.exit_code == 1
    [line] = result.output.splitlines()[1:]  # after "daily: sending run 1 ... again by email"
    assert "535" in line and "check BRIEFGEN_SMTP_USERNAME" in line
    for text in (run.text, result.output, runs_db_path(cfg).read_bytes().decode("utf-8", "replace")):
        assert wrong not in text and SMTP_PASSWORD not in text
    assert [s for _, s, _, _ in deliveries_of(cfg)] == ["gave-up", "gave-up"]


# --- a crash between the server's acceptance and the record -----------------------------------


def test_a_crash_after_acceptance_sends_again_with_the_same_message_id(
    tmp_path: Path, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = project(tmp_path, {"email": email(smtp.port)})
    run = Scheduler(cfg)
    record = RunState.end_delivery

    def die_before_recording(self: RunState, delivery_id: int, status: str, *a: Any, **k: Any) -> None:
        if status == "sent":
            raise KeyboardInterrupt  # the process is gone: nothing below runs
        record(self, delivery_id, status, *a, **k)

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(RunState, "end_delivery", die_before_recording)
        run(SLOT_1)
    assert len(smtp.received) == 1
    assert [s for _, s, _, _ in deliveries_of(cfg)] == ["sending"]

    after = run(SLOT_1 + timedelta(minutes=1))
    assert after.delivered == [("daily", "email")]
    assert "was interrupted while sending" in run.text
    ids = [m.message["Message-ID"] for m in smtp.received]
    assert len(ids) == 2 and ids[0] == ids[1]  # the same message: a mail client shows it once
    assert deliveries_of(cfg)[0][:3] == ("email", "sent", 2)
    run(SLOT_1 + timedelta(minutes=2))
    assert len(smtp.received) == 2


# --- configuration, history --------------------------------------------------------------------


def test_a_channel_removed_from_the_config_is_given_up(tmp_path: Path) -> None:
    with closed_port() as port:
        run = Scheduler(project(tmp_path, {"email": email(port)}))
        run(SLOT_1)
    run.cfg = project(tmp_path, {"webhook": {"url": "http://127.0.0.1:9/x"}})
    run(SLOT_1 + timedelta(minutes=10))
    [(_, status, _, answer)] = deliveries_of(run.cfg)
    assert status == "gave-up" and answer == "briefs.daily.deliver.email is no longer in config.yaml"


def line_of(path: Path, text: str, after: str = "") -> int:
    """Return the number of the first line holding ``text`` (after the line holding ``after``)."""
    lines = path.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


def test_attachments_must_be_formats_the_brief_writes(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    with pytest.raises(ConfigError) as info:
        project(tmp_path, {"email": email(25, attach=["pdf", "html", "docx"])}, formats=["md", "pdf"])
    html_line, docx_line = line_of(path, "- html", "attach:"), line_of(path, "- docx", "attach:")
    assert info.value.problems == [
        (f"{path}:{html_line}:11: briefs.daily.deliver.email.attach[1]: this brief does not write "
        "html (formats: md, pdf); add it to the brief's formats or attach one of those"),
        (f"{path}:{docx_line}:11: briefs.daily.deliver.email.attach[2]: must be one of: md, html, "
        "pdf, json (got 'docx')"),
    ]
    by_default = {k: v for k, v in email(25).items() if k != "attach"}
    with pytest.raises(ConfigError) as info:
        project(tmp_path, {"email": by_default}, formats=["md"])
    assert info.value.problems == [
        (f"{path}:{line_of(path, 'email:')}:7: briefs.daily.deliver.email: attaches pdf by "
        "default, which this brief does not write (formats: md); add pdf to its formats, or "
        "set attach: to some of them (or [])")
    ]


def test_history_from_before_deliveries_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, brief TEXT NOT NULL, slot TEXT NOT NULL, "
        "attempt INTEGER NOT NULL, status TEXT NOT NULL, started TEXT NOT NULL, finished TEXT, "
        "error TEXT, out_dir TEXT, UNIQUE (brief, slot, attempt));"
        "CREATE TABLE run_files (run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE, "
        "path TEXT NOT NULL, sha256 TEXT NOT NULL);"
        "INSERT INTO runs VALUES (7, 'daily', '2025-03-09T22:00:00Z', 1, 'done', "
        "'2025-03-09T22:00:01Z', '2025-03-09T22:00:03Z', NULL, 'briefs/daily/2025-03-10');"
        "INSERT INTO run_files VALUES (7, 'briefs/daily/2025-03-10/brief.md', 'ab');"
        "PRAGMA user_version = 1;"
    )
    old.close()
    with RunState(path) as state:
        [row] = state.history("daily", limit=5)
        assert (row.id, row.kind, row.status, row.files) == (
            7, "scheduled", "done", (("briefs/daily/2025-03-10/brief.md", "ab"),)
        )
        manual = state.record_manual("daily", "out", [], {"title": "Daily"}, ["webhook"])
        assert state.latest_built("daily").id == manual  # type: ignore[union-attr]
        assert [d.status for d in state.run(manual).deliveries] == ["pending"]  # type: ignore[union-attr]


def test_the_foreground_scheduler_wakes_for_a_delivery_retry(tmp_path: Path) -> None:
    clock = [datetime(2025, 3, 10, 6, 59, tzinfo=TOKYO)]
    lines: list[str] = []

    def wait(seconds: float) -> bool:
        clock[0] += timedelta(seconds=seconds)
        return clock[0] >= datetime(2025, 3, 10, 7, 30, tzinfo=TOKYO)

    with closed_port() as port:
        cfg = project(tmp_path, {"email": email(port)})
        run_forever(
            cfg.path, topic_files=[], echo=lines.append, build=FakeBuild(),
            refresh_index=lambda *a, **k: None, clock=lambda: clock[0], wait=wait,
            load=load_config,
        )
    tries = [line.split("(try ")[1].split(",")[0] for line in lines if "(try " in line]
    # 07:00 fails; tried again 5 minutes later, then 10 minutes after that (07:15).
    assert tries == ["1 of 8", "2 of 8", "3 of 8"]
