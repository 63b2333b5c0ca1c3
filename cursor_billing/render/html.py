"""The HTML dashboard of SPEC §8: one self-contained file (inline CSS, inline SVG, no script,
nothing fetched from anywhere) that can be mailed to finance.

The Jinja2 template in `templates/` reads the `BillingReport` itself and formats numbers with the
filters registered here (`money`, `count`, `percent`, …, the wording of `render/text.py`). This
module only adds what is real geometry: the coordinates of the monthly chart and the sparklines.
Autoescaping is on, so every name and e-mail reaches the page as text; names are cut to 80
characters, the full text (up to 1,000) in a `title`."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, localcontext
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from cursor_billing.cache import write_private
from cursor_billing.choices import MonthStatus
from cursor_billing.ledger import EXACT
from cursor_billing.months import Month
from cursor_billing.render.text import (
    BASIS_NAMES,
    BASIS_SHORT_NAMES,
    MONTH_STATUS_NAMES,
    NAME_LIMIT,
    NOTHING,
    SOURCE_NAMES,
    TITLE_LIMIT,
    count,
    cut,
    headline,
    money,
    percent,
    share,
    signed_money,
    whole_money,
)
from cursor_billing.views.changes import budget_name, what_changed

if TYPE_CHECKING:
    from jinja2 import Environment
    from jinja2.bccache import Bucket, BytecodeCache

    from cursor_billing.views.forecast import Forecast
    from cursor_billing.views.report import BillingReport, ModelSpend

TEMPLATE = "dashboard.html.j2"
TITLE = "Cursor on-demand spend"
EXPENSIVE_MODEL_USERS = 10  # at most this many users listed under each expensive model
STACKED_MODELS = 5  # the chart stacks the top models by total cost; the rest is "Other models"
ZERO = Decimal(0)

# Sparklines: one bar per month, at most this wide in total.
SPARK_WIDTH = 84
SPARK_HEIGHT = 22
_MAX_SPARK_SLOT = 14


# ---------------------------------------------------------------------------------------------
# Public API


def render_dashboard(report: BillingReport, top: int, generated_at: datetime) -> str:
    """The whole HTML document for `report`, with `top` rows in every "top" table."""
    top = max(top, 0)
    stacked = _stacked_models(report)
    charts = (
        {
            "wide": _chart(report, stacked, WIDE_CHART),
            "compact": _chart(report, stacked, COMPACT_CHART),
        }
        if report.has_usage
        else None
    )
    month_status = {row.month: row.status for row in report.monthly_trend}
    forecast_users = report.forecast.users if report.forecast else ()
    forecast_teams = report.forecast.teams if report.forecast else ()
    latest = report.monthly_trend[-1] if report.monthly_trend else None
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            report=report,
            top=top,
            title=TITLE,
            generated_at=generated_at,
            headline=headline(report).replace(" %", "\u00a0%"),  # "+38 %" never splits
            changes=what_changed(report),
            latest=latest,
            previous=report.monthly_trend[-2] if len(report.monthly_trend) > 1 else None,
            forecast=_forecast_of(report),
            charts=charts,
            legend=[model.model for model in stacked],
            other_models=len(report.models) > len(stacked),
            month_status=month_status,
            spark=functools.partial(_sparkline, month_status=month_status),
            projected_users={row.name: row.projected_cents for row in forecast_users},
            projected_teams={row.name: row.projected_cents for row in forecast_teams},
            expensive_names={model.model for model in report.expensive_models},
            expensive_users=min(top, EXPENSIVE_MODEL_USERS),
            month_groups=_month_groups(report),
        )
    )


def write_dashboard(report: BillingReport, path: Path, top: int, generated_at: datetime) -> Path:
    """Render the dashboard and write it atomically, readable by its owner only (0600)."""
    path = Path(path)
    write_private(path, render_dashboard(report, top, generated_at).encode("utf-8"))
    return path


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    # Jinja2 is imported here, not at the top: `--help` and the other commands never need it.
    from jinja2 import Environment, PackageLoader, StrictUndefined

    environment = Environment(
        loader=PackageLoader("cursor_billing", "templates"),
        bytecode_cache=_compiled_templates(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        money=money,
        whole_money=whole_money,
        signed_money=signed_money,
        avg_money=avg_money,
        axis_money=axis_money,
        count=count,
        percent=percent,
        share=share,
        share_of=share_of,
        meter=meter,
        cut=lambda text: cut(text, NAME_LIMIT),
        full=lambda text: cut(text, TITLE_LIMIT),
        month_short=month_short,
        direction=direction,
        moment=moment,
        counted=counted,
        others=others,
        summed=summed,
        budget_name=budget_name,
    )
    environment.globals.update(
        BASIS_NAMES=BASIS_NAMES,
        BASIS_SHORT_NAMES=BASIS_SHORT_NAMES,
        MONTH_STATUS_NAMES=MONTH_STATUS_NAMES,
        SOURCE_NAMES=SOURCE_NAMES,
        NAME_LIMIT=NAME_LIMIT,
        NOTHING=NOTHING,
    )
    return environment


def _compiled_templates() -> BytecodeCache | None:
    """Where the compiled templates are kept from one run to the next: compiling the dashboard
    takes longer than rendering it. A private folder of the user cache; each file carries a
    checksum, so a damaged one is compiled again, never run (Jinja2 itself checks a file only
    against its template and the Python version). None when the folder is not ours alone."""
    import os
    import stat
    import zlib

    from jinja2 import BytecodeCache
    from platformdirs import user_cache_path

    from cursor_billing.cache import ensure_private_dir
    from cursor_billing.errors import CacheError

    class Compiled(BytecodeCache):
        def load_bytecode(self, bucket: Bucket) -> None:
            try:
                content = (folder / f"{bucket.key}.cache").read_bytes()
            except OSError:
                return
            checksum, code = content[:4], content[4:]
            if code and int.from_bytes(checksum, "big") == zlib.crc32(code):
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket: Bucket) -> None:
            code = bucket.bytecode_to_string()
            try:
                write_private(
                    folder / f"{bucket.key}.cache", zlib.crc32(code).to_bytes(4, "big") + code
                )
            except CacheError:  # a full disk, say: the next run compiles again
                pass

    folder = user_cache_path("cursor-billing") / "templates"
    try:
        ensure_private_dir(folder)
        info = folder.lstat()
    except OSError:
        return None
    owner = getattr(os, "getuid", None)
    if (
        not stat.S_ISDIR(info.st_mode)
        or stat.S_IMODE(info.st_mode) & 0o077
        or (owner is not None and info.st_uid != owner())
    ):
        return None
    return Compiled()


# ---------------------------------------------------------------------------------------------
# Filters: how a number reads on the page (the words are render/text.py's)


def avg_money(cents: Decimal) -> str:
    """An average cost per request: cheap models cost less than a cent, which is not $0.00."""
    if 0 < cents < Decimal("0.5"):
        return "<" + money(1)
    return money(cents)


def axis_money(cents: Decimal) -> str:
    """Axis labels and crowded bars: round amounts, `$2,500` rather than `$2,500.00`."""
    text = money(cents)
    return text[:-3] if text.endswith(".00") else text


def share_of(part: Decimal, whole: Decimal) -> str:
    """`part` as a share of `whole`; a sliver that would round to 0% says `<1%`."""
    if whole <= 0:
        return NOTHING
    ratio = part / whole
    return "<" + share(Decimal("0.01")) if 0 < ratio < Decimal("0.005") else share(ratio)


def meter(part: Decimal, whole: Decimal = Decimal(1)) -> float:
    """The width in percent (0..100) of a small share bar."""
    if whole <= 0:
        return 0.0
    return round(min(max(float(part / whole) * 100, 0.0), 100.0), 1)


def month_short(month: Month) -> str:
    """`Jan 2026`."""
    return datetime(month.year, month.month, 1).strftime("%b %Y")


def direction(change: Decimal | None) -> str:
    """The CSS class of a change: "up", "down", or "" for none."""
    if change is None or change == 0:
        return ""
    return "up" if change > 0 else "down"


def moment(value: datetime, zone_name: str) -> str:
    """`2026-03-14 10:30 CET`: in the report's time zone, like everything else on the page."""
    if value.tzinfo is not None:
        try:
            value = value.astimezone(ZoneInfo(zone_name))
        except (ZoneInfoNotFoundError, ValueError):
            pass  # an unknown zone name: keep the moment as it was given
    text = value.strftime("%Y-%m-%d %H:%M")
    zone = value.tzname()
    return f"{text} {zone}" if zone else text


def counted(number: int, noun: str) -> str:
    """`1 request`, `12,345 requests`."""
    return f"{count(number)} {noun}{'' if number == 1 else 's'}"


def summed(rows: Sequence[Any], attribute: str) -> Any:
    """The sum of an attribute (dotted: `tokens.total`) over rows, exact for money."""
    with localcontext(EXACT):
        return sum(map(attrgetter(attribute), rows))


def others(number: int, noun: str) -> str:
    """`3 other models`."""
    return f"{count(number)} other {noun}{'' if number == 1 else 's'}"


# ---------------------------------------------------------------------------------------------
# Grouping the per-month detail


class MonthGroup(msgspec.Struct, frozen=True):
    """One month of the collapsed per-month detail: its trend row and its model and user rows."""

    month: Month
    status: MonthStatus
    cost_cents: Decimal
    requests: int
    models: tuple[Any, ...]  # MonthModel, ranked
    users: tuple[Any, ...]  # MonthUser, ranked

    @property
    def tokens(self) -> int:
        return sum(row.tokens.total for row in self.models)


def _month_groups(report: BillingReport) -> list[MonthGroup]:
    models: dict[Month, list[Any]] = {}
    users: dict[Month, list[Any]] = {}
    for model_row in report.month_models:
        models.setdefault(model_row.month, []).append(model_row)
    for user_row in report.month_users:
        users.setdefault(user_row.month, []).append(user_row)
    return [
        MonthGroup(
            row.month,
            row.status,
            row.cost_cents,
            row.requests,
            tuple(models.get(row.month, ())),
            tuple(users.get(row.month, ())),
        )
        for row in report.monthly_trend
    ]


def _forecast_of(report: BillingReport) -> Forecast | None:
    """The forecast, when it is of the latest month and that month is still in progress."""
    forecast = report.forecast
    trend = report.monthly_trend
    if forecast is None or not trend or trend[-1].month != forecast.month:
        return None
    return forecast


# ---------------------------------------------------------------------------------------------
# Geometry: the monthly chart


class ChartFrame(msgspec.Struct, frozen=True):
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
WIDE_CHART = ChartFrame(760, 280, left=68, right=12, top=46, bottom=44, max_bar=76)
COMPACT_CHART = ChartFrame(360, 250, left=50, right=4, top=42, bottom=40, max_bar=52)


class Segment(msgspec.Struct, frozen=True):
    x: float
    y: float
    width: float
    height: float
    series: str  # CSS class of the colour: c0, c1, ... or "c-other"
    name: str  # the model, or "Other models"
    cost_cents: Decimal


class ForecastBox(msgspec.Struct, frozen=True):
    """The rest of the month in progress as the forecast sees it: a dashed box from the
    month-to-date bar up to the projection, and a whisker from low to high."""

    y: float  # top of the box: the projection
    low_y: float
    high_y: float
    projected_cents: Decimal
    low_cents: Decimal
    high_cents: Decimal


class ChartMonth(msgspec.Struct, frozen=True):
    month: Month
    status: MonthStatus
    x: float  # left edge of the bar
    center: float
    width: float
    top: float  # y of the top of the stack (of the forecast box when there is one)
    bar_top: float  # y of the top of the month-to-date / actual bar
    height: float
    segments: tuple[Segment, ...]
    cost_cents: Decimal
    delta_pct: Decimal | None
    whole_value: bool  # too narrow for cents: show whole dollars
    show_label: bool
    text_x: float  # the centre of the texts, kept inside the chart at its edges
    forecast: ForecastBox | None


class Tick(msgspec.Struct, frozen=True):
    y: float
    cents: Decimal


class Chart(msgspec.Struct, frozen=True):
    width: int
    height: int
    plot_left: float
    plot_right: float
    baseline: float
    ticks: tuple[Tick, ...]
    months: tuple[ChartMonth, ...]
    show_values: bool
    small_labels: bool


def _stacked_models(report: BillingReport) -> list[ModelSpend]:
    """The models the chart stacks one by one (the top few by cost); the rest is "Other"."""
    if len(report.models) == STACKED_MODELS + 1:
        return list(report.models)  # one more series beats an "Other" holding one model
    return list(report.models[:STACKED_MODELS])


def _chart(report: BillingReport, stacked: Sequence[ModelSpend], frame: ChartFrame) -> Chart:
    """Monthly cost as bars stacked by model, the month in progress as its month-to-date bar
    under a dashed box up to the forecast with a low–high whisker, drawn in `frame`."""
    trend = report.monthly_trend
    forecast = _forecast_of(report)
    peak = max((row.cost_cents for row in trend), default=ZERO)
    if forecast is not None:
        peak = max(peak, forecast.high_cents, forecast.projected_cents)
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

    def y_of(cents: Decimal) -> float:
        return round(baseline - float(max(cents, ZERO) / scale_top) * plot_height, 1)

    ticks = []
    tick = ZERO
    while tick <= scale_top:
        ticks.append(Tick(y_of(tick), tick))
        tick += step

    chart_months = []
    for index, row in enumerate(trend):
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
                    name,
                    cents,
                )
            )
            stack_top -= height
        box = None
        if forecast is not None and row.month == forecast.month:
            box = ForecastBox(
                y_of(forecast.projected_cents),
                y_of(forecast.low_cents),
                y_of(forecast.high_cents),
                forecast.projected_cents,
                forecast.low_cents,
                forecast.high_cents,
            )
        top = min(stack_top, box.high_y, box.y) if box else stack_top
        whole = slot < 8 * len(money(row.cost_cents)) + 8
        value_chars = len(axis_money(row.cost_cents) if whole else money(row.cost_cents))
        # Half the width of the widest text under or over the bar, in 12 px digits.
        half_text = 3.6 * max(value_chars, 8) + 2
        center = x + bar_width / 2
        chart_months.append(
            ChartMonth(
                month=row.month,
                status=row.status,
                x=round(x, 1),
                center=round(center, 1),
                width=round(bar_width, 1),
                top=round(top, 1),
                bar_top=round(stack_top, 1),
                height=round(baseline - stack_top, 1),
                segments=tuple(segments),
                cost_cents=row.cost_cents,
                delta_pct=row.delta_pct,
                whole_value=whole,
                show_label=(len(trend) - 1 - index) % label_every == 0,
                text_x=round(min(max(center, half_text), frame.width - half_text), 1),
                forecast=box,
            )
        )
    return Chart(
        width=frame.width,
        height=frame.height,
        plot_left=frame.left,
        plot_right=frame.width - frame.right,
        baseline=baseline,
        ticks=tuple(ticks),
        months=tuple(chart_months),
        show_values=slot >= 54,
        small_labels=small,
    )


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
# Geometry: sparklines


class SparkBar(msgspec.Struct, frozen=True):
    x: float
    y: float
    width: float
    height: float
    month: Month
    status: MonthStatus
    cost_cents: Decimal


class Sparkline(msgspec.Struct, frozen=True):
    width: float
    height: float
    bars: tuple[SparkBar, ...]


def _sparkline(
    by_month: Mapping[Month, Decimal],
    projected: Decimal | None = None,
    *,
    month_status: Mapping[Month, MonthStatus],
) -> Sparkline:
    """Small bars, one per analyzed month, scaled to the user's own busiest month; the month in
    progress is drawn at its forecast (`projected`), so a few days never read as a collapse."""
    values = [(month, by_month.get(month, ZERO)) for month in month_status]
    drawn = [
        projected if projected is not None and month_status[month] == "in_progress" else cents
        for month, cents in values
    ]
    peak = max(drawn, default=ZERO)
    slot = min(SPARK_WIDTH / max(len(values), 1), _MAX_SPARK_SLOT)
    bar_width = max(slot - 2, 1.5)
    bars = []
    for index, ((month, cents), size) in enumerate(zip(values, drawn, strict=True)):
        zero = size <= 0 or peak <= 0
        height = 1.0 if zero else max(float(size / peak) * (SPARK_HEIGHT - 1), 1.5)
        bars.append(
            SparkBar(
                x=round(index * slot + (slot - bar_width) / 2, 1),
                y=round(SPARK_HEIGHT - height, 1),
                width=round(bar_width, 1),
                height=round(height, 1),
                month=month,
                status=month_status[month],
                cost_cents=cents,
            )
        )
    return Sparkline(round(slot * len(values), 1), SPARK_HEIGHT, tuple(bars))
