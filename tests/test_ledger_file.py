"""The derived ledger file beside each cached month (SPEC §6): used only while the month file,
the time zone and the teams are what it was folded from; never hiding a corrupt month file;
private; removed by `cache purge`; not listed by `cache ls`; silently rebuilt when broken.

The tests change a month file's content in place while keeping its size, mtime and inode: the
answer then tells whether the ledger file (old figures) or the month file (new ones) was read."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

from cursor_billing import ledger_file
from cursor_billing.jobs.analyze import MonthSelection, load_ledger
from cursor_billing.months import Month
from cursor_billing.settings import load_settings
from tests.helpers import usage_event, write_cache_file

JAN = 1767225600000  # 2026-01-01T00:00:00Z
NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)


def _month(isolated: Path, label: str = "01-2026", complete: bool = True) -> Path:
    events = [
        usage_event(JAN + 3_600_000, cents=3.125, fee=None),
        usage_event(JAN + 7_200_000, email="bob@example.com", cents=3.125, fee=None),
    ]
    return write_cache_file(isolated / "data", label, events, complete=complete)


def _ledger_path(month_file: Path) -> Path:
    return month_file.with_name(f".{month_file.name}.ledger")


def _edit_in_place(path: Path, old: str, new: str) -> None:
    """Change the content, keeping size, mtime and inode: only the content differs."""
    info = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    with open(path, "r+") as handle:  # the same inode
        handle.write(text.replace(old, new))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_ino == info.st_ino and path.stat().st_size == info.st_size


def _total(cli, *args: str) -> Decimal:
    result = cli("analyze", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return Decimal(str(json.loads(result.stdout)["summary"]["total_cost_cents"]))


def test_a_second_analyze_reads_the_ledger_file_not_the_month_file(cli, isolated):
    path = _month(isolated)
    assert _total(cli) == Decimal("6.25")
    derived = _ledger_path(path)
    assert stat.S_IMODE(derived.stat().st_mode) == 0o600
    _edit_in_place(path, "3.125", "4.125")
    assert _total(cli) == Decimal("6.25")  # the folded rows, not the edited events


def test_a_changed_mtime_rebuilds_the_ledger_file(cli, isolated):
    path = _month(isolated)
    _total(cli)
    _edit_in_place(path, "3.125", "4.125")
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1000))
    assert _total(cli) == Decimal("8.25")
    _edit_in_place(path, "4.125", "5.125")
    assert _total(cli) == Decimal("8.25")  # rebuilt from the month file as it is now


def test_a_changed_size_or_inode_rebuilds_the_ledger_file(cli, isolated):
    path = _month(isolated)
    _total(cli)
    _edit_in_place(path, "3.125", "9.125")
    assert _total(cli) == Decimal("6.25")
    text = path.read_text().replace("9.125", "30.125", 1).replace("9.125", "3.125")  # 1 byte more
    info = path.stat()
    with open(path, "w") as handle:
        handle.write(text)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert _total(cli) == Decimal("33.25")
    replacement = path.with_name("new.json")  # a new file renamed over it: a new inode
    replacement.write_text(path.read_text().replace("30.125", "40.125"))
    os.utime(replacement, ns=(info.st_atime_ns, path.stat().st_mtime_ns))
    os.replace(replacement, path)
    assert _total(cli) == Decimal("43.25")


def test_a_new_time_zone_or_teams_file_rebuilds_the_ledger_file(cli, isolated):
    path = _month(isolated)
    _total(cli)
    _edit_in_place(path, "3.125", "4.125")
    assert _total(cli) == Decimal("6.25")  # the ledger file is in use...
    (isolated / "config.yaml").write_text("billing:\n  timezone: Europe/Paris\n")
    assert _total(cli) == Decimal("8.25")
    _edit_in_place(path, "4.125", "5.125")
    (isolated / "teams.csv").write_text("email,team\nada@example.com,Core\n")
    config = "billing:\n  timezone: Europe/Paris\n  teams_file: teams.csv\n"
    (isolated / "config.yaml").write_text(config)
    assert _total(cli) == Decimal("10.25")
    _edit_in_place(path, "5.125", "6.125")
    assert _total(cli) == Decimal("10.25")  # ...and again, under the teams file's fingerprint
    (isolated / "teams.csv").write_text("email,team\nada@example.com,Edge\n")
    result = cli("analyze", "--json")
    document = json.loads(result.stdout)
    assert Decimal(str(document["summary"]["total_cost_cents"])) == Decimal("12.25")
    assert {team["team"] for team in document["teams"]} >= {"Edge"}


def test_another_format_version_rebuilds_the_ledger_file(cli, isolated, monkeypatch):
    path = _month(isolated)
    _total(cli)
    _edit_in_place(path, "3.125", "4.125")
    assert _total(cli) == Decimal("6.25")
    monkeypatch.setattr(ledger_file, "FORMAT_VERSION", ledger_file.FORMAT_VERSION + 1)
    assert _total(cli) == Decimal("8.25")


def test_a_corrupt_month_file_is_refused_even_with_a_ledger_file(cli, isolated):
    path = _month(isolated)
    _total(cli)
    assert _ledger_path(path).exists()
    path.write_text(path.read_text()[:-20])
    result = cli("analyze", "--json")
    assert result.exit_code != 0
    assert "not valid JSON" in result.stderr and result.stdout == ""


def test_a_broken_or_unreadable_ledger_file_is_silently_rebuilt(cli, isolated):
    path = _month(isolated)
    derived = _ledger_path(path)
    expected = cli("analyze", "--json")
    for broken in (b"", b"\x93\x01garbage", derived.read_bytes()[:-7]):
        derived.write_bytes(broken)
        result = cli("analyze", "--json")
        assert result.exit_code == 0
        assert (result.stdout, result.stderr) == (expected.stdout, expected.stderr)
        assert derived.read_bytes() not in (b"", broken)  # written anew
    derived.unlink()
    derived.mkdir()  # not a regular file: ignored, and not writable over
    result = cli("analyze", "--json")
    assert result.exit_code == 0 and result.stderr == expected.stderr
    assert result.stdout == expected.stdout


def test_a_month_in_progress_gets_one_too_and_its_status_follows_the_clock(cli, isolated):
    """The status of a month read from its ledger file is made from the clock as it would be
    from the month file: in progress, closing once the month is over, unreliable with
    warnings; a fetch that changes the month file makes the ledger file stale."""
    done = _month(isolated)
    open_month = _month(isolated, "02-2026", complete=False)

    def statuses(moment: str) -> list[str]:
        result = cli("analyze", "--json", env={"CURSOR_BILLING_NOW": moment})
        assert result.exit_code == 0, result.stderr
        return [row["status"] for row in json.loads(result.stdout)["monthly_trend"]]

    assert statuses("2026-02-20T12:00:00Z") == ["complete", "in_progress"]
    assert _ledger_path(done).exists() and _ledger_path(open_month).exists()
    _edit_in_place(open_month, "3.125", "4.125")  # the ledger file is the one read...
    assert _total(cli) == Decimal("12.50")
    assert statuses("2026-03-01T00:00:01Z") == ["complete", "closing"]  # ...and the clock
    # Fetched again (a new file, as a fetch writes it), with a warning: read afresh.
    document = json.loads(open_month.read_text())
    document["warnings"] = ["the API answered a page twice"]
    replacement = open_month.with_name("fetched.tmp")
    replacement.write_text(json.dumps(document))
    replacement.replace(open_month)
    assert _total(cli) == Decimal("14.50")
    assert statuses("2026-02-20T12:00:00Z") == ["complete", "unreliable"]
    assert statuses("2026-02-20T12:00:00Z") == ["complete", "unreliable"]  # from the file


def test_a_selection_from_an_instant_reads_the_month_file(cli, isolated):
    path = _month(isolated)
    _total(cli)
    _edit_in_place(path, "3.125", "4.125")
    settings = load_settings(data_dir=isolated / "data")
    selection = MonthSelection((Month(2026, 1),))
    whole = load_ledger(settings, selection, NOW)
    since = load_ledger(settings, selection, NOW, since_ms=JAN)
    assert whole.total("list").cost_cents == Decimal("6.25")  # the ledger file
    assert since.total("list").cost_cents == Decimal("8.25")  # the month file


def test_cache_ls_lists_no_ledger_file_and_purge_removes_it(cli, isolated):
    path = _month(isolated)
    _month(isolated, "02-2026")
    _total(cli)
    listing = cli("cache", "ls", "--json")
    rows = json.loads(listing.stdout)
    assert [row["month"] for row in rows] == ["01-2026", "02-2026"]
    table = cli("cache", "ls")
    assert ".ledger" not in table.stdout + table.stderr
    assert "not a cache file" not in table.stdout + table.stderr
    result = cli("cache", "purge", "--month", "01-2026", "--yes")
    assert result.exit_code == 0
    assert not path.exists() and not _ledger_path(path).exists()
    assert _ledger_path(path.with_name("02-2026-usage-based-data.json")).exists()


def _mixed_month(isolated: Path) -> Path:
    """Several days, users, models, sources and both kinds of call, some charged apart."""
    day = 86_400_000
    events = [
        usage_event(JAN + 3_600_000, cents=3.125, fee=0.5),
        usage_event(JAN + 3_700_000, model="gpt-5", cents=1.25, chargedCents=2.5),
        usage_event(JAN + day, email="bob@example.com", cents=0.75, isHeadless=True),
        usage_event(JAN + day + 1, email="bob@example.com", isTokenBasedCall=False, cents=4),
        usage_event(JAN + 9 * day, email="cy@example.com", model="gpt-5", cents=2, fee=None),
        usage_event(JAN + 9 * day, email="ada@example.com", cents=5.5, cloudAgentId="agent-1"),
    ]
    return write_cache_file(isolated / "data", "01-2026", events, complete=True)


def test_the_stored_sums_are_the_rows_summed_and_a_report_reads_no_row(isolated):
    from cursor_billing.cache import CacheDir
    from cursor_billing.ledger import sum_month
    from cursor_billing.render.json import analysis_document
    from cursor_billing.views.report import billing_report

    _mixed_month(isolated)
    settings = load_settings(data_dir=isolated / "data")
    selection = MonthSelection((Month(2026, 1),))
    folded = load_ledger(settings, selection, NOW)  # folds the month file, writes the file
    key = ledger_file.month_key(CacheDir(settings.cache_dir), Month(2026, 1), "UTC", None)
    assert key is not None
    stored = ledger_file.load(CacheDir(settings.cache_dir), Month(2026, 1), key, NOW)
    assert stored is not None and stored.sums_basis == "list"
    assert stored.ledger.sums("list") == sum_month(folded.months[0].rows, "list")
    again = load_ledger(settings, selection, NOW)  # from the ledger file
    rows = again.months[0].rows
    report = billing_report(again)
    assert rows._raw is not None  # type: ignore[attr-defined]  # never decoded
    assert analysis_document(report) == analysis_document(billing_report(folded))
    assert tuple(rows) == folded.months[0].rows  # and right when a view reads them


def test_another_cost_basis_stores_its_own_sums(cli, isolated):
    from cursor_billing.cache import CacheDir

    path = _mixed_month(isolated)
    listed = cli("analyze", "--json")
    (isolated / "config.yaml").write_text("billing:\n  cost_basis: charged\n")
    charged = cli("analyze", "--json")
    cache_dir = CacheDir(load_settings(data_dir=isolated / "data").cache_dir)
    key = ledger_file.month_key(cache_dir, Month(2026, 1), "UTC", None)
    assert key is not None
    stored = ledger_file.load(cache_dir, Month(2026, 1), key, NOW)
    assert stored is not None and stored.sums_basis == "charged"
    _edit_in_place(path, "3.125", "4.125")  # the ledger file is still the one read
    assert cli("analyze", "--json").stdout == charged.stdout != listed.stdout


def test_a_damaged_row_is_caught_and_the_ledger_file_rebuilt(cli, isolated):
    path = _mixed_month(isolated)
    derived = _ledger_path(path)
    expected = cli("export", "--format", "csv")
    assert expected.exit_code == 0, expected.stderr
    content = derived.read_bytes()
    at = content.rindex(b"bob@example.com")  # in the rows, stored last
    derived.write_bytes(content[:at] + b"c" + content[at + 1 :])  # same length, "cob@..."
    result = cli("export", "--format", "csv")
    assert (result.exit_code, result.stdout) == (0, expected.stdout)
    assert derived.read_bytes() == content  # written anew


def test_a_month_s_rows_are_read_without_decoding_the_other_months(isolated):
    _month(isolated)
    _month(isolated, "02-2026")
    settings = load_settings(data_dir=isolated / "data")
    selection = MonthSelection((Month(2026, 1), Month(2026, 2)))
    load_ledger(settings, selection, NOW)  # writes both ledger files
    ledger = load_ledger(settings, selection, NOW)
    january, february = (month.rows for month in ledger.months)
    assert len(list(ledger.month_rows(Month(2026, 2), "list"))) == 2
    assert january._raw is not None and february._raw is None  # type: ignore[attr-defined]


def test_any_damaged_byte_is_caught_when_the_file_is_opened(isolated):
    """Parts are decoded late (when a view reads them), so a damaged file must be caught before:
    every byte changed in turn makes `load` give nothing back (the month file is read)."""
    from cursor_billing.cache import CacheDir

    path = _mixed_month(isolated)
    settings = load_settings(data_dir=isolated / "data")
    load_ledger(settings, MonthSelection((Month(2026, 1),)), NOW)
    cache_dir = CacheDir(settings.cache_dir)
    key = ledger_file.month_key(cache_dir, Month(2026, 1), "UTC", None)
    assert key is not None and ledger_file.load(cache_dir, Month(2026, 1), key, NOW) is not None
    derived = _ledger_path(path)
    content = derived.read_bytes()
    for at in range(len(content)):
        derived.write_bytes(content[:at] + bytes([content[at] ^ 0x5A]) + content[at + 1 :])
        assert ledger_file.load(cache_dir, Month(2026, 1), key, NOW) is None, at


def test_a_first_run_keeps_a_month_s_rows_as_the_file_keeps_them(isolated):
    _mixed_month(isolated)
    settings = load_settings(data_dir=isolated / "data")
    selection = MonthSelection((Month(2026, 1),))
    first = load_ledger(settings, selection, NOW)  # folds the month file, writes the file
    rows = first.months[0].rows
    assert rows._raw is not None  # type: ignore[attr-defined]  # bytes, not a row object each
    plain = load_ledger(settings, selection, NOW, since_ms=0)  # folded again, never kept
    assert isinstance(plain.months[0].rows, tuple) and len(plain.months[0].rows) == 6
    assert tuple(rows) == plain.months[0].rows
