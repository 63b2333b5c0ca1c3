"""Export lines written as CSV (SPEC §12): the usage CSV and the FinOps FOCUS 1.2 cost-and-usage
CSV. Rows are written as they come, so the caller decides how much is held at once.

Dollars are exact decimals (cents ÷ 100, no exponent, no float). A null is an empty cell, the only
null CSV has. Text cells are made safe: control characters escaped as in the terminal, and a cell
that a spreadsheet would take for a formula gets a leading `'`."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Hashable, Iterable
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import IO, TypeVar

from cursor_billing.ledger import EXACT, token_total
from cursor_billing.text import printable
from cursor_billing.views.export import ChargeLine, UsageLine

USAGE_COLUMNS = (
    "period_start",
    "period_end",
    "team",
    "user",
    "model",
    "source",
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_read_tokens",
    "total_tokens",
    "list_cost_usd",
    "charged_cost_usd",
)
# FOCUS 1.2 columns first (alphabetically), then the custom `x_` columns (FOCUS column handling).
FOCUS_COLUMNS = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "x_Model",
    "x_Requests",
    "x_ListCostAtPublishedPrices",
)
PROVIDER = "Cursor"
SERVICE_CATEGORY = "AI and Machine Learning"
TAG_PREFIX = "cursor/"
_CSV_SPECIAL = (",", '"', "\r", "\n")
_FORMULA_STARTS = ("=", "+", "-", "@")
K = TypeVar("K", bound=Hashable)


def write_usage_csv(lines: Iterable[UsageLine], out: IO[str]) -> int:
    """The header and one row per line; returns the number of rows."""
    csv.writer(out).writerow(USAGE_COLUMNS)
    written = 0
    texts, days = _Memo(csv_cell), _Memo(date.isoformat)  # each made once
    for line in lines:
        charged = dollars(line.charged_cents)
        out.write(
            f"{days[line.period_start]},{days[line.period_end]},"
            f"{texts[line.team or '']},{texts[line.user]},{texts[line.model]},"
            f"{line.source},{line.requests},"
            f"{line.input_tokens},{line.output_tokens},{line.cache_write_tokens},"
            f"{line.cache_read_tokens},{line.total_tokens},"
            f"{_list_dollars(line.list_cents, line.charged_cents, charged)},{charged}\r\n"
        )
        written += 1
    return written


def write_focus_csv(lines: Iterable[ChargeLine], out: IO[str], account_name: str) -> int:
    """The FOCUS header and one row per charge; returns the number of rows."""
    csv.writer(out).writerow(FOCUS_COLUMNS)
    account = f"{billing_account_id(account_name)},{csv_cell(account_name)},USD"
    # Few distinct values repeat on every row: each is formatted once.
    moments, texts, tags = _Memo(utc_text), _Memo(csv_cell), _Memo(_source_tags_cell)
    # BillingAccountId .. ChargeClass: the same on every row of a billing period.
    periods: _Memo[tuple[datetime, datetime]] = _Memo(
        lambda span: f"{account},{moments[span[1]]},{moments[span[0]]},Usage,"
    )
    written = 0
    for line in lines:
        period = periods[line.billing_start, line.billing_end]
        row = line.row
        cost = dollars(row.charged_cents)
        if row.token_based:
            quantity = f"{token_total(row)},Tokens"
        else:
            quantity = f"{decimal_text(row.requests_costs)},Requests"
        team, user, model = texts[row.team or ""], texts[row.user], texts[row.model]
        # The columns of FOCUS_COLUMNS in order. ChargeClass is null: no row corrects an
        # earlier billing period. ContractedCost, EffectiveCost and ListCost equal BilledCost:
        # no negotiated price is known, nothing prepaid is amortized, and with no
        # ListUnitPrice ListCost must match BilledCost. PricingQuantity/Unit repeat
        # ConsumedQuantity/Unit; Resource* name the user, SubAccount* the team.
        out.write(
            f"{cost},{period},"
            f"{texts[f'{row.model} on-demand usage']},Usage-Based,"
            f"{moments[line.charge_end]},{moments[line.charge_start]},"
            f"{quantity},{cost},{cost},{PROVIDER},{cost},{quantity},{PROVIDER},{PROVIDER},"
            f"{user},{user},User,{SERVICE_CATEGORY},{PROVIDER},{team},{team},"
            f"{tags[row.source]},{model},{row.requests},"
            f"{_list_dollars(line.list_cents, row.charged_cents, cost)}\r\n"
        )
        written += 1
    return written


def source_tags(source: str) -> str:
    """FOCUS Tags: a JSON object whose provider-defined keys carry the provider's prefix."""
    return json.dumps({f"{TAG_PREFIX}source": source}, separators=(",", ":"))


def dollars(cents: Decimal) -> str:
    """Cents as exact dollars: at least two decimals, more only when the cents have them
    (`150` → `1.50`, `1.755` → `0.01755`), never an exponent."""
    if not cents:
        return "0.00"
    text = format(Decimal(cents).scaleb(-2, EXACT), "f")  # exact: only the exponent moves
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.rstrip('0').ljust(2, '0')}"


def _list_dollars(list_cents: Decimal | None, charged_cents: Decimal, charged: str) -> str:
    """The list cost cell: empty when the line has none, and when it equals the charged cost
    (the usual case) the charged cell, already made."""
    if list_cents is None:
        return ""
    return charged if list_cents == charged_cents else dollars(list_cents)


def decimal_text(value: Decimal) -> str:
    """A decimal quantity without an exponent or needless trailing zeros (`3`, `2.5`)."""
    if not value:
        return "0"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def utc_text(moment: datetime) -> str:
    """FOCUS Date/Time Format: UTC, `YYYY-MM-DDTHH:MM:SSZ`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def billing_account_id(account_name: str) -> str:
    """A stable id for the account: the same `account_name` always gives the same id."""
    digest = hashlib.sha256(account_name.strip().encode("utf-8")).hexdigest()
    return f"cursor-{digest[:16]}"


def cell(text: str) -> str:
    """Text from the API or the cache, safe to open in a terminal or a spreadsheet."""
    text = printable(text)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_cell(text: str) -> str:
    """`cell` written as the csv module writes a field: quoted when it holds a comma, a quote or
    a line break, quotes doubled."""
    text = cell(text)
    if any(special in text for special in _CSV_SPECIAL):
        return '"' + text.replace('"', '""') + '"'
    return text


def _source_tags_cell(source: str) -> str:
    return csv_cell(source_tags(source))


class _Memo(dict[K, str]):
    """Texts made once: `memo[key]` makes the text of a key not seen before."""

    def __init__(self, make: Callable[[K], str]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: K) -> str:
        text = self[key] = self.make(key)
        return text
