"""Who pays (SPEC §11): the team of each usage event, from a CSV file of e-mails and teams or
from Cursor's billing groups saved by `fetch`.

Either way the answer is a `TeamMapping`: a function (e-mail, event time in epoch ms) → team
that the fold calls once per event, and a fingerprint of what it was built from, so derived
files can be keyed on it. E-mails match case-insensitively; anyone unknown is `Unassigned`."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from cursor_billing.errors import CacheError, UsageError
from cursor_billing.months import epoch_ms
from cursor_billing.views.teams import UNASSIGNED

if TYPE_CHECKING:
    from cursor_billing.settings import Settings

TeamOf = Callable[[str, int], str]  # (e-mail, timestamp in epoch ms) → team
BILLING_GROUPS_FILE = "billing_groups.json"


@dataclass(frozen=True)
class TeamMapping:
    """How events get their team, and a fingerprint of its source (a hash of the file)."""

    team_of: TeamOf = field(compare=False)
    fingerprint: str


# ---------------------------------------------------------------------------------------------
# teams_file: a CSV with `email` and `team` columns


def teams_from_file(path: Path) -> TeamMapping:
    content = _read_bytes(path, "teams_file")
    teams = read_teams_csv(content, path)

    def team_of(email: str, timestamp_ms: int) -> str:
        return teams.get(email.lower(), UNASSIGNED)

    return TeamMapping(team_of, "file:" + _digest(content))


def read_teams_csv(content: bytes, path: Path) -> dict[str, str]:
    """Lower-cased e-mail → team. Columns are found by name (any case, any order); other
    columns are ignored; a UTF-8 BOM is fine. An e-mail listed with two different teams is a
    usage error naming both lines."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise UsageError(f"{path}: line {line} is not UTF-8 text") from None
    import csv  # only with a teams file: not at every start

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    names = [name.strip().lower() for name in header or []]
    missing = [column for column in ("email", "team") if column not in names]
    if missing:
        raise UsageError(
            f"{path}: the header needs the columns email and team (missing: {', '.join(missing)})",
            hint="the first line of the teams file must be e.g. `email,team`",
        )
    email_at, team_at = names.index("email"), names.index("team")
    teams: dict[str, str] = {}
    lines: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        email = row[email_at].strip().lower() if len(row) > email_at else ""
        team = row[team_at].strip() if len(row) > team_at else ""
        if not email and not team:
            continue  # a blank line
        if not email or not team:
            raise UsageError(f"{path}: line {line} needs both an e-mail and a team")
        known = teams.get(email)
        if known is not None and known != team:
            raise UsageError(
                f"{path}: {email} is listed with team {known!r} on line {lines[email]} "
                f"and with team {team!r} on line {line}",
                hint="list each e-mail once",
            )
        teams[email], lines[email] = team, lines.get(email, line)
    return teams


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path} is a folder, not a file") from None
    except OSError as error:
        raise UsageError(f"{what} {path} cannot be read ({error.strerror})") from None


# ---------------------------------------------------------------------------------------------
# teams_source: billing_groups, saved by `fetch` from GET /teams/groups


class _Member(msgspec.Struct):
    email: str
    joinedAt: str | None = None
    leftAt: str | None = None


class _Group(msgspec.Struct):
    name: str
    currentMembers: list[_Member] = []
    formerMembers: list[_Member] = []


class _Groups(msgspec.Struct):
    groups: list[_Group]


@dataclass(frozen=True)
class Stint:
    """`email` (lower-cased) was in group `team` over [joined_ms, left_ms); None = open."""

    email: str
    team: str
    joined_ms: int | None
    left_ms: int | None

    def covers(self, timestamp_ms: int) -> bool:
        return (self.joined_ms is None or self.joined_ms <= timestamp_ms) and (
            self.left_ms is None or timestamp_ms < self.left_ms
        )


class MalformedGroups(ValueError):
    """The answer of GET /teams/groups (or the saved file) is not what it should be."""


def parse_billing_groups(content: bytes) -> list[Stint]:
    """Every membership of every billing group (current and former members); members of the
    unassigned group are simply in no group."""
    try:
        document = msgspec.json.decode(content, type=_Groups)
    except (msgspec.DecodeError, RecursionError) as error:
        raise MalformedGroups(f"not a list of billing groups ({error})") from None
    stints = []
    for group in document.groups:
        for member in (*group.currentMembers, *group.formerMembers):
            joined, left = _moment_ms(member.joinedAt), _moment_ms(member.leftAt)
            stints.append(Stint(member.email.lower(), group.name, joined, left))
    return stints


def _moment_ms(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MalformedGroups(f"{text!r} is not an ISO-8601 date and time") from None
    if moment.tzinfo is None:
        raise MalformedGroups(f"{text!r} has no time zone")
    return epoch_ms(moment)


def teams_from_groups(content: bytes) -> TeamMapping:
    """The group each user was in at the event's time, else Unassigned."""
    stints: dict[str, list[Stint]] = {}
    for stint in parse_billing_groups(content):
        stints.setdefault(stint.email, []).append(stint)

    def team_of(email: str, timestamp_ms: int) -> str:
        for stint in stints.get(email.lower(), ()):
            if stint.covers(timestamp_ms):
                return stint.team
        return UNASSIGNED

    return TeamMapping(team_of, "billing_groups:" + _digest(content))


def billing_groups_path(data_dir: Path) -> Path:
    return data_dir / BILLING_GROUPS_FILE


def save_billing_groups(data_dir: Path, content: bytes) -> Path:
    """Write the groups as received, readable by the owner only (they hold e-mails)."""
    from cursor_billing.cache import write_private

    path = billing_groups_path(data_dir)
    write_private(path, content)
    return path


def read_billing_groups(data_dir: Path) -> TeamMapping:
    path = billing_groups_path(data_dir)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise CacheError(
            f"teams_source is billing_groups but {path} does not exist",
            hint="run `cursor-billing fetch` to save Cursor's billing groups",
        ) from None
    except OSError as error:
        raise CacheError(f"cannot read {path} ({error.strerror})") from None
    try:
        return teams_from_groups(content)
    except MalformedGroups as error:
        raise CacheError(
            f"{path} is not a valid billing groups file: {error}",
            hint="run `cursor-billing fetch` to save it again",
        ) from None


def team_mapping(settings: Settings) -> TeamMapping | None:
    """The mapping the settings configure (`teams_source`, `teams_file`), or None without teams."""
    if settings.teams_source == "billing_groups":
        return read_billing_groups(settings.data_dir)
    if settings.teams_file is None:
        return None
    return teams_from_file(settings.teams_file)


def _digest(content: bytes) -> str:
    import hashlib  # only a run with teams loads it

    return hashlib.sha256(content).hexdigest()
