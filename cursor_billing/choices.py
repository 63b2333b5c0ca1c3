"""The closed sets of values a setting can take (SPEC §3), as types the rest of the code imports."""

from __future__ import annotations

from typing import Literal, get_args

CostBasis = Literal["list", "charged"]
COST_BASES: tuple[CostBasis, ...] = get_args(CostBasis)

TeamsSource = Literal["file", "billing_groups"]
TEAMS_SOURCES: tuple[TeamsSource, ...] = get_args(TeamsSource)

NotifyFormat = Literal["slack", "json"]
NOTIFY_FORMATS: tuple[NotifyFormat, ...] = get_args(NotifyFormat)
