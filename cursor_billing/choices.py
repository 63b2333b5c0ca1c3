"""The closed sets of values (settings of SPEC §3, sources, month states), as types the rest of
the code imports."""

from __future__ import annotations

from typing import Literal, get_args

CostBasis = Literal["list", "charged"]
COST_BASES: tuple[CostBasis, ...] = get_args(CostBasis)

TeamsSource = Literal["file", "billing_groups"]

NotifyFormat = Literal["slack", "json"]

# Who or what made a call (SPEC §7 `sources`), in the order the rule tries them.
Source = Literal["cloud_agent", "automation", "service_account", "headless", "human"]

# How far a cached month can be trusted (SPEC §5, §7): complete = its whole range fetched at
# least 24 h after it ended; closing = ended, fetched less than 24 h after its end; in_progress =
# the current month; unreliable = the API's counts disagreed twice (read whole next time).
MonthStatus = Literal["complete", "closing", "in_progress", "unreliable"]

DataSource = Literal["api", "csv"]  # where a month's events came from (SPEC §6, §12)
