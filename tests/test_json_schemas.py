"""Real `analyze --json` and `cache ls --json` output validates against the JSON Schemas in
docs/schemas/, and the schemas are strict enough to catch a wrong document."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

from cursor_billing.cli import app
from tests.helpers import usage_event, write_cache_file

REPO = Path(__file__).resolve().parent.parent
JAN_1 = 1767225600000  # 2026-01-01T00:00:00Z
DAY_MS = 86_400_000


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((REPO / "docs" / "schemas" / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def cached_months(data_dir: Path) -> None:
    january = [
        usage_event(JAN_1 + day * DAY_MS, email=f"u{day % 3}@example.com", cents=1.25 + day)
        for day in range(20)
    ]
    january.append(usage_event(JAN_1 + 3, isTokenBasedCall=False, chargedCents=4))
    january.append(usage_event(JAN_1 + 5, cloudAgentId="bc-1", model="gpt-5"))
    february = [usage_event(JAN_1 + 31 * DAY_MS + 60_000, cents=2.5, isHeadless=True)]
    write_cache_file(data_dir, "01-2026", january)
    write_cache_file(data_dir, "02-2026", february)


@pytest.mark.parametrize("basis", ["list", "charged"])
def test_analyze_json_matches_its_schema(cli, tmp_path, basis):
    cached_months(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(f"billing:\n  cost_basis: {basis}\n")
    result = cli("analyze", "--json", "--data-dir", str(tmp_path), "--config", str(config))
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    schema = validator("analyze")
    schema.validate(document)
    assert document["users"] and document["daily"] and document["sources"]

    # The schema is not a rubber stamp: each of these breaks the document.
    for break_it in (
        lambda d: d.pop("sources"),
        lambda d: d.update(schema_version=1),
        lambda d: d["summary"]["totals_by_basis"].pop("charged"),
        lambda d: d["monthly_trend"][0].update(status="done"),
        lambda d: d["users"][0].update(cost_cents="12.5"),
        lambda d: d["daily"][0].update(date="01/01/2026"),
        lambda d: d["models"][0]["by_month"].update({"2026-01": 1}),
    ):
        broken = copy.deepcopy(document)
        break_it(broken)
        assert not schema.is_valid(broken)


def test_analyze_json_of_a_cache_with_nothing_billable_matches_its_schema(cli, tmp_path):
    write_cache_file(tmp_path, "01-2026", [usage_event(JAN_1, kind="Included in Business")])
    result = cli("analyze", "--json", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    validator("analyze").validate(document)
    assert document["summary"]["top_spender"] is None


def test_cache_ls_json_matches_its_schema_with_a_broken_month_too(cli, tmp_path):
    cached_months(tmp_path)
    broken = write_cache_file(tmp_path, "03-2026", [usage_event(JAN_1 + 60 * DAY_MS)])
    broken.write_text(broken.read_text()[:-40])  # cut short
    result = cli("cache", "ls", "--json", "--data-dir", str(tmp_path))
    rows = json.loads(result.stdout)
    schema = validator("cache-ls")
    schema.validate(rows)
    assert [row["month"] for row in rows] == ["01-2026", "02-2026", "03-2026"]
    assert "error" in rows[2] and rows[2]["events"] is None
    wrong = copy.deepcopy(rows)
    wrong[0]["events"] = None  # a null figure without an error
    assert not schema.is_valid(wrong)


def test_readme_and_help_point_to_nothing_outside_the_repository(cli):
    helps = [cli("--help")]
    helps += [cli(command.name, "--help") for command in app.registered_commands]
    for group in app.registered_groups:
        commands = group.typer_instance.registered_commands
        helps += [cli(group.name, c.name, "--help") for c in commands]
    assert len(helps) > 8 and all(h.exit_code == 0 and "Usage" in h.stdout for h in helps)
    for text in [(REPO / "README.md").read_text(), *(h.stdout for h in helps)]:
        assert "SPEC" not in text and "§" not in text and "../shared" not in text
