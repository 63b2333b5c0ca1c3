"""Issue 14, files and processes: shared folders, months known to be wrong, disk errors, odd
files in the cache folder, Ctrl-C and closed pipes, and rough edges (SPEC §4–6, §13, §14)."""

# ruff: noqa: F811 - `emulator_env` is test_fetch's fixture, imported to be used here too

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest
from rich.console import Console

from cursor_billing.cache import write_private
from cursor_billing.emulator import Emulator, Fault
from cursor_billing.months import Month
from cursor_billing.render.progress import FetchProgress
from tests.helpers import usage_event, write_cache_file
from tests.test_fetch import (
    FAST_CONFIG,
    JAN,
    KEY,
    UTC,
    cached_events,
    canonical,
    emulator_env,  # noqa: F401 - a fixture
    endpoint_requests,
    expected,
    fetcher_at,
    month_events,
)

CACHE_NAME = "01-2026-usage-based-data.json"
NOBODY = 65534
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="needs root to act as a second user (chown, setpriv); the suite does not run as root",
)


def cache_folder(isolated: Path) -> Path:
    return isolated / "data" / "monthly_usage_data"


# -- 1. shared folders -------------------------------------------------------------------------


def test_a_planted_link_at_the_old_temporary_name_is_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("the victim's own file")
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    target = folder / CACHE_NAME
    # v1's predictable name `.<name>.<pid>.tmp`, and a few pids around it
    for pid in range(os.getpid() - 2, os.getpid() + 3):
        (folder / f".{CACHE_NAME}.{pid}.tmp").symlink_to(victim)
    write_private(target, b"new content")
    assert victim.read_text() == "the victim's own file"
    assert not target.is_symlink() and target.read_bytes() == b"new content"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_report_into_a_shared_folder_is_created_fresh_and_private(cli, isolated, tmp_path):
    write_cache_file(isolated / "data", "01-2026", [usage_event(JAN.start_ms(UTC) + 5)])
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "victim.html"
    victim.write_text("keep me")
    (shared / f".spend.html.{os.getpid()}.tmp").symlink_to(victim)
    result = cli("report", "--month", "01-2026", "--output", str(shared / "spend.html"))
    assert result.exit_code == 0, result.stderr
    report = shared / "spend.html"
    assert victim.read_text() == "keep me"
    assert not report.is_symlink() and "<html" in report.read_text()
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert report.stat().st_uid == os.geteuid()


def test_a_lock_file_planted_as_a_link_is_not_followed(cli, isolated, tmp_path):
    write_cache_file(isolated / "data", "01-2026", [], complete=False)  # so the fetch has work
    elsewhere = tmp_path / "created-through-the-link"
    (cache_folder(isolated) / ".fetch.lock").symlink_to(elsewhere)
    (isolated / "config.yaml").write_text(FAST_CONFIG)
    result = cli(
        "fetch",
        "--month",
        "01-2026",
        env={"CURSOR_API_KEY": KEY, "CURSOR_API_BASE_URL": "http://127.0.0.1:9"},
    )
    assert result.exit_code == 1
    assert ".fetch.lock" in result.stderr and "unexpected" not in result.stderr
    assert not elsewhere.exists()


@pytest.mark.parametrize("mode", [0o777, 0o1777])
@pytest.mark.parametrize("which", ["data", "data/monthly_usage_data"])
def test_a_world_writable_data_or_cache_folder_is_refused(cli, isolated, mode, which):
    write_cache_file(isolated / "data", "01-2026", [usage_event(JAN.start_ms(UTC) + 5)])
    folder = isolated / which
    folder.chmod(mode)
    for command in (["analyze"], ["cache", "ls"], ["report"], ["cache", "purge", "--all", "-y"]):
        result = cli(*command)
        assert result.exit_code == 1, command
        assert f"refusing {Path(which)}" in result.stderr
        assert f"chmod 700 {Path(which)}" in result.stderr
    assert (cache_folder(isolated) / CACHE_NAME).exists()
    assert not (isolated / "data" / "billing_dashboard.html").exists()


@needs_root
@pytest.mark.parametrize("which", ["data", "data/monthly_usage_data"])
def test_a_folder_of_another_user_is_refused_before_anything_is_read(cli, isolated, which):
    write_cache_file(isolated / "data", "01-2026", [usage_event(JAN.start_ms(UTC) + 5)])
    # Another user pre-created the folder (here: handed to `nobody`), private to them or not.
    os.chown(isolated / which, NOBODY, NOBODY)
    (isolated / "config.yaml").write_text(FAST_CONFIG)
    env = {"CURSOR_API_KEY": KEY, "CURSOR_API_BASE_URL": "http://127.0.0.1:9"}
    for command in (["analyze"], ["cache", "ls"], ["report"], ["fetch", "--month", "02-2026"]):
        result = cli(*command, env=env)
        assert result.exit_code == 1, command
        assert f"refusing {Path(which)}: it belongs to another user" in result.stderr
    assert sorted(p.name for p in cache_folder(isolated).iterdir()) == [CACHE_NAME]


# -- 2. months known to be wrong ---------------------------------------------------------------


class _MiscountingEmulator(Emulator):
    """Announces one event more than it holds while `miscount` is set: counts that disagree."""

    miscount = True

    def _page(self, query):  # type: ignore[no-untyped-def]
        body = super()._page(query)
        if not self.miscount:
            return body
        document = json.loads(body)
        document["totalUsageEventsCount"] += 1
        return json.dumps(document).encode()


@pytest.fixture
def miscounting(isolated, monkeypatch):
    emulator = _MiscountingEmulator(month_events(JAN, 150), api_key=KEY, rate_limit=None)
    emulator.start()
    monkeypatch.setenv("CURSOR_API_KEY", KEY)
    monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
    (isolated / "config.yaml").write_text(FAST_CONFIG)
    yield emulator
    emulator.stop()


def test_a_month_whose_counts_disagree_twice_is_saved_unreliable_and_fails(
    cli, isolated, miscounting
):
    result = cli("fetch", "--month", "01-2026", "--page-size", "100")
    assert result.exit_code == 1
    assert "unreliable" in result.stderr and "saved as unreliable" in result.stderr
    document = json.loads((cache_folder(isolated) / CACHE_NAME).read_text())
    assert document["complete"] is False
    assert document["warnings"] and "announced" in document["warnings"][0]
    assert canonical(document["events"]) == canonical(expected(miscounting, JAN))  # all saved
    rows = json.loads(cli("cache", "ls", "--json").stdout)
    assert [r["status"] for r in rows] == ["unreliable"]
    assert "unreliable" in cli("cache", "ls").stdout

    miscounting.miscount = False
    before = len(endpoint_requests(miscounting))
    again = cli("fetch", "--month", "01-2026", "--page-size", "100")
    assert again.exit_code == 0, again.stderr
    first = endpoint_requests(miscounting)[before].body
    assert (first["startDate"], first["page"]) == (JAN.start_ms(UTC), 1)  # whole again
    assert json.loads(cli("cache", "ls", "--json").stdout)[0]["status"] == "complete"


def test_run_saves_reports_and_still_fails_on_an_unreliable_month(cli, isolated, miscounting):
    result = cli("run", "--month", "01-2026")
    assert result.exit_code == 1
    assert (isolated / "data" / "billing_dashboard.html").exists()


def test_month_status_is_one_classification():
    from cursor_billing.cache import month_status

    month = Month(2026, 10)
    end = datetime(2026, 11, 1, tzinfo=timezone.utc)
    later = datetime(2026, 11, 3, tzinfo=timezone.utc)
    during = datetime(2026, 10, 20, tzinfo=timezone.utc)

    def status(now, complete=False, warnings=(), source="api", legacy=False):
        return month_status(month, "UTC", complete, list(warnings), source, legacy, now)

    assert status(later, complete=True) == "complete"
    assert status(during) == "in_progress"
    assert status(end) == "closing"
    assert status(later) == "closing"  # ended, but never fetched a day after
    assert status(later, complete=True, warnings=["counts"]) == "unreliable"
    assert status(during, source="csv") == "complete"
    assert status(later, legacy=True) == "complete"
    # The month ends in the file's zone: 1 November 02:00 UTC is still October in Los Angeles.
    early = datetime(2026, 11, 1, 2, tzinfo=timezone.utc)
    assert month_status(month, "America/Los_Angeles", False, [], "api", False, early) == (
        "in_progress"
    )


def test_a_resumed_journal_goes_by_page_numbers(emulator_env, isolated):
    from cursor_billing.errors import ApiError

    emulator = emulator_env(month_events(JAN, 1000, seed=8))
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    emulator.inject(*[Fault.latency(0)] * 3, *[Fault.server_error(500)] * 4)
    with pytest.raises(ApiError):
        fetcher_at(emulator, isolated, now).fetch_month(JAN, refresh=False)
    journal = cache_folder(isolated) / f".{CACHE_NAME}.journal"
    plan, page1, page2, _page3 = journal.read_bytes().splitlines()
    # Page 2 twice and page 3 missing: the place in the file would count page 2's events twice
    # and skip page 3's while the received count still adds up.
    journal.write_bytes(b"\n".join([plan, page1, page2, page2]) + b"\n")
    result = fetcher_at(emulator, isolated, now).fetch_month(JAN, refresh=False)
    assert result.action == "resumed" and result.unreliable == []
    events = cached_events(isolated, JAN)
    assert canonical(events) == canonical(expected(emulator, JAN))


# -- 3. disk errors ----------------------------------------------------------------------------


@needs_root
def test_a_full_disk_while_writing_the_journal_names_the_file(cli, emulator_env, isolated):
    data = isolated / "data"
    data.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k,mode=0700", "tmpfs", str(data)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        emulator_env(month_events(JAN, 3000, seed=4))
        result = cli("fetch", "--month", "01-2026", "--page-size", "100")
        assert result.exit_code == 1
        assert f"cannot write data/monthly_usage_data/.{CACHE_NAME}.journal" in result.stderr
        assert "No space left on device" in result.stderr
        assert "unexpected" not in result.stderr
        journal = cache_folder(isolated) / f".{CACHE_NAME}.journal"
        for line in journal.read_bytes().splitlines():  # whole lines only
            msgspec.json.decode(line)
    finally:
        subprocess.run(["umount", str(data)], check=True)


@pytest.fixture
def as_nobody(emulator_env):
    """A folder `nobody` can reach, and a way to run the CLI there as `nobody` (setpriv)."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed: cannot run as a second user")
    home = Path(tempfile.mkdtemp(prefix="cursor-billing-nobody-"))
    home.chmod(0o755)
    (home / "config.yaml").write_text(FAST_CONFIG)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, XDG_CONFIG_HOME=str(home / "xdg"), HOME=str(home))
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        command += [sys.executable, "-m", "cursor_billing", *args]
        return subprocess.run(
            command, cwd=home, env=env, capture_output=True, text=True, timeout=60
        )

    yield home, run
    shutil.rmtree(home)


def _hand_to_nobody(folder: Path, mode: int) -> None:
    for path in (folder, *folder.rglob("*")):
        os.chown(path, NOBODY, NOBODY)
    (folder / "monthly_usage_data").chmod(mode)
    folder.chmod(mode)


@needs_root
def test_a_read_only_data_folder_names_the_path(emulator_env, as_nobody):
    home, run = as_nobody
    emulator_env(month_events(JAN, 50))
    write_cache_file(home / "data", "12-2025", [])
    _hand_to_nobody(home / "data", 0o500)
    result = run("fetch", "--month", "01-2026")
    assert result.returncode == 1
    assert "cannot create data/monthly_usage_data/.fetch.lock: Permission denied" in (result.stderr)
    assert "unexpected" not in result.stderr


@needs_root
def test_a_fetch_with_nothing_to_do_needs_no_write_access(emulator_env, as_nobody):
    home, run = as_nobody
    emulator = emulator_env(month_events(JAN, 50))
    write_cache_file(home / "data", "01-2026", [])  # complete, fetched long after January
    _hand_to_nobody(home / "data", 0o500)
    result = run("fetch", "--month", "01-2026")
    assert result.returncode == 0, result.stderr
    assert "skipped" in result.stderr
    assert endpoint_requests(emulator) == []
    assert sorted(p.name for p in (home / "data" / "monthly_usage_data").iterdir()) == [CACHE_NAME]


# -- 4. leftovers and things that are not cache files -------------------------------------------


def test_leftover_temporary_files_are_listed_then_removed_by_the_next_fetch(
    cli, emulator_env, isolated
):
    emulator_env(month_events(JAN, 50))
    write_cache_file(isolated / "data", "01-2026", [], complete=False)
    leftovers = [
        cache_folder(isolated) / f".{CACHE_NAME}.4242.tmp",  # v1's name
        cache_folder(isolated) / f".{CACHE_NAME}.0123456789abcdef.tmp",
    ]
    for path in leftovers:
        path.write_text('{"events": [{"userEmail": "ada@example.com"}]')
    listing = cli("cache", "ls")
    assert listing.exit_code == 0
    assert listing.stdout.count("leftover temporary file") == 2
    result = cli("fetch", "--month", "01-2026")
    assert result.exit_code == 0, result.stderr
    assert not any(path.exists() for path in leftovers)
    assert "leftover" not in cli("cache", "ls").stdout


def _run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """In a child process with a deadline: a FIFO opened for reading would block forever."""
    return subprocess.run(
        [sys.executable, "-m", "cursor_billing", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_fifos_folders_and_odd_names_are_never_opened_nor_purged(isolated):
    write_cache_file(isolated / "data", "03-2026", [usage_event(Month(2026, 3).start_ms(UTC))])
    folder = cache_folder(isolated)
    os.mkfifo(folder / "01-2026-usage-based-data.json")
    (folder / "02-2026-usage-based-data.json").mkdir()
    (folder / "13-2026-usage-based-data.json").write_text("{}")
    (folder / "02-1944-usage-based-data.json").write_text("{}")
    (folder / "notes.txt").write_text("mine")
    odd = [
        "01-2026-usage-based-data.json",
        "02-1944-usage-based-data.json",
        "02-2026-usage-based-data.json",
        "13-2026-usage-based-data.json",
        "notes.txt",
    ]

    listing = _run_cli(isolated, "cache", "ls")
    assert listing.returncode == 0, listing.stderr
    for name in odd:
        line = next(line for line in listing.stdout.splitlines() if name in line)
        assert "not a cache file" in line
    rows = json.loads(_run_cli(isolated, "cache", "ls", "--json").stdout)
    assert [r["month"] for r in rows] == ["03-2026"]

    analysis = _run_cli(isolated, "analyze", "--json")
    assert analysis.returncode == 0, analysis.stderr
    assert json.loads(analysis.stdout)["months"] == ["03-2026"]
    assert _run_cli(isolated, "report").returncode == 0

    one = _run_cli(isolated, "cache", "purge", "--month", "01-2026", "--yes")
    assert one.returncode == 0 and "01-2026 is not cached" in one.stderr
    purge = _run_cli(isolated, "cache", "purge", "--all", "--yes")
    assert purge.returncode == 0, purge.stderr
    assert sorted(p.name for p in folder.iterdir() if p.name != ".fetch.lock") == odd


# -- 5. processes ------------------------------------------------------------------------------

_INTERRUPT_DURING_IMPORT = """
import runpy, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "typer":  # the user presses Ctrl-C while the CLI is still loading
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["cursor-billing", "cache", "ls"]
runpy.run_module("cursor_billing", run_name="__main__")
"""


def test_ctrl_c_while_starting_up_prints_no_traceback(isolated):
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_DURING_IMPORT],
        cwd=isolated,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 130
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "Error: interrupted"


@pytest.mark.parametrize(
    "args", [["analyze"], ["analyze", "--json"], ["cache", "ls"], ["cache", "ls", "--json"]]
)
def test_a_closed_stdout_ends_quietly(isolated, args):
    events = [usage_event(JAN.start_ms(UTC) + i, email=f"u{i}@example.com") for i in range(300)]
    write_cache_file(isolated / "data", "01-2026", events)
    reader, writer = os.pipe()
    os.close(reader)  # like `| head -c 50` that has already gone
    try:
        process = subprocess.run(
            [sys.executable, "-m", "cursor_billing", *args],
            cwd=isolated,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""


def test_a_reader_that_stops_early_ends_the_command_quietly(isolated):
    events = [usage_event(JAN.start_ms(UTC) + i, email=f"u{i}@example.com") for i in range(2000)]
    write_cache_file(isolated / "data", "01-2026", events)
    process = subprocess.Popen(
        [sys.executable, "-m", "cursor_billing", "analyze", "--top", "5000"],
        cwd=isolated,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout and process.stderr
    process.stdout.readline()  # `| head -1`: more than a pipe holds is still to come
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read()
    assert process.wait(timeout=60) == 0, stderr
    assert stderr == b""


# -- 7. rough edges ----------------------------------------------------------------------------


def test_long_lines_on_stderr_are_never_hard_wrapped(isolated):
    long_dir = isolated / ("a-rather-long-folder-name-for-the-cache-" * 3)
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # a pipe: rich assumes 80
    result = subprocess.run(
        [sys.executable, "-m", "cursor_billing", "cache", "ls", "--data-dir", str(long_dir)],
        cwd=isolated,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"No cached months in {long_dir / 'monthly_usage_data'}. Run" in result.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "cursor_billing", "analyze", "--data-dir", str(long_dir)],
        cwd=isolated,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.stderr.splitlines()[0] == (
        f"Error: no cached months in {long_dir / 'monthly_usage_data'}"
    )


def test_piped_tables_have_no_trailing_spaces(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [usage_event(JAN.start_ms(UTC) + 5)])
    for command in (["analyze"], ["cache", "ls"], ["report"]):
        result = cli(*command)
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) > 3
        assert [line for line in lines if line != line.rstrip()] == []


def test_the_cache_listing_explains_events_and_requests(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [usage_event(JAN.start_ms(UTC) + 5)])
    footer = " ".join(cli("cache", "ls").stdout.split())
    assert "Events = the on-demand chargeable events kept" in footer
    assert "requests = the billable ones among them under the chosen cost basis" in footer


def test_a_resumed_fetch_says_the_page_size_changed_and_applies_it_next_window(
    emulator_env, isolated
):
    from cursor_billing.errors import ApiError

    emulator = emulator_env(month_events(JAN, 1000, seed=8))
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    emulator.inject(*[Fault.latency(0)] * 3, *[Fault.server_error(500)] * 4)
    with pytest.raises(ApiError):
        fetcher_at(emulator, isolated, now, page_size=100).fetch_month(JAN, refresh=False)
    before = len(endpoint_requests(emulator))
    fetcher = fetcher_at(emulator, isolated, now, page_size=250)
    result = fetcher.fetch_month(JAN, refresh=False)
    assert result.action == "resumed"
    assert any(
        "started with page size 100; page size 250 applies from its next window" in w
        for w in fetcher.observer.warnings
    )
    bodies = [r.body for r in endpoint_requests(emulator)[before:]]
    first_window = [b for b in bodies if b["startDate"] == JAN.start_ms(UTC)]
    second_window = [b for b in bodies if b["startDate"] != JAN.start_ms(UTC)]
    assert first_window[0]["page"] == 4 and {b["pageSize"] for b in first_window} == {100}
    assert second_window and {b["pageSize"] for b in second_window} == {250}
    assert canonical(cached_events(isolated, JAN)) == canonical(expected(emulator, JAN))


class _StepClock:
    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.parametrize(("step", "most_lines"), [(0.001, 12), (31.0, None)])
def test_without_a_terminal_progress_is_a_few_plain_lines(emulator_env, isolated, step, most_lines):
    emulator = emulator_env(month_events(JAN, 8000, seed=5))
    screen = io.StringIO()
    progress = FetchProgress(Console(file=screen, width=100), clock=_StepClock(step))
    fetcher = fetcher_at(emulator, isolated, datetime(2026, 3, 1, tzinfo=timezone.utc))
    fetcher.observer = progress
    with progress:
        fetcher.fetch([JAN])
    lines = screen.getvalue().splitlines()
    pages = len(endpoint_requests(emulator))
    page_lines = [line for line in lines if line.startswith("Fetching page")]
    assert pages > 80
    assert lines[0] == "January 2026: fetching..."
    assert lines[-1].startswith("January 2026: done, ")
    if most_lines is None:  # 30 s pass between pages: a line for every page
        assert len(page_lines) == pages
    else:
        assert 1 <= len(page_lines) <= most_lines


def test_a_report_named_pdf_is_warned_about(cli, isolated):
    write_cache_file(isolated / "data", "01-2026", [usage_event(JAN.start_ms(UTC) + 5)])
    result = cli("report", "--output", "spend.pdf")
    assert result.exit_code == 0
    assert "Warning: spend.pdf will hold HTML" in result.stderr
    assert "Warning" not in cli("report", "--output", "spend.HTM").stderr
