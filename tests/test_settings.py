"""Configuration (SPEC §3): precedence flag > environment > config.yaml > default, the file
search order, `.env`, and validation messages — through the CLI where a user would see it."""

from __future__ import annotations

import json
from decimal import Decimal
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


# SPEC §3 version 2: nested sections, exact dollars, secrets, one path for every flag


@pytest.fixture
def emulator_base_url(monkeypatch):
    """An emulator holding no events, with the CLI's environment pointed at it."""
    from cursor_billing.emulator import Emulator

    with Emulator([], api_key="key_settings_test", rate_limit=None) as emulator:
        monkeypatch.setenv("CURSOR_API_KEY", "key_settings_test")
        monkeypatch.setenv("CURSOR_API_BASE_URL", emulator.base_url)
        yield emulator


def page_sizes_asked(emulator, cli, *args: str) -> set[int]:
    emulator.requests.clear()
    result = cli("fetch", "--month", "01-2026", "--refresh", *args)
    assert result.exit_code == 0, result.stderr
    return {r.body["pageSize"] for r in emulator.requests if r.body}


FAST = "billing:\n  request_delay_seconds: 0\n"


def test_page_size_precedence_flag_over_file_over_default(cli, isolated, emulator_base_url):
    (isolated / "config.yaml").write_text(FAST)
    assert page_sizes_asked(emulator_base_url, cli) == {1000}
    (isolated / "config.yaml").write_text(FAST + "  page_size: 250\n")
    assert page_sizes_asked(emulator_base_url, cli) == {250}
    assert page_sizes_asked(emulator_base_url, cli, "--page-size", "40") == {40}


def test_months_back_precedence_flag_over_file_over_default(cli, isolated, emulator_base_url):
    def months_fetched(*args: str) -> int:
        result = cli("fetch", "--refresh", *args)
        assert result.exit_code == 0, result.stderr
        return len(listed_months(cli))

    (isolated / "config.yaml").write_text(FAST)
    assert months_fetched() == 2
    (isolated / "config.yaml").write_text(FAST + "  months_back: 3\n")
    assert months_fetched() == 3
    assert months_fetched("--months-back", "4") == 4


def test_options_before_the_command_and_the_commands_own_win(cli, isolated, tmp_path):
    for folder, label in (("root", "01-2026"), ("own", "02-2026"), ("from-file", "03-2026")):
        write_cache_file(isolated / folder, label, [usage_event(1767225600000)])
    assert listed_months(cli, "--data-dir", "own") == ["02-2026"]
    root = cli("--data-dir", "root", "cache", "ls", "--json")
    assert [row["month"] for row in json.loads(root.stdout)] == ["01-2026"]
    both = cli("--data-dir", "root", "cache", "ls", "--json", "--data-dir", "own")
    assert [row["month"] for row in json.loads(both.stdout)] == ["02-2026"]
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("billing:\n  data_dir: from-file\n")
    from_root_config = cli("--config", str(elsewhere), "cache", "ls", "--json")
    assert [row["month"] for row in json.loads(from_root_config.stdout)] == ["03-2026"]
    missing = cli("--config", "missing.yaml", "cache", "ls")
    assert missing.exit_code == 2
    assert "missing.yaml does not exist" in missing.stderr


@pytest.mark.parametrize("command", ["fetch", "demo", "run"])
def test_every_months_back_flag_takes_the_same_path(cli, command):
    for value in ("0", "61"):
        result = cli(command, "--months-back", value)
        assert result.exit_code == 2
        assert (
            result.stderr == f"Error: --months-back must be an integer from 1 to 60, not {value}\n"
        )


def test_the_v2_keys_and_their_defaults():
    settings = Settings()
    assert (settings.page_size, settings.rate_limit_patience_seconds) == (1000, 180)
    assert (settings.teams_file, settings.teams_source, settings.notify_format) == (
        None,
        "file",
        "slack",
    )
    assert settings.budgets.total_monthly_usd is None
    assert settings.budgets.users == {} and settings.budgets.warn_percent == 80
    assert settings.anomalies.enabled is True
    assert (settings.anomalies.spike_factor, settings.anomalies.min_usd) == (5, 25)
    assert (settings.anomalies.baseline_days, settings.anomalies.window_days) == (28, 3)


def test_nested_values_are_read_and_dollars_are_exact(isolated):
    (isolated / "config.yaml").write_text(
        "billing:\n"
        "  teams_file: teams.csv\n"
        "  teams_source: billing_groups\n"
        "  budgets:\n"
        "    total_monthly_usd: 12345678901234567.89\n"
        "    user_monthly_usd: 0.1\n"
        "    users:\n"
        "      ana@example.com: 150.05\n"
        "    teams: {Platform: 2000}\n"
        "    warn_percent: 87.5\n"
        "  anomalies:\n"
        "    enabled: false\n"
        "    spike_factor: 2.5\n"
    )
    settings = load_settings()
    assert settings.warnings == ()
    assert settings.teams_file == Path("teams.csv") and settings.teams_source == "billing_groups"
    budgets = settings.budgets
    assert str(budgets.total_monthly_usd) == "12345678901234567.89"
    assert str(budgets.user_monthly_usd) == "0.1"
    assert budgets.users == {"ana@example.com": Decimal("150.05")}
    assert budgets.teams == {"Platform": Decimal(2000)}
    assert all(isinstance(v, Decimal) for v in (*budgets.users.values(), budgets.warn_percent))
    assert budgets.warn_percent == Decimal("87.5")
    assert settings.anomalies.enabled is False
    assert settings.anomalies.spike_factor == Decimal("2.5")
    assert settings.anomalies.min_usd == 25  # untouched keys of a section keep their default


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "  budgets:\n    users:\n      ana@example.com: -5\n",
            "billing.budgets.users must be a mapping of e-mail to dollars ≥ 0, "
            "not {ana@example.com: -5}",
        ),
        (
            "  budgets:\n    users:\n      ana@example.com: lots\n",
            "billing.budgets.users must be a mapping of e-mail to dollars ≥ 0, "
            "not {ana@example.com: lots}",
        ),
        (
            "  budgets:\n    users:\n      Ana: 10\n",
            "billing.budgets.users must be a mapping of e-mail to dollars ≥ 0, not {Ana: 10}",
        ),
        (
            "  budgets:\n    users: [ana@example.com]\n",
            "billing.budgets.users must be a mapping of e-mail to dollars ≥ 0",
        ),
        (
            "  budgets:\n    total_monthly_usd: -0.01\n",
            "billing.budgets.total_monthly_usd must be a number of dollars ≥ 0, or null, not -0.01",
        ),
        (
            "  budgets:\n    total_monthly_usd: .inf\n",
            "billing.budgets.total_monthly_usd must be a number of dollars ≥ 0, or null",
        ),
        (
            "  budgets:\n    warn_percent: 0\n",
            "billing.budgets.warn_percent must be a number from 1 to 100, not 0",
        ),
        ("  budgets: 500\n", "billing.budgets must be a mapping of settings, not 500"),
        (
            "  anomalies:\n    spike_factor: 1\n",
            "billing.anomalies.spike_factor must be a number above 1",
        ),
        ("  anomalies:\n    enabled: maybe\n", "billing.anomalies.enabled must be true or false"),
        ("  anomalies:\n    window_days: 0\n", "billing.anomalies.window_days must be an integer"),
        ("  teams_source: ldap\n", "billing.teams_source must be one of: file, billing_groups"),
        ("  notify_format: xml\n", "billing.notify_format must be one of: slack, json, not xml"),
        ("  months_back: 61\n", "billing.months_back must be an integer from 1 to 60, not 61"),
        ("  account_name: ''\n", "billing.account_name must be a non-empty name"),
        ("  rate_limit_patience_seconds: -1\n", "rate_limit_patience_seconds must be a number"),
    ],
)
def test_nested_and_new_values_are_checked_like_the_others(cli, isolated, yaml_text, expected):
    (isolated / "config.yaml").write_text("billing:\n" + yaml_text)
    result = cli("cache", "ls")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "config.yaml: " in result.stderr
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "billing:\n  budgets:\n    user: {}\n",
            "unknown key 'user' in billing.budgets is ignored; did you mean 'users'?",
        ),
        (
            "billing:\n  anomalies:\n    spike_factr: 3\n",
            "unknown key 'spike_factr' in billing.anomalies is ignored; "
            "did you mean 'spike_factor'?",
        ),
        (
            "billing:\n  warn_percent: 90\n",
            "unknown key 'warn_percent' in billing is ignored; "
            "did you mean 'billing.budgets.warn_percent'?",
        ),
        (
            "page_size: 10\nbilling: {}\n",
            "unknown key 'page_size' outside 'billing:' is ignored; "
            "did you mean 'billing.page_size'?",
        ),
        (
            "biling:\n  page_size: 10\n",
            "unknown key 'biling' outside 'billing:' is ignored; did you mean 'billing'?",
        ),
    ],
)
def test_unknown_keys_warn_with_the_nearest_key_at_any_depth(cli, isolated, yaml_text, expected):
    (isolated / "config.yaml").write_text(yaml_text)
    result = cli("cache", "ls")
    assert result.exit_code == 0, result.stderr
    assert expected in result.stderr


WEBHOOK = "https://hooks.example.com/services/T0001/B0002/webhook-secret-42"


def test_the_webhook_url_is_read_from_the_environment_and_never_shown(cli, isolated, monkeypatch):
    (isolated / ".env").write_text(f"CURSOR_BILLING_WEBHOOK_URL={WEBHOOK}\n")
    assert load_settings().webhook_url == WEBHOOK
    monkeypatch.setenv("CURSOR_BILLING_WEBHOOK_URL", WEBHOOK + "-env")
    settings = load_settings()
    assert settings.webhook_url == WEBHOOK + "-env"
    assert "webhook-secret-42" not in repr(settings)
    write_cache_file(isolated / "data", "01-2026", [usage_event(1767225600000)])
    (isolated / "config.yaml").write_text("billing:\n  months_back: 0\n")
    outputs = [cli("--debug", "cache", "ls")]  # an error, with --debug
    (isolated / "config.yaml").write_text("billing: {}\n")
    outputs += [cli("cache", "ls"), cli("cache", "ls", "--json"), cli("analyze", "--json")]
    outputs += [cli("analyze", "--month", "01-2026"), cli("report", "--month", "01-2026")]
    assert [result.exit_code for result in outputs] == [2, 0, 0, 0, 0, 0]
    for result in outputs:
        assert "webhook-secret-42" not in result.stdout + result.stderr
    assert "webhook-secret-42" not in (isolated / "data" / "billing_dashboard.html").read_text()


def test_a_webhook_url_in_the_config_points_to_the_environment(cli, isolated):
    (isolated / "config.yaml").write_text(f"billing:\n  webhook_url: {WEBHOOK}\n")
    result = cli("cache", "ls")
    assert result.exit_code == 0
    assert "'webhook_url' is ignored: the webhook URL is read from CURSOR_BILLING_WEBHOOK_URL" in (
        result.stderr
    )
    assert "webhook-secret-42" not in result.stdout + result.stderr
    assert load_settings().webhook_url is None
