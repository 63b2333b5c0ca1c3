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
from datetime import datetime, timezone
from decimal import Decimal
from typing import IO, TypeVar

from cursor_billing.ledger import EXACT
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
_CENT = Decimal("0.01")
_FORMULA_STARTS = ("=", "+", "-", "@")
K = TypeVar("K", bound=Hashable)


def write_usage_csv(lines: Iterable[UsageLine], out: IO[str]) -> int:
    """The header and one row per line; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(USAGE_COLUMNS)
    written = 0
    texts: dict[str, str] = {}  # each name made safe once
    for line in lines:
        writer.writerow(
            (
                line.period_start.isoformat(),
                line.period_end.isoformat(),
                _memo(texts, line.team or "", cell),
                _memo(texts, line.user, cell),
                _memo(texts, line.model, cell),
                line.source,
                line.requests,
                line.input_tokens,
                line.output_tokens,
                line.cache_write_tokens,
                line.cache_read_tokens,
                line.total_tokens,
                "" if line.list_cents is None else dollars(line.list_cents),
                dollars(line.charged_cents),
            )
        )
        written += 1
    return written


def write_focus_csv(lines: Iterable[ChargeLine], out: IO[str], account_name: str) -> int:
    """The FOCUS header and one row per charge; returns the number of rows."""
    writer = csv.writer(out)
    writer.writerow(FOCUS_COLUMNS)
    account_id = billing_account_id(account_name)
    account = cell(account_name)
    # Few distinct values repeat on every row: each is formatted once.
    moments: dict[datetime, str] = {}
    texts: dict[str, str] = {}
    tags: dict[str, str] = {}
    written = 0
    for line in lines:
        cost = dollars(line.charged_cents)
        if line.token_based:
            quantity, unit = str(line.tokens), "Tokens"
        else:
            quantity, unit = decimal_text(line.requests_costs), "Requests"
        team = _memo(texts, line.team or "", cell)
        user = _memo(texts, line.user, cell)
        model = _memo(texts, line.model, cell)
        writer.writerow(
            (
                cost,  # BilledCost
                account_id,
                account,
                "USD",
                _memo(moments, line.billing_end, utc_text),
                _memo(moments, line.billing_start, utc_text),
                "Usage",  # ChargeCategory
                "",  # ChargeClass: null, no row corrects an earlier billing period
                _memo(texts, f"{line.model} on-demand usage", cell),
                "Usage-Based",  # ChargeFrequency
                _memo(moments, line.charge_end, utc_text),
                _memo(moments, line.charge_start, utc_text),
                quantity,  # ConsumedQuantity
                unit,  # ConsumedUnit
                cost,  # ContractedCost: no negotiated price is known
                cost,  # EffectiveCost: nothing prepaid to amortize
                PROVIDER,  # InvoiceIssuerName
                cost,  # ListCost: with no ListUnitPrice it must match BilledCost
                quantity,  # PricingQuantity
                unit,  # PricingUnit
                PROVIDER,  # ProviderName
                PROVIDER,  # PublisherName
                user,  # ResourceId
                user,  # ResourceName
                "User",  # ResourceType
                SERVICE_CATEGORY,
                PROVIDER,  # ServiceName
                team,  # SubAccountId
                team,  # SubAccountName
                _memo(tags, line.source, source_tags),
                model,  # x_Model
                line.requests,  # x_Requests
                "" if line.list_cents is None else dollars(line.list_cents),
            )
        )
        written += 1
    return written


def source_tags(source: str) -> str:
    """FOCUS Tags: a JSON object whose provider-defined keys carry the provider's prefix."""
    return json.dumps({f"{TAG_PREFIX}source": source}, separators=(",", ":"))


def dollars(cents: Decimal) -> str:
    """Cents as exact dollars: at least two decimals, more only when the cents have them
    (`150` → `1.50`, `1.755` → `0.01755`), never an exponent."""
    value = Decimal(cents).scaleb(-2, EXACT)  # exact: only the exponent moves
    if value == 0:
        return "0.00"
    value = value.normalize(EXACT)
    if value.as_tuple().exponent > -2:  # type: ignore[operator]
        value = value.quantize(_CENT, context=EXACT)
    return format(value, "f")


def decimal_text(value: Decimal) -> str:
    """A decimal quantity without an exponent or needless trailing zeros (`3`, `2.5`)."""
    if value == 0:
        return "0"
    value = value.normalize(EXACT)
    if value.as_tuple().exponent > 0:  # type: ignore[operator]
        value = value.quantize(Decimal(1), context=EXACT)
    return format(value, "f")


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


def _memo(seen: dict[K, str], key: K, make: Callable[[K], str]) -> str:
    text = seen.get(key)
    if text is None:
        text = seen[key] = make(key)
    return text
