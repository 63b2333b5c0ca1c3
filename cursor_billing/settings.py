"""Settings from, highest first: command-line flags > environment (and `.env`) > `config.yaml` >
built-in defaults (SPEC §3). Built once per command and passed down; nothing here reads
global state except the environment mapping it is given."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cursor_billing.errors import ConfigError, UsageError
from cursor_billing.events import COST_BASES

DEFAULT_BASE_URL = "https://api.cursor.com"
CACHE_SUBDIR = "monthly_usage_data"


@dataclass(frozen=True)
class Settings:
    months_back: int = 2
    page_size: int = 100
    output_filename: str = "billing_dashboard.html"
    top_spenders_count: int = 20
    request_delay_seconds: float = 3.0
    max_retries: int = 5
    rate_limit_patience_seconds: float = 180.0
    backoff_base_seconds: float = 1.0
    timeout_seconds: float = 30.0
    timezone: str = "UTC"
    data_dir: Path = Path("data")
    expensive_models_count: int = 5
    expensive_models: tuple[str, ...] = ()
    cost_basis: str = "list"
    # Not from config.yaml: the environment only.
    api_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    config_path: Path | None = None
    warnings: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / CACHE_SUBDIR

    @property
    def report_path(self) -> Path:
        return self.data_dir / self.output_filename

    def with_overrides(self, **flags: Any) -> Settings:
        """Apply command-line flags (None: not given), validated like config values."""
        given = {key: value for key, value in flags.items() if value is not None}
        for key, value in given.items():
            _check(key, value, source=f"--{key.replace('_', '-')}")
        return replace(self, **given)


# key → (expected type(s), description, check of the value)
_RULES: dict[str, tuple[type | tuple[type, ...], str, Any]] = {
    "months_back": (int, "an integer of at least 1", lambda v: v >= 1),
    "page_size": (int, "an integer from 1 to 1000", lambda v: 1 <= v <= 1000),
    "output_filename": (
        str,
        "a file name without folders (use --output for another place)",
        lambda v: v.strip() != "" and Path(v).name == v and v not in (".", ".."),
    ),
    "top_spenders_count": (int, "an integer of at least 1", lambda v: v >= 1),
    "request_delay_seconds": ((int, float), "a number of seconds ≥ 0", lambda v: v >= 0),
    "max_retries": (int, "an integer ≥ 0", lambda v: v >= 0),
    "rate_limit_patience_seconds": ((int, float), "a number of seconds ≥ 0", lambda v: v >= 0),
    "backoff_base_seconds": ((int, float), "a number of seconds ≥ 0", lambda v: v >= 0),
    "timeout_seconds": ((int, float), "a number of seconds > 0", lambda v: v > 0),
    "timezone": (str, "an IANA time zone name such as Europe/Paris", lambda v: _is_zone(v)),
    "data_dir": ((str, Path), "a folder path", lambda v: str(v).strip() != ""),
    "expensive_models_count": (int, "an integer of at least 1", lambda v: v >= 1),
    "expensive_models": (
        list,
        "a list of model names",
        lambda v: all(isinstance(m, str) and m for m in v),
    ),
    "cost_basis": (str, "one of: list, charged", lambda v: v in COST_BASES),
}


def load_settings(
    config: Path | None = None,
    data_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Settings for one command: `config`/`data_dir` are the flags (None when not given)."""
    cwd = cwd or Path.cwd()
    env = _environment(os.environ if environ is None else environ, [cwd / ".env"])
    config_path = _find_config(config, env, cwd)
    if config_path is not None:
        env = _environment(
            os.environ if environ is None else environ, [config_path.parent / ".env", cwd / ".env"]
        )
    values, warnings = _read_config(config_path) if config_path else ({}, [])
    if env.get("CURSOR_BILLING_DATA_DIR"):
        values["data_dir"] = env["CURSOR_BILLING_DATA_DIR"]
    if data_dir is not None:
        values["data_dir"] = data_dir
    values["data_dir"] = Path(values.get("data_dir", "data")).expanduser()
    if "expensive_models" in values:
        values["expensive_models"] = tuple(values["expensive_models"])
    for key in (
        "request_delay_seconds",
        "rate_limit_patience_seconds",
        "backoff_base_seconds",
        "timeout_seconds",
    ):
        if key in values:
            values[key] = float(values[key])
    return Settings(
        **values,
        api_key=env.get("CURSOR_API_KEY") or None,
        base_url=(env.get("CURSOR_API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        config_path=config_path,
        warnings=tuple(warnings),
    )


def _environment(environ: Mapping[str, str], dotenv_files: list[Path]) -> dict[str, str]:
    """Real environment variables win over `.env` files; later files win over earlier ones."""
    from dotenv import dotenv_values

    merged: dict[str, str] = {}
    for path in dotenv_files:
        if path.is_file():
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(environ)
    return merged


def _find_config(flag: Path | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    explicit = flag or (
        Path(env["CURSOR_BILLING_CONFIG"]) if env.get("CURSOR_BILLING_CONFIG") else None
    )
    if explicit is not None:
        explicit = explicit.expanduser()
        if not explicit.is_file():
            raise UsageError(f"config file {explicit} does not exist")
        return explicit
    if (cwd / "config.yaml").is_file():
        return cwd / "config.yaml"
    from platformdirs import user_config_path

    user_config = user_config_path("cursor-billing") / "config.yaml"
    return user_config if user_config.is_file() else None


def _read_config(path: Path) -> tuple[dict[str, Any], list[str]]:
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    if document is None:
        return {}, []
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'billing:' section")
    warnings = [_unknown(path, key, ["billing"]) for key in document if key != "billing"]
    section = document.get("billing") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: 'billing' must be a mapping of settings")
    values: dict[str, Any] = {}
    for key, value in section.items():
        if key not in _RULES:
            warnings.append(_unknown(path, key, list(_RULES)))
            continue
        _check(key, value, source=f"{path}: billing.{key}")
        values[key] = value
    return values, warnings


def _check(key: str, value: Any, source: str) -> None:
    expected_type, description, is_valid = _RULES[key]
    if isinstance(value, bool) or not isinstance(value, expected_type) or not is_valid(value):
        raise ConfigError(f"{source} must be {description}, not {_yaml_text(value)}")


def _yaml_text(value: Any) -> str:
    """A value as it was written in YAML: `true`, not Python's `True`."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()


def _unknown(path: Path, key: object, known: list[str]) -> str:
    if "key" in str(key).lower() and "api" in str(key).lower():
        return (
            f"{path}: '{key}' is ignored: the API key is read from CURSOR_API_KEY "
            "(the environment or a .env file), never from config.yaml"
        )
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{path}: unknown key '{key}' is ignored{hint}"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
