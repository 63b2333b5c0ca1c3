"""How numbers read for people, shared by the terminal tables, `cache ls` and the HTML dashboard:
money as `$1,234.56`, counts with thousands separators, percentages, file sizes, sparklines.
Pure text, no rich."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the results only; render/text stays importable by the views
    from cursor_billing.jobs.check import CheckResult
    from cursor_billing.views.checks import BudgetResult
    from cursor_billing.views.report import BillingReport

from cursor_billing.choices import Source

# One wording for one idea, shared by the terminal, the dashboard and the webhook text.
BASIS_NAMES = {"list": "list price (token cost + Cursor fee)", "charged": "charged by Cursor"}
BASIS_SHORT_NAMES = {"list": "list price", "charged": "charged by Cursor"}
MONTH_STATUS_NAMES = {
    "complete": "complete",
    "closing": "closing",
    "in_progress": "in progress",
    "unreliable": "unreliable",
}
SOURCE_NAMES: dict[Source, str] = {
    "cloud_agent": "Cloud agents",
    "automation": "Automations",
    "service_account": "Service accounts",
    "headless": "Headless (CLI)",
    "human": "People in the editor",
}
NAME_LIMIT = 80  # names and e-mails on the dashboard (SPEC §8)
TITLE_LIMIT = 1000  # the full name in a `title`, up to this long
ANONYMIZED = "Anonymized: e-mails are replaced by pseudonyms (user-…)."
BUDGET_STATUS_WORDS = {
    "ok": "ok",
    "warn": "near the limit",
    "forecast_over": "forecast over",
    "over": "over",
}
NOTHING = "—"  # shown for a value that does not exist (first month's change, share of nothing)
_CENT = Decimal("0.01")
_SPARKS = "▁▂▃▄▅▆▇█"
_COMPACT_UNITS = ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K"))
_SIZE_UNITS = ("kB", "MB", "GB", "TB")


def money(cents: Decimal | int) -> str:
    """Cents as dollars: `$1,234.56`, `-$0.50`; half a cent rounds away from zero."""
    dollars = (Decimal(cents) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if dollars < 0 else ""
    return f"{sign}${abs(dollars):,.2f}"


def whole_money(cents: Decimal | int) -> str:
    """Cents as whole dollars, for round figures like a forecast: `$1,235`."""
    dollars = (Decimal(cents) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    sign = "-" if dollars < 0 else ""
    return f"{sign}${abs(dollars):,}"


def cut(text: str, limit: int = NAME_LIMIT) -> str:
    """`text` at most `limit` characters long, an ellipsis marking where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def signed_money(cents: Decimal | int | None) -> str:
    """A change in money: `+$12.00`, `-$3.50`, `$0.00`; `—` when there is nothing to compare."""
    if cents is None:
        return NOTHING
    text = money(cents)
    return text if text.startswith("-") or text == "$0.00" else f"+{text}"


def count(number: int) -> str:
    """`12,345`."""
    return f"{number:,}"


def compact_count(number: int) -> str:
    """Big counts for narrow columns: `950`, `12.3K`, `4.56M`, `1.20B`."""
    for size, unit in _COMPACT_UNITS:
        if abs(number) >= size:
            scaled = Decimal(number) / size
            digits = 1 if abs(scaled) >= 10 else 2
            return f"{scaled.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)}{unit}"
    return str(number)


def percent(points: Decimal | float | None, *, signed: bool = False, digits: int = 1) -> str:
    """A value already in percent: `12.5%`, with `signed` `+12.5%`; `—` for None."""
    if points is None:
        return NOTHING
    value = Decimal(str(points)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    if value == 0:
        value = abs(value)  # never "-0.0%"
    sign = "+" if signed and value > 0 else ""
    return f"{sign}{value:,}%"


def share(ratio: Decimal | float) -> str:
    """A ratio 0..1 as a percentage without decimals: `0.425` → `43%`."""
    return percent(Decimal(str(ratio)) * 100, digits=0)


def size(num_bytes: int) -> str:
    """A file size in decimal units, like `ls --si`: `512 B`, `1.5 kB`, `12.3 MB`."""
    if num_bytes < 1000:
        return f"{num_bytes} B"
    value = Decimal(num_bytes)
    for unit in _SIZE_UNITS:
        value /= 1000
        if value < 1000 or unit == _SIZE_UNITS[-1]:
            break
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} {unit}"


def sparkline(values: Sequence[Decimal | int | float]) -> str:
    """One block per value, scaled to the largest: `▁▃█`; a month with nothing is `·`."""
    peak = max((value for value in values), default=0)
    if peak <= 0:
        return "·" * len(values)
    marks = []
    for value in values:
        if value <= 0:
            marks.append("·")
        else:
            level = int(Decimal(str(value)) / Decimal(str(peak)) * (len(_SPARKS) - 1))
            marks.append(_SPARKS[max(0, min(level, len(_SPARKS) - 1))])
    return "".join(marks)


def headline(report: BillingReport) -> str:
    """The one sentence on top of the dashboard and after `report` (SPEC §8), e.g. "On-demand
    spend 07-2026 to 11-2026: $1,663.20 (list price). 12-2026 so far $4.83, on pace for $370
    ($340–$395), +2 % on the same days of 11-2026." """
    trend = report.monthly_trend
    basis = BASIS_SHORT_NAMES[report.cost_basis]
    if not trend:
        return "No months analyzed."
    live = trend[-1] if trend[-1].status == "in_progress" else None
    done = trend[:-1] if live else trend
    sentences = []
    if done:
        span = done[0].month.label
        if len(done) > 1:
            span += f" to {done[-1].month.label}"
        total = sum((row.cost_cents for row in done), Decimal(0))
        sentences.append(f"On-demand spend {span}: {money(total)} ({basis}).")
    if live:
        forecast = (
            report.forecast if report.forecast and report.forecast.month == live.month else None
        )
        opening = (
            f"{live.month.label} so far" if done else f"On-demand spend {live.month.label} so far"
        )
        parts = [f"{opening} {money(live.cost_cents)}" + ("" if done else f" ({basis})")]
        change = live.delta_pct if live.delta_basis == "same_days" else None
        if forecast:
            parts.append(
                f"on pace for {whole_money(forecast.projected_cents)} "
                f"({whole_money(forecast.low_cents)}–{whole_money(forecast.high_cents)})"
            )
            change = forecast.change_to_date_pct
        if change is not None and len(trend) > 1:
            parts.append(f"{_whole_percent(change)} on the same days of {trend[-2].month.label}")
        sentences.append(", ".join(parts) + ".")
    return " ".join(sentences)


def _whole_percent(points: Decimal) -> str:
    """`+2 %`, `-15 %`, `0 %`: the headline's rounded change."""
    value = points.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if value == 0:
        return "0 %"
    return f"{'+' if value > 0 else '-'}{abs(value):,} %"


def month_with_note(label: str, status: str) -> str:
    """`12-2026 (in progress)`, `11-2026 (closing)`, `10-2026`."""
    note = "" if status == "complete" else MONTH_STATUS_NAMES.get(status, status)
    return f"{label} ({note})" if note else label


def budget_line(budget: BudgetResult) -> str:
    """`Budget ana@example.com: $120.00 spent, $310 projected of $250.00: forecast over`."""
    name = "total" if budget.name is None else budget.name
    return (
        f"Budget {name}: {money(budget.spent_cents)} spent, "
        f"{whole_money(budget.projected_cents)} projected of {money(budget.limit_cents)}: "
        f"{BUDGET_STATUS_WORDS[budget.status]}"
    )


def check_headline(result: CheckResult) -> str:
    """One sentence on the checked month: spend so far, its forecast, how many findings."""
    basis = BASIS_SHORT_NAMES[result.cost_basis]
    sentence = f"Cursor on-demand spend {result.month.label}: {money(result.month_to_date_cents)}"
    if result.forecast is not None:
        sentence += f" so far ({basis}), on pace for {whole_money(result.forecast.projected_cents)}"
    else:
        sentence += f" ({basis})"
    findings = sum(b.finding for b in result.budgets) + len(result.anomalies)
    if findings:
        return sentence + f". {findings} finding(s) need attention:"
    return sentence + ". Nothing needs attention."


def check_message(result: CheckResult) -> str:
    """The webhook text (`notify_format: slack`): the headline, then one line per finding."""
    lines = [check_headline(result)]
    lines += [f"• {budget_line(b)}" for b in result.budgets if b.finding]
    lines += [f"• {anomaly.reason}" for anomaly in result.anomalies]
    if result.anonymized:
        lines.append(ANONYMIZED)
    return "\n".join(lines)
