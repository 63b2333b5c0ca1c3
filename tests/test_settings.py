"""Configuration (SPEC §3): precedence flag > environment > config.yaml > default, the file
search order, `.env`, and validation messages — through the CLI where a user would see it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cursor_billing.errors import ConfigError, UsageError
from cursor_billing.settings import Settings, load_settings
from tests.helpers import usage_event, write_cache_file


def listed_months(cli, *args: str) -> list[str]:
    result = cli("cache", "ls", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return [row["month"] for row in json.loads(result.stdout)]


def test_data_dir_precedence_flag_over_env_over_file_over_default(cli, isolated, monkeypatch):
    for folder, label in (
        ("data", "01-2026"),
        ("from-file", "02-2026"),
        ("from-env", "03-2026"),
        ("from-flag", "04-2026"),
    ):
        write_cache_file(isolated / folder, label, [usage_event(1767225600000)])
    assert listed_months(cli) == ["01-2026"]
    (isolated / "config.yaml").write_text("billing:\n  data_dir: from-file\n")
    assert listed_months(cli) == ["02-2026"]
    monkeypatch.setenv("CURSOR_BILLING_DATA_DIR", "from-env")
    assert listed_months(cli) == ["03-2026"]
    assert listed_months(cli, "--data-dir", "from-flag") == ["04-2026"]


def test_config_search_order(isolated, tmp_path, monkeypatch):
    user_config = tmp_path / "xdg-config" / "cursor-billing" / "config.yaml"
    user_config.parent.mkdir(parents=True)
    user_config.write_text("billing:\n  page_size: 11\n")
    assert load_settings().page_size == 11
    (isolated / "config.yaml").write_text("billing:\n  page_size: 22\n")
    assert load_settings().page_size == 22
    env_config = tmp_path / "env.yaml"
    env_config.write_text("billing:\n  page_size: 33\n")
    monkeypatch.setenv("CURSOR_BILLING_CONFIG", str(env_config))
    assert load_settings().page_size == 33
    flag_config = tmp_path / "flag.yaml"
    flag_config.write_text("billing:\n  page_size: 44\n")
    assert load_settings(config=flag_config).page_size == 44


def test_defaults_without_any_config():
    settings = load_settings()
    assert settings == Settings(config_path=None)
    assert settings.data_dir == Path("data")
    assert settings.cache_dir == Path("data/monthly_usage_data")
    assert settings.base_url == "https://api.cursor.com"


def test_dotenv_is_read_and_real_environment_wins(isolated, monkeypatch):
    (isolated / ".env").write_text("CURSOR_API_KEY=key_from_dotenv\nCURSOR_BILLING_DATA_DIR=dd\n")
    settings = load_settings()
    assert settings.api_key == "key_from_dotenv"
    assert settings.data_dir == Path("dd")
    monkeypatch.setenv("CURSOR_API_KEY", "key_from_env")
    assert load_settings().api_key == "key_from_env"


def test_dotenv_beside_the_config_file(isolated, tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "config.yaml").write_text("billing: {}\n")
    (folder / ".env").write_text("CURSOR_API_BASE_URL=http://127.0.0.1:9/\n")
    assert load_settings(config=folder / "config.yaml").base_url == "http://127.0.0.1:9"


def test_the_key_is_not_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("CURSOR_API_KEY", "key_secret_123")
    assert "key_secret_123" not in repr(load_settings())


def test_shipped_config_yaml_holds_the_defaults():
    shipped = Path(__file__).parent.parent / "config.yaml"
    settings = load_settings(config=shipped)
    assert settings.warnings == ()
    assert settings == Settings(config_path=shipped)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("billing:\n  page_size: 5000\n", "billing.page_size must be an integer from 1 to 1000"),
        ("billing:\n  page_size: many\n", "billing.page_size must be an integer from 1 to 1000"),
        ("billing:\n  months_back: 0\n", "billing.months_back must be an integer from 1 to 60"),
        ("billing:\n  request_delay_seconds: -1\n", "request_delay_seconds must be a number"),
        ("billing:\n  timezone: Mars/Olympus\n", "billing.timezone must be an IANA time zone"),
        ("billing:\n  cost_basis: net\n", "billing.cost_basis must be one of: list, charged"),
        ("billing:\n  output_filename: ../x.html\n", "output_filename must be a file name without"),
        ("billing:\n  expensive_models: gpt-5\n", "billing.expensive_models must be a list"),
        ("billing:\n  max_retries: true\n", "billing.max_retries must be an integer"),
        ("billing: [1, 2]\n", "'billing' must be a mapping"),
        ("billing:\n  page_size: [\n", "not valid YAML (line"),
    ],
)
def test_wrong_values_exit_2_naming_file_key_and_expectation(cli, isolated, yaml_text, expected):
    (isolated / "config.yaml").write_text(yaml_text)
    result = cli("cache", "ls")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "config.yaml" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_key_warns_with_the_nearest_known_key(cli, isolated):
    (isolated / "config.yaml").write_text("billing:\n  page_sise: 10\n")
    result = cli("cache", "ls")
    assert result.exit_code == 0
    assert "unknown key 'page_sise'" in result.stderr
    assert "did you mean 'page_size'?" in result.stderr


def test_missing_explicit_config_is_a_usage_error(cli):
    result = cli("cache", "ls", "--config", "missing.yaml")
    assert result.exit_code == 2
    assert "missing.yaml does not exist" in result.stderr


def test_flags_are_validated_like_config_values():
    with pytest.raises(ConfigError, match="--page-size must be an integer from 1 to 1000"):
        Settings().with_overrides(page_size=0)
    assert Settings().with_overrides(page_size=None, top_spenders_count=3).top_spenders_count == 3
    assert isinstance(ConfigError("x"), UsageError)


def test_an_api_key_in_the_config_points_to_the_environment(cli, isolated):
    (isolated / "config.yaml").write_text("billing:\n  api_key: key_abc\n")
    result = cli("cache", "ls")
    assert result.exit_code == 0
    assert "the API key is read from CURSOR_API_KEY" in result.stderr


def test_values_are_quoted_as_yaml_wrote_them(cli, isolated):
    (isolated / "config.yaml").write_text("billing:\n  months_back: true\n")
    assert (
        "billing.months_back must be an integer from 1 to 60, not true" in cli("cache", "ls").stderr
    )
