"""Settings from, highest first: command-line flags > environment (and `.env`) > `config.yaml` >
built-in defaults (SPEC §3). Each setting is declared once, in the dataclasses below: its type, its
default, what a valid value is (in the words of the error message) and, for some, an environment
variable. The file, the environment and the flags are all read through those declarations."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cursor_billing.choices import CostBasis, NotifyFormat, TeamsSource
from cursor_billing.errors import ConfigError, UsageError

DEFAULT_BASE_URL = "https://api.cursor.com"
CACHE_SUBDIR = "monthly_usage_data"
API_KEY_VARIABLE = "CURSOR_API_KEY"
WEBHOOK_URL_VARIABLE = "CURSOR_BILLING_WEBHOOK_URL"


def setting(
    default: Any,
    expected: str | None = None,
    check: Callable[[Any], bool] = lambda value: True,
    *,
    entry: Callable[[Any, Any], bool] = lambda key, value: True,
    env: str | None = None,
) -> Any:
    """Declares one key of `config.yaml`. `expected` ends the sentence "… must be" of the error
    (derived for a `Literal`); `check` judges a value of the declared type; `entry` judges each
    key and value of a mapping; `env` names the environment variable that overrides the file."""
    metadata = {"expected": expected, "check": check, "entry": entry, "env": env}
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=metadata)
    return field(default=default, metadata=metadata)


def section(cls: type) -> Any:
    """Declares a nested mapping of `config.yaml`, itself a dataclass of settings."""
    return field(default_factory=cls, metadata={"section": True})


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _is_file_name(name: str) -> bool:
    return name.strip() != "" and Path(name).name == name and name not in (".", "..")


def _dollars_or_none(value: Decimal | None) -> bool:
    return value is None or value >= 0


@dataclass(frozen=True)
class Budgets:
    """`billing.budgets` (SPEC §9): US dollars per calendar month; None means no budget."""

    total_monthly_usd: Decimal | None = setting(
        None, "a number of dollars ≥ 0, or null", _dollars_or_none
    )
    user_monthly_usd: Decimal | None = setting(
        None, "a number of dollars ≥ 0, or null", _dollars_or_none
    )
    users: dict[str, Decimal] = setting(
        {},
        "a mapping of e-mail to dollars ≥ 0",
        entry=lambda email, usd: "@" in email and usd >= 0,
    )
    teams: dict[str, Decimal] = setting(
        {},
        "a mapping of team name to dollars ≥ 0",
        entry=lambda team, usd: team.strip() != "" and usd >= 0,
    )
    warn_percent: Decimal = setting(Decimal(80), "a number from 1 to 100", lambda v: 1 <= v <= 100)


@dataclass(frozen=True)
class Anomalies:
    """`billing.anomalies` (SPEC §9): which days of a user count as a spike."""

    enabled: bool = setting(True, "true or false")
    spike_factor: Decimal = setting(Decimal(5), "a number above 1", lambda v: v > 1)
    min_usd: Decimal = setting(Decimal(25), "a number of dollars ≥ 0", lambda v: v >= 0)
    baseline_days: int = setting(28, "an integer of at least 1", lambda v: v >= 1)
    window_days: int = setting(3, "an integer of at least 1", lambda v: v >= 1)


@dataclass(frozen=True)
class Settings:
    """The `billing:` section of `config.yaml`, then what only the environment sets."""

    months_back: int = setting(2, "an integer from 1 to 60", lambda v: 1 <= v <= 60)
    page_size: int = setting(1000, "an integer from 1 to 1000", lambda v: 1 <= v <= 1000)
    output_filename: str = setting(
        "billing_dashboard.html",
        "a file name without folders (use --output for another place)",
        _is_file_name,
    )
    top_spenders_count: int = setting(20, "an integer of at least 1", lambda v: v >= 1)
    request_delay_seconds: float = setting(3.0, "a number of seconds ≥ 0", lambda v: v >= 0)
    max_retries: int = setting(5, "an integer ≥ 0", lambda v: v >= 0)
    rate_limit_patience_seconds: float = setting(180.0, "a number of seconds ≥ 0", lambda v: v >= 0)
    backoff_base_seconds: float = setting(1.0, "a number of seconds ≥ 0", lambda v: v >= 0)
    timeout_seconds: float = setting(30.0, "a number of seconds > 0", lambda v: v > 0)
    timezone: str = setting("UTC", "an IANA time zone name such as Europe/Paris", _is_zone)
    data_dir: Path = setting(Path("data"), "a folder path", env="CURSOR_BILLING_DATA_DIR")
    expensive_models_count: int = setting(5, "an integer of at least 1", lambda v: v >= 1)
    expensive_models: tuple[str, ...] = setting((), "a list of model names", all)
    cost_basis: CostBasis = setting("list")
    teams_file: Path | None = setting(None, "a file path, or null")
    teams_source: TeamsSource = setting("file")
    account_name: str = setting("Cursor team", "a non-empty name", lambda v: v.strip() != "")
    budgets: Budgets = section(Budgets)
    anomalies: Anomalies = section(Anomalies)
    notify_format: NotifyFormat = setting("slack")
    # From the environment only, never from config.yaml; the secrets stay out of repr().
    api_key: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
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
        declared = _declared(Settings)
        given = {
            key: _valid(declared[key], value, source=f"--{key.replace('_', '-')}")
            for key, value in flags.items()
            if value is not None
        }
        return replace(self, **given)


def load_settings(
    config: Path | None = None,
    data_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Settings for one command: `config`/`data_dir` are the flags (None when not given)."""
    cwd = cwd or Path.cwd()
    environ = os.environ if environ is None else environ
    env = _environment(environ, [cwd / ".env"])
    config_path = _find_config(config, env, cwd)
    if config_path is not None:
        env = _environment(environ, [config_path.parent / ".env", cwd / ".env"])
    from_file = _read_config(config_path) if config_path else Settings()
    return _with_environment(from_file, env).with_overrides(data_dir=data_dir)


def _with_environment(settings: Settings, env: Mapping[str, str]) -> Settings:
    given = {
        name: _valid(declared, env[variable], source=variable, strict=False)
        for name, declared in _declared(Settings).items()
        if (variable := declared.spec.metadata.get("env")) and env.get(variable)
    }
    return replace(
        settings,
        **given,
        api_key=env.get(API_KEY_VARIABLE) or None,
        webhook_url=env.get(WEBHOOK_URL_VARIABLE) or None,
        base_url=(env.get("CURSOR_API_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
    )


def _environment(environ: Mapping[str, str], dotenv_files: list[Path]) -> dict[str, str]:
    """Real environment variables win over `.env` files; later files win over earlier ones."""
    merged: dict[str, str] = {}
    for path in dotenv_files:
        if path.is_file():
            from dotenv import dotenv_values

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


# Reading config.yaml against the declarations


@dataclass(frozen=True)
class _Declared:
    spec: dataclasses.Field[Any]
    hint: Any

    @property
    def expected(self) -> str:
        if get_origin(self.hint) is Literal:
            return "one of: " + ", ".join(get_args(self.hint))
        return str(self.spec.metadata["expected"])


@cache
def _declared(cls: type) -> dict[str, _Declared]:
    """The settings and sections a dataclass declares, by key."""
    hints = get_type_hints(cls)
    return {
        spec.name: _Declared(spec, hints[spec.name])
        for spec in dataclasses.fields(cls)
        if spec.metadata
    }


def _read_config(path: Path) -> Settings:
    import yaml

    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_decimal_loader())  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    if document is None:
        return Settings(config_path=path)
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping with a 'billing:' section")
    warnings = [_unknown(path, "", key, ["billing"]) for key in document if key != "billing"]
    billing = document.get("billing") or {}
    if not isinstance(billing, dict):
        raise ConfigError(f"{path}: 'billing' must be a mapping of settings")
    settings = _read_section(Settings, billing, path, "billing", warnings)
    return replace(settings, config_path=path, warnings=tuple(warnings))


def _read_section(
    cls: type, mapping: dict[Any, Any], path: Path, where: str, warnings: list[str]
) -> Any:
    """An instance of `cls` from one mapping of the file; `where` is its key path ("billing")."""
    declared = _declared(cls)
    values: dict[str, Any] = {}
    for key, raw in mapping.items():
        if key not in declared:
            warnings.append(_unknown(path, where, key, list(declared)))
            continue
        source = f"{path}: {where}.{key}"
        if declared[key].spec.metadata.get("section"):
            if raw is not None and not isinstance(raw, dict):
                raise ConfigError(f"{source} must be a mapping of settings, not {_yaml_text(raw)}")
            nested = _read_section(declared[key].hint, raw or {}, path, f"{where}.{key}", warnings)
            values[key] = nested
        else:
            values[key] = _valid(declared[key], raw, source)
    return cls(**values)


_INVALID: Any = object()


def _valid(declared: _Declared, raw: Any, source: str, strict: bool = True) -> Any:
    """`raw` as a value of the declared type, else a ConfigError naming `source` and what was
    expected."""
    hint, metadata = declared.hint, declared.spec.metadata
    if get_origin(hint) is dict and isinstance(raw, dict | None):
        key_type, value_type = get_args(hint)
        value = {}
        for key, item in (raw or {}).items():
            typed_key, typed_item = _typed(key, key_type, strict), _typed(item, value_type, strict)
            if _INVALID in (typed_key, typed_item) or not metadata["entry"](typed_key, typed_item):
                raise _invalid(source, declared, {key: item})
            value[typed_key] = typed_item
    else:
        value = _typed(raw, hint, strict)
    if value is _INVALID or not metadata["check"](value):
        raise _invalid(source, declared, raw)
    return value


def _typed(raw: Any, hint: Any, strict: bool) -> Any:
    """`raw` converted to `hint` by msgspec (no bool for int, no text for numbers), or _INVALID."""
    import msgspec

    if isinstance(raw, str) and Path in (hint, *get_args(hint)):  # msgspec takes no str for Path
        return Path(raw).expanduser() if raw.strip() else _INVALID  # Path("") would mean "."
    try:
        value = msgspec.convert(raw, hint, strict=strict)
    except msgspec.ValidationError:
        return _INVALID
    if isinstance(value, Decimal | float) and not math.isfinite(value):
        return _INVALID
    return value.expanduser() if isinstance(value, Path) else value


def _invalid(source: str, declared: _Declared, raw: Any) -> ConfigError:
    return ConfigError(f"{source} must be {declared.expected}, not {_yaml_text(raw)}")


def _decimal_loader() -> type:
    """A SafeLoader that reads YAML floats as exact Decimals of their text (`0.1` is 0.1); on
    LibYAML's parser where PyYAML has it (ten times faster than its pure-Python one)."""
    import yaml

    class DecimalLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
            text = str(self.construct_scalar(node)).replace("_", "")
            try:
                return Decimal(text)
            except InvalidOperation:  # .inf, .nan, 1:30 (sexagesimal): YAML's own reading
                return super().construct_yaml_float(node)

    DecimalLoader.add_constructor("tag:yaml.org,2002:float", DecimalLoader.construct_yaml_float)
    return DecimalLoader


def _yaml_text(value: Any) -> str:
    """A value as it was written in YAML: `true`, not Python's `True`."""
    import yaml

    class DecimalDumper(yaml.SafeDumper):
        pass

    DecimalDumper.add_representer(
        Decimal,
        lambda dumper, number: dumper.represent_scalar("tag:yaml.org,2002:float", str(number)),
    )
    text = yaml.dump(value, Dumper=DecimalDumper, default_flow_style=True, allow_unicode=True)
    return text.removesuffix("\n...\n").strip()


def _unknown(path: Path, where: str, key: object, known: list[str]) -> str:
    """The warning for a key nobody declared, with the nearest known key, here or elsewhere."""
    name = str(key)
    if "key" in name.lower() and "api" in name.lower():
        return (
            f"{path}: '{name}' is ignored: the API key is read from {API_KEY_VARIABLE} "
            "(the environment or a .env file), never from config.yaml"
        )
    if "webhook" in name.lower():
        return (
            f"{path}: '{name}' is ignored: the webhook URL is read from {WEBHOOK_URL_VARIABLE} "
            "(the environment or a .env file), never from config.yaml"
        )
    import difflib  # only a config with an unknown key needs it

    here = f" in {where}" if where else " outside 'billing:'"
    close = difflib.get_close_matches(name, known, n=1)
    if not close:  # perhaps a key of another section: `warn_percent` belongs in billing.budgets
        elsewhere = {
            full.rpartition(".")[2]: full for full in reversed(_key_paths(Settings, "billing"))
        }
        close = [
            elsewhere[match] for match in difflib.get_close_matches(name, list(elsewhere), n=1)
        ]
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{path}: unknown key '{name}'{here} is ignored{hint}"


def _key_paths(cls: type, where: str) -> list[str]:
    paths: list[str] = []
    for name, declared in _declared(cls).items():
        paths.append(f"{where}.{name}")
        if declared.spec.metadata.get("section"):
            paths += _key_paths(declared.hint, f"{where}.{name}")
    return paths
