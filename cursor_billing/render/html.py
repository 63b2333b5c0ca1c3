"""The HTML dashboard of SPEC §8: one self-contained file (inline CSS, inline SVG, no script,
nothing fetched from anywhere) that can be mailed to finance.

This module turns a `BillingReport` into a view of display-ready strings and chart geometry; the
Jinja2 template in `templates/` only lays it out, with autoescaping on, so every name and e-mail
reaches the page as text."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cursor_billing.cache import write_private
from cursor_billing.months import Month
from cursor_billing.render.text import (
    ANONYMIZED,
    BASIS_NAMES,
    NOTHING,
    count,
    money,
    percent,
    share,
    signed_money,
)

if TYPE_CHECKING:
    from jinja2 import Environment

    from cursor_billing.views.report import BillingReport, ModelSpend, MonthModel, MonthUser

TEMPLATE = "dashboard.html.j2"
TITLE = "Cursor on-demand spend"
NO_USAGE = "No on-demand usage in these months."
PARTIAL_NOTE = (
    "Partial: still being fetched, or fetched less than a day after the month ended; "
    "its change compares part of a month with a whole one."
)
EXPENSIVE_MODEL_USERS = 10  # at most this many users listed under each expensive model
STACKED_MODELS = 5  # the chart stacks the top models by total cost; the rest is "Other models"
ZERO = Decimal(0)
_WHOLE_DOLLAR = Decimal(100)

# Sparklines: one bar per month, at most this wide in total.
SPARK_WIDTH = 84
SPARK_HEIGHT = 22
_MAX_SPARK_SLOT = 14


# ---------------------------------------------------------------------------------------------
# Public API


def render_dashboard(report: BillingReport, top: int, generated_at: datetime) -> str:
    """The whole HTML document for `report`, with `top` rows in every "top" table."""
    view = dashboard_view(report, top, generated_at)
    return _environment().get_template(TEMPLATE).render(page=view)


def write_dashboard(report: BillingReport, path: Path, top: int, generated_at: datetime) -> Path:
    """Render the dashboard and write it atomically, readable by its owner only (0600)."""
    path = Path(path)
    write_private(path, render_dashboard(report, top, generated_at).encode("utf-8"))
    return path


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    # Jinja2 is imported here, not at the top: `--help` and the other commands never need it.
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(
        loader=PackageLoader("cursor_billing", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# ---------------------------------------------------------------------------------------------
# The view: what the template shows, already formatted


@dataclass(frozen=True)
class ChartFrame:
    """The size of a chart and its margins, in viewBox units (the SVG scales to its box)."""

    width: int
    height: int
    left: int  # room for the axis labels
    right: int
    top: int  # room for the value and change above the bars
    bottom: int  # room for the month names
    max_bar: int


# The monthly chart is drawn twice: wide for screens and paper, compact for phones, so that its
# text stays readable without the chart scrolling sideways. CSS shows one of the two.
WIDE_CHART = ChartFrame(760, 300, left=68, right=12, top=46, bottom=44, max_bar=76)
COMPACT_CHART = ChartFrame(360, 250, left=50, right=4, top=42, bottom=40, max_bar=52)


@dataclass(frozen=True)
class MonthLabel:
    label: str  # MM-YYYY
    title: str  # January 2026
    short: str  # Jan 2026
    partial: bool


@dataclass(frozen=True)
class Card:
    key: str  # the card's id is `card-<key>`
    label: str
    value: str
    detail: str = ""
    is_name: bool = False  # a model name or an e-mail: smaller type, wraps anywhere
    partial: bool = False  # a "partial" badge after the detail
    note: str = ""  # after the badge


@dataclass(frozen=True)
class SparkBar:
    x: float
    y: float
    width: float
    height: float
    partial: bool
    zero: bool
    title: str


@dataclass(frozen=True)
class Sparkline:
    width: float
    height: float
    bars: tuple[SparkBar, ...]
    label: str  # the same numbers in words, for screen readers


@dataclass(frozen=True)
class UserRow:
    rank: int
    email: str
    cost: str
    requests: str
    avg_cost: str
    top_model: str
    expensive_share: str
    expensive_pct: float  # 0..100, width of the small share bar
    expensive_months: str  # "2/3": months in which they used an expensive model
    trend: Sparkline


@dataclass(frozen=True)
class ModelRow:
    rank: int
    model: str
    cost: str
    share: str
    share_pct: float
    requests: str
    avg_cost: str
    users: str
    tokens: str
    tokens_detail: str
    expensive: bool


@dataclass(frozen=True)
class SpenderRow:
    rank: int | None  # None for the "other" row
    email: str
    cost: str
    share: str
    requests: str


@dataclass(frozen=True)
class ExpensiveBlock:
    model: str
    avg_cost: str
    cost: str
    requests: str
    users_count: str
    rows: tuple[SpenderRow, ...]


@dataclass(frozen=True)
class TrendRow:
    month: MonthLabel
    cost: str
    requests: str
    delta: str
    delta_pct: str
    direction: str  # of `delta`: "up", "down" or "" (CSS class)
    pct_direction: str


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    series: str  # CSS class of the colour: c0, c1, ... or "c-other"
    title: str


@dataclass(frozen=True)
class ChartMonth:
    month: MonthLabel
    x: float  # left edge of the bar
    center: float
    width: float
    top: float  # y of the top of the stack
    height: float
    segments: tuple[Segment, ...]
    value: str
    delta: str
    direction: str
    show_label: bool
    text_x: float  # the centre of the texts, kept inside the chart at its edges


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class LegendItem:
    name: str
    series: str  # CSS class, as in Segment


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    baseline: float
    ticks: tuple[Tick, ...]
    months: tuple[ChartMonth, ...]
    show_values: bool
    label_font: str  # "" or "small"
    summary: str  # the chart in words


@dataclass(frozen=True)
class MonthModelRow:
    model: str
    tokens: str
    requests: str
    cost: str
    other: bool = False


@dataclass(frozen=True)
class MonthUserRow:
    rank: int | None
    email: str
    cost: str
    requests: str
    top_model: str


@dataclass(frozen=True)
class MonthBlock:
    month: MonthLabel
    cost: str
    requests: str
    tokens: str
    rows: tuple[Any, ...]  # MonthModelRow or MonthUserRow


def dashboard_view(report: BillingReport, top: int, generated_at: datetime) -> dict[str, Any]:
    """Everything the template shows, as display-ready strings and numbers."""
    top = max(top, 0)
    months = {month: _month_label(month, report.partial_months) for month in report.months}
    return {
        "title": TITLE,
        "period": _period(report.months),
        "timezone": report.timezone,
        "cost_basis": BASIS_NAMES[report.cost_basis],
        "generated_at": _moment(generated_at, report.timezone),
        "generated_at_iso": generated_at.isoformat(timespec="seconds"),
        "has_usage": report.has_usage,
        "no_usage": NO_USAGE,
        "partial_note": PARTIAL_NOTE if report.partial_months else "",
        "anonymized_note": ANONYMIZED if report.anonymized else "",
        "top": top,
        "users_total": count(len(report.users)),
        "models_total": count(len(report.models)),
        "cards": _cards(report, months),
        "top_users": _top_users(report, top, months),
        "expensive_models": _expensive_models(report, top),
        "top_models": _top_models(report, top),
        "trend": _trend_rows(report, months),
        **_charts(report, months),
        "month_models": _month_models(report, top, months),
        "month_users": _month_users(report, top, months),
    }


def _charts(report: BillingReport, months: Mapping[Month, MonthLabel]) -> dict[str, Any]:
    if not report.has_usage:
        return {"chart": None, "compact_chart": None, "legend": []}
    stacked, legend = _stacked_series(report)
    return {
        "chart": _chart(report, months, stacked, WIDE_CHART),
        "compact_chart": _chart(report, months, stacked, COMPACT_CHART),
        "legend": legend,
    }


def _month_label(month: Month, partial_months: Sequence[Month]) -> MonthLabel:
    first_day = datetime(month.year, month.month, 1)
    return MonthLabel(
        month.label, month.title, first_day.strftime("%b %Y"), month in partial_months
    )


def _period(months: Sequence[Month]) -> str:
    if not months:
        return "no months analyzed"
    first, last = months[0].title, months[-1].title
    return first if first == last else f"{first} – {last}"


def _moment(moment: datetime, zone_name: str) -> str:
    """`2026-03-14 10:30 CET`: in the report's time zone, like everything else on the page."""
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(ZoneInfo(zone_name))
        except (ZoneInfoNotFoundError, ValueError):
            pass  # an unknown zone name: keep the moment as it was given
    text = moment.strftime("%Y-%m-%d %H:%M")
    zone = moment.tzname()
    return f"{text} {zone}" if zone else text


def _cards(report: BillingReport, months: Mapping[Month, MonthLabel]) -> list[Card]:
    summary = report.summary
    total = summary.total_cost_cents
    current = months.get(summary.current_month) if summary.current_month else None
    trend = report.monthly_trend
    change = ""
    if len(trend) > 1 and trend[-1].delta_cents is not None:
        change = percent(trend[-1].delta_pct, signed=True)
        if trend[-1].delta_pct is None:
            change = signed_money(trend[-1].delta_cents)
        change += f" vs {months[trend[-2].month].short}"
    costliest = report.models[0] if report.models else None
    spender = report.users[0] if report.users else None
    return [
        Card(
            "total",
            "Total on-demand spend",
            money(total),
            f"{_counted(summary.total_requests, 'request')} · "
            f"{_counted(len(report.users), 'user')}",
        ),
        Card(
            "current-month",
            "Current month spend",
            money(summary.current_month_cost_cents),
            current.title if current else NOTHING,
            partial=bool(current and current.partial),
            note=change,
        ),
        Card(
            "months",
            "Months analyzed",
            count(summary.months_analyzed),
            _period(report.months),
        ),
        Card(
            "costliest-model",
            "Costliest model",
            summary.costliest_model or NOTHING,
            f"{money(costliest.cost_cents)} · {_share_of(costliest.cost_cents, total)} of spend"
            if costliest
            else "",
            is_name=True,
        ),
        Card(
            "top-spender",
            "Top spender",
            summary.top_spender or NOTHING,
            f"{money(spender.cost_cents)} · {_share_of(spender.cost_cents, total)} of spend"
            if spender
            else "",
            is_name=True,
        ),
    ]


def _top_users(
    report: BillingReport, top: int, months: Mapping[Month, MonthLabel]
) -> list[UserRow]:
    return [
        UserRow(
            rank=rank,
            email=user.email,
            cost=money(user.cost_cents),
            requests=count(user.requests),
            avg_cost=_avg_money(user.avg_cost_cents),
            top_model=user.top_model,
            expensive_share=share(user.expensive_share),
            expensive_pct=_clamped_pct(user.expensive_share * 100),
            expensive_months=f"{user.expensive_months}/{len(report.months)}",
            trend=_sparkline(user.by_month, months),
        )
        for rank, user in enumerate(report.users[:top], 1)
    ]


def _top_models(report: BillingReport, top: int) -> list[ModelRow]:
    total = report.summary.total_cost_cents
    expensive = {model.model for model in report.expensive_models}
    rows = []
    for rank, model in enumerate(report.models[:top], 1):
        tokens = model.tokens
        rows.append(
            ModelRow(
                rank=rank,
                model=model.model,
                cost=money(model.cost_cents),
                share=_share_of(model.cost_cents, total),
                share_pct=_clamped_pct(model.cost_cents * 100 / total) if total > 0 else 0.0,
                requests=count(model.requests),
                avg_cost=_avg_money(model.avg_cost_cents),
                users=count(model.unique_users),
                tokens=count(tokens.total),
                tokens_detail=(
                    f"input {count(tokens.input)} · output {count(tokens.output)} · "
                    f"cache write {count(tokens.cache_write)} · "
                    f"cache read {count(tokens.cache_read)}"
                ),
                expensive=model.model in expensive,
            )
        )
    return rows


def _expensive_models(report: BillingReport, top: int) -> list[ExpensiveBlock]:
    """Each expensive model with its biggest spenders; the rest of its users in one row."""
    top = min(top, EXPENSIVE_MODEL_USERS)
    blocks = []
    for model in report.expensive_models:
        rows = [
            SpenderRow(
                rank,
                user.email,
                money(user.cost_cents),
                _share_of(user.cost_cents, model.cost_cents),
                count(user.requests),
            )
            for rank, user in enumerate(model.users[:top], 1)
        ]
        rest = model.users[top:]
        if rest:
            rest_cost = sum((user.cost_cents for user in rest), ZERO)
            rows.append(
                SpenderRow(
                    None,
                    _others(len(rest), "user"),
                    money(rest_cost),
                    _share_of(rest_cost, model.cost_cents),
                    count(sum(user.requests for user in rest)),
                )
            )
        blocks.append(
            ExpensiveBlock(
                model=model.model,
                avg_cost=_avg_money(model.avg_cost_cents),
                cost=money(model.cost_cents),
                requests=count(model.requests),
                users_count=count(len(model.users)),
                rows=tuple(rows),
            )
        )
    return blocks


def _trend_rows(report: BillingReport, months: Mapping[Month, MonthLabel]) -> list[TrendRow]:
    return [
        TrendRow(
            month=months[row.month],
            cost=money(row.cost_cents),
            requests=count(row.requests),
            delta=signed_money(row.delta_cents),
            delta_pct=percent(row.delta_pct, signed=True),
            direction=_direction(signed_money(row.delta_cents)),
            pct_direction=_direction(percent(row.delta_pct, signed=True)),
        )
        for row in report.monthly_trend
    ]


def _month_models(
    report: BillingReport, top: int, months: Mapping[Month, MonthLabel]
) -> list[MonthBlock]:
    """Per month, like Cursor's own dashboard: the top models and one row for the rest."""
    by_month = _grouped(report.month_models)
    blocks = []
    for trend in report.monthly_trend:
        entries: Sequence[MonthModel] = by_month.get(trend.month, ())
        rows = [
            MonthModelRow(
                row.model, count(row.tokens.total), count(row.requests), money(row.cost_cents)
            )
            for row in entries[:top]
        ]
        rest = entries[top:]
        if rest:
            rows.append(
                MonthModelRow(
                    _others(len(rest), "model"),
                    count(sum(row.tokens.total for row in rest)),
                    count(sum(row.requests for row in rest)),
                    money(sum((row.cost_cents for row in rest), ZERO)),
                    other=True,
                )
            )
        blocks.append(
            MonthBlock(
                month=months[trend.month],
                cost=money(trend.cost_cents),
                requests=count(trend.requests),
                tokens=count(sum(row.tokens.total for row in entries)),
                rows=tuple(rows),
            )
        )
    return blocks


def _month_users(
    report: BillingReport, top: int, months: Mapping[Month, MonthLabel]
) -> list[MonthBlock]:
    by_month = _grouped(report.month_users)
    blocks = []
    for trend in report.monthly_trend:
        entries: Sequence[MonthUser] = by_month.get(trend.month, ())
        rows = [
            MonthUserRow(rank, row.email, money(row.cost_cents), count(row.requests), row.top_model)
            for rank, row in enumerate(entries[:top], 1)
        ]
        rest = entries[top:]
        if rest:
            rows.append(
                MonthUserRow(
                    None,
                    _others(len(rest), "user"),
                    money(sum((row.cost_cents for row in rest), ZERO)),
                    count(sum(row.requests for row in rest)),
                    "",
                )
            )
        blocks.append(
            MonthBlock(
                month=months[trend.month],
                cost=money(trend.cost_cents),
                requests=count(trend.requests),
                tokens="",
                rows=tuple(rows),
            )
        )
    return blocks


# ---------------------------------------------------------------------------------------------
# Charts


def _stacked_series(report: BillingReport) -> tuple[list[ModelSpend], list[LegendItem]]:
    """The models the chart stacks one by one (the top few by cost) and the legend."""
    stacked = list(report.models[:STACKED_MODELS])
    if len(report.models) == STACKED_MODELS + 1:
        stacked = list(report.models)  # one more series beats an "Other" holding one model
    legend = [LegendItem(model.model, f"c{index}") for index, model in enumerate(stacked)]
    if len(report.models) > len(stacked):
        legend.append(LegendItem("Other models", "c-other"))
    return stacked, legend


def _chart(
    report: BillingReport,
    months: Mapping[Month, MonthLabel],
    stacked: Sequence[ModelSpend],
    frame: ChartFrame,
) -> Chart:
    """Monthly cost as bars stacked by model (`stacked`, then "Other models"), with the
    change against the month before above each bar, drawn in `frame`."""
    trend = report.monthly_trend
    peak = max((row.cost_cents for row in trend), default=ZERO)
    scale_top, step = _nice_scale(peak)
    plot_width = frame.width - frame.left - frame.right
    plot_height = frame.height - frame.top - frame.bottom
    baseline = frame.height - frame.bottom
    slot = plot_width / max(len(trend), 1)
    bar_width = min(slot * 0.62, frame.max_bar)
    # A month name takes about 56 units at 12 px and 48 at 10 px: narrower slots get the
    # smaller type, and then only every n-th month is named, counting back from the latest.
    small = slot < 60
    label_every = math.ceil(52 / slot) if small else 1
    show_values = slot >= 54

    def y_of(cents: Decimal) -> float:
        return baseline - float(max(cents, ZERO) / scale_top) * plot_height

    ticks = []
    tick = ZERO
    while tick <= scale_top:
        ticks.append(Tick(round(y_of(tick), 1), _axis_money(tick)))
        tick += step

    chart_months = []
    for index, row in enumerate(trend):
        month = months[row.month]
        x = frame.left + index * slot + (slot - bar_width) / 2
        parts = [
            (f"c{series}", model.model, model.by_month.get(row.month, ZERO))
            for series, model in enumerate(stacked)
        ]
        named = sum((cents for _, _, cents in parts), ZERO)
        parts.append(("c-other", "Other models", row.cost_cents - named))
        stack_top = float(baseline)
        segments = []
        for series, name, cents in parts:
            if cents <= 0:
                continue
            height = float(cents / scale_top) * plot_height
            segments.append(
                Segment(
                    round(x, 1),
                    round(stack_top - height, 1),
                    round(bar_width, 1),
                    round(height, 1),
                    series,
                    f"{name} · {month.title}: {money(cents)}",
                )
            )
            stack_top -= height
        roomy = slot >= 8 * len(money(row.cost_cents)) + 8
        value = money(row.cost_cents) if roomy else _axis_money(_dollars(row.cost_cents))
        # Half the width of the widest text under or over the bar, in 12 px digits.
        half_text = 3.6 * max(len(value) if show_values else 0, len(month.short)) + 2
        center = x + bar_width / 2
        chart_months.append(
            ChartMonth(
                month=month,
                x=round(x, 1),
                center=round(center, 1),
                width=round(bar_width, 1),
                top=round(stack_top, 1),
                height=round(baseline - stack_top, 1),
                segments=tuple(segments),
                value=value,
                delta=percent(row.delta_pct, signed=True) if row.delta_pct is not None else "",
                direction=_direction(percent(row.delta_pct, signed=True)),
                show_label=(len(trend) - 1 - index) % label_every == 0,
                text_x=round(min(max(center, half_text), frame.width - half_text), 1),
            )
        )
    words = "; ".join(f"{months[row.month].title}: {money(row.cost_cents)}" for row in trend)
    return Chart(
        width=frame.width,
        height=frame.height,
        plot_left=frame.left,
        plot_right=frame.width - frame.right,
        baseline=baseline,
        ticks=tuple(ticks),
        months=tuple(chart_months),
        show_values=show_values,
        label_font="small" if small else "",
        summary=f"On-demand spend per month. {words}.",
    )


def _sparkline(by_month: Mapping[Month, Decimal], months: Mapping[Month, MonthLabel]) -> Sparkline:
    """Small bars, one per analyzed month, scaled to the user's own busiest month."""
    values = [(months[label], by_month.get(label, ZERO)) for label in months]
    peak = max((cents for _, cents in values), default=ZERO)
    slot = min(SPARK_WIDTH / max(len(values), 1), _MAX_SPARK_SLOT)
    bar_width = max(slot - 2, 1.5)
    bars = []
    for index, (month, cents) in enumerate(values):
        zero = cents <= 0 or peak <= 0
        height = 1.0 if zero else max(float(cents / peak) * (SPARK_HEIGHT - 1), 1.5)
        bars.append(
            SparkBar(
                x=round(index * slot + (slot - bar_width) / 2, 1),
                y=round(SPARK_HEIGHT - height, 1),
                width=round(bar_width, 1),
                height=round(height, 1),
                partial=month.partial,
                zero=zero,
                title=f"{month.short}: {money(cents)}",
            )
        )
    label = "Spend by month: " + ", ".join(
        f"{month.short} {money(cents)}" for month, cents in values
    )
    return Sparkline(round(slot * len(values), 1), SPARK_HEIGHT, tuple(bars), label)


def _nice_scale(peak_cents: Decimal) -> tuple[Decimal, Decimal]:
    """The top of the y axis and the tick step: 3 to 5 round steps that hold `peak_cents`."""
    if peak_cents <= 0:
        return Decimal(100), Decimal(25)
    raw_step = peak_cents / 4
    magnitude = Decimal(10) ** math.floor(math.log10(raw_step))
    step = next(
        magnitude * factor
        for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
        if magnitude * factor >= raw_step
    )
    return step * math.ceil(peak_cents / step), step


# ---------------------------------------------------------------------------------------------
# Small derivations


def _avg_money(cents: Decimal) -> str:
    """An average cost per request: cheap models cost less than a cent, which is not $0.00."""
    if 0 < cents < Decimal("0.5"):
        return "<" + money(1)
    return money(cents)


def _axis_money(cents: Decimal) -> str:
    """Axis labels are round amounts: `$2,500` rather than `$2,500.00`."""
    text = money(cents)
    return text[:-3] if text.endswith(".00") else text


def _dollars(cents: Decimal) -> Decimal:
    """Cents rounded to whole dollars, for labels in a crowded chart."""
    return (cents / _WHOLE_DOLLAR).quantize(Decimal(1), rounding=ROUND_HALF_UP) * _WHOLE_DOLLAR


def _share_of(part: Decimal, whole: Decimal) -> str:
    """`part` as a share of `whole`; a sliver that would round to 0% says `<1%`."""
    if whole <= 0:
        return NOTHING
    ratio = part / whole
    return "<" + share(Decimal("0.01")) if 0 < ratio < Decimal("0.005") else share(ratio)


def _clamped_pct(value: Decimal) -> float:
    return round(min(max(float(value), 0.0), 100.0), 1)


def _direction(change: str) -> str:
    """ "up" or "down" for a change as shown (`+$1.00`, `-2.5%`): what rounds to nothing is
    neither."""
    return {"+": "up", "-": "down"}.get(change[:1], "")


def _counted(number: int, noun: str) -> str:
    return f"{count(number)} {noun}{'' if number == 1 else 's'}"


def _others(number: int, noun: str) -> str:
    return f"{count(number)} other {noun}{'' if number == 1 else 's'}"


def _grouped(rows: Iterable[MonthModel | MonthUser]) -> dict[Month, list[Any]]:
    grouped: dict[Month, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.month, []).append(row)
    return grouped
