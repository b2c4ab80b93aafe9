"""Charts for the HTML report, drawn as inline SVG in Python: no library, no script, no network.

Each function takes the grouped archive and returns an escaped SVG fragment (a
:class:`markupsafe.Markup`): every text in it is either ours or passed through ``escape``.

- :func:`open_by_status`: how many cases were open on each day/week/month, stacked by status.
  A case's status history comes from its ``status_changed`` events; before the first one it
  counts under that event's "before" status, and a case with no recorded change under its
  current status. A resolved/closed case with no recorded change counts as "Unknown" from its
  creation until its last update (when it must have closed at the latest).
- :func:`response_times_by_month` / :func:`response_time_distribution`: how long Amazon took to
  answer the seller (see :func:`agent.export.facts.amazon_response_times`).
- :func:`cases_by_category`: cases per subject category, open and closed.
"""

from __future__ import annotations

import math
import statistics
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from markupsafe import Markup, escape

from agent.core.labels import STATUS_LABELS
from agent.core.models import CaseStatus, EventKind
from agent.export.facts import (
    AccountBundles,
    CaseBundle,
    amazon_response_times,
    category_order,
)

__all__ = [
    "STATUS_COLOURS",
    "all_response_times",
    "cases_by_category",
    "chart_timezone",
    "open_by_status",
    "response_time_distribution",
    "response_times_by_month",
    "status_coverage_note",
]

W, H = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 44

STATUS_COLOURS: dict[CaseStatus, str] = {
    CaseStatus.NEEDS_YOUR_ATTENTION: "#d1453b",
    CaseStatus.OPEN: "#2f6fb3",
    CaseStatus.PENDING_AMAZON_ACTION: "#e0a526",
    CaseStatus.WORK_IN_PROGRESS: "#7b5ea7",
    CaseStatus.TRANSFERRED: "#3a9e8f",
    CaseStatus.REOPENED: "#c2569b",
    CaseStatus.ANSWERED: "#6aa84f",
    CaseStatus.UNKNOWN: "#8a8a8a",
    CaseStatus.RESOLVED: "#b7c9b0",
    CaseStatus.CLOSED: "#cccccc",
}
ACCENT = "#2f6fb3"
MUTED = "#b9c4cf"


def chart_timezone(groups: Sequence[AccountBundles]) -> zoneinfo.ZoneInfo:
    """The accounts' timezone when they share one, else UTC (months and days are cut there)."""
    names = {g.timezone for g in groups}
    return groups[0].tz if len(names) == 1 else zoneinfo.ZoneInfo("UTC")  # none or several


# --------------------------------------------------------------------------- drawing helpers


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * exp:
            return m * exp
    return 10 * exp


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _svg(name: str, label: str, body: list[str], legend: Sequence[tuple[str, str]] = ()) -> Markup:
    parts = [
        f'<svg class="chart-svg" data-chart="{name}" viewBox="0 0 {W} {H}" width="{W}" '
        f'height="{H}" role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        *body,
        "</svg>",
    ]
    if legend:
        items = "".join(
            f'<li><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" '
            f'fill="{colour}"/></svg>{escape(text)}</li>'
            for text, colour in legend
        )
        parts.append(f'<ul class="legend">{items}</ul>')
    return Markup("".join(parts))


def _axes(ymax: float, unit: str = "") -> list[str]:
    out = []
    plot_h = H - TOP - BOTTOM
    for i in range(5):
        v = ymax * i / 4
        y = TOP + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7ec"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#555">{_num(v)}{escape(unit)}</text>'
        )
    return out


def _empty(name: str, label: str, text: str) -> Markup:
    return _svg(
        name,
        label,
        [
            *_axes(1),
            f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" font-size="14" '
            f'fill="#777">{escape(text)}</text>',
        ],
    )


def _bars(
    name: str,
    label: str,
    columns: Sequence[tuple[str, Sequence[tuple[float, str, str]]]],
    unit: str = "",
    legend: Sequence[tuple[str, str]] = (),
) -> Markup:
    """Stacked vertical bars: ``columns`` = [(x label, [(value, colour, tooltip), ...])]."""
    totals = [sum(v for v, _, _ in segs) for _, segs in columns]
    ymax = _nice_max(max(totals, default=0))
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    n = max(len(columns), 1)
    step = plot_w / n
    bar_w = max(1.0, step * 0.8)
    every = max(1, math.ceil(n / 12))
    body = _axes(ymax, unit)
    for i, (xlabel, segs) in enumerate(columns):
        x = LEFT + i * step + (step - bar_w) / 2
        y = float(TOP + plot_h)
        for value, colour, tip in segs:
            if value <= 0:
                continue
            h = plot_h * value / ymax
            y -= h
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
        if i % every == 0:
            body.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle" '
                f'font-size="11" fill="#555">{escape(xlabel)}</text>'
            )
    body.append(
        f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
        'stroke="#888"/>'
    )
    return _svg(name, label, body, legend)


# --------------------------------------------------------------------------- open cases


def _as_status(value: Any) -> CaseStatus | None:
    if isinstance(value, dict):
        return _as_status(value.get("status"))
    if not isinstance(value, str):
        return None
    try:
        return CaseStatus(value.upper())
    except ValueError:
        pass
    folded = value.strip().casefold()
    for status, label in STATUS_LABELS.items():
        if label.casefold() == folded:
            return status
    return None


def status_history(b: CaseBundle) -> list[tuple[datetime, CaseStatus]]:
    """[(from when, status)] for one case, oldest first (see the module notes)."""
    c = b.case
    changes = [
        (e.detected_at, _as_status(e.before), _as_status(e.after))
        for e in b.events
        if e.kind is EventKind.STATUS_CHANGED
    ]
    if not changes:
        if c.status.is_final:
            end = max(c.last_updated_at or c.last_seen_at, c.created_at)
            return [(c.created_at, CaseStatus.UNKNOWN), (end, c.status)]
        return [(c.created_at, c.status)]
    first = changes[0][1] or CaseStatus.UNKNOWN
    out = [(c.created_at, first)]
    for when, _, after in changes:
        out.append((max(when, c.created_at), after or CaseStatus.UNKNOWN))
    return out


def _sample_points(
    start: datetime, end: datetime, tz: zoneinfo.ZoneInfo
) -> list[tuple[datetime, str]]:
    """Period ends between start and end: days, weeks or months, at most about 60 bars."""
    span = end - start
    local_end = end.astimezone(tz)
    points: list[tuple[datetime, str]] = []
    if span <= timedelta(days=60):
        day = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        while True:
            day_end = min(day + timedelta(days=1), local_end)
            points.append((day_end, day.strftime("%m-%d")))
            if day_end >= local_end:
                break
            day = day + timedelta(days=1)
    elif span <= timedelta(days=420):
        week = start.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        week -= timedelta(days=week.weekday())
        while True:
            week_end = min(week + timedelta(days=7), local_end)
            points.append((week_end, week.strftime("%m-%d")))
            if week_end >= local_end:
                break
            week = week + timedelta(days=7)
    else:
        month = start.astimezone(tz).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while True:
            nxt = (month + timedelta(days=32)).replace(day=1)
            month_end = min(nxt, local_end)
            points.append((month_end, month.strftime("%Y-%m")))
            if month_end >= local_end:
                break
            month = nxt
        if len(points) > 60:
            points = points[-60:]
    return points


OPEN_STATUSES = frozenset(
    {
        CaseStatus.OPEN,
        CaseStatus.PENDING_AMAZON_ACTION,
        CaseStatus.NEEDS_YOUR_ATTENTION,
        CaseStatus.WORK_IN_PROGRESS,
        CaseStatus.TRANSFERRED,
        CaseStatus.REOPENED,
    }
)
"""The statuses the chart counts as open: someone still has to act (Answered is not)."""


def status_coverage_note(groups: Sequence[AccountBundles]) -> str:
    """How much status history the chart could reconstruct, in one or two sentences."""
    cases = [b for g in groups for b in g.cases]
    if not cases:
        return ""
    seen = sum(1 for b in cases if any(e.kind is EventKind.STATUS_CHANGED for e in b.events))
    still_open = sum(
        1
        for b in cases
        if b.case.status in OPEN_STATUSES
        and not any(e.kind is EventKind.STATUS_CHANGED for e in b.events)
    )
    unknown = len(cases) - seen - still_open
    text = (
        f"History reconstructed for {seen + still_open:,} of {len(cases):,} cases "
        f"({seen:,} with status changes the agent saw; {still_open:,} open now, counted in "
        "their current status since they were opened)."
    )
    if unknown:
        text += (
            f" {unknown:,} cases were answered, resolved or closed before the agent saw their "
            "status change; their earlier statuses are unknown and they are not counted."
        )
    return text


def open_by_status(groups: Sequence[AccountBundles], *, until: datetime) -> Markup:
    label = "Open cases by status over time"
    cases = [b for g in groups for b in g.cases]
    if not cases:
        return _empty("open-by-status", label, "No cases yet")
    tz = chart_timezone(groups)
    changes: list[tuple[datetime, CaseStatus, int]] = []
    for b in cases:
        hist = status_history(b)
        for i, (when, status) in enumerate(hist):
            if status not in OPEN_STATUSES:
                continue  # Answered, Unknown (history not seen), Resolved, Closed
            changes.append((when, status, +1))
            if i + 1 < len(hist):
                changes.append((hist[i + 1][0], status, -1))
    start = min(b.case.created_at for b in cases)
    points = _sample_points(start, max(until, start), tz)
    changes.sort(key=lambda t: t[0])
    counts: Counter[CaseStatus] = Counter()
    k = 0
    columns = []
    order = [s for s in STATUS_COLOURS if s in OPEN_STATUSES]
    seen: set[CaseStatus] = set()
    for when, xlabel in points:
        while k < len(changes) and changes[k][0] <= when:
            counts[changes[k][1]] += changes[k][2]
            k += 1
        segs = []
        for s in order:
            if counts[s] > 0:
                seen.add(s)
                tip = f"{xlabel}: {counts[s]} {STATUS_LABELS[s]}"
                segs.append((float(counts[s]), STATUS_COLOURS[s], tip))
        columns.append((xlabel, segs))
    legend = [(STATUS_LABELS[s], STATUS_COLOURS[s]) for s in order if s in seen]
    return _bars("open-by-status", label, columns, legend=legend)


# --------------------------------------------------------------------------- response times


def all_response_times(groups: Sequence[AccountBundles]) -> list[tuple[datetime, float]]:
    """Every (seller's message, hours until Amazon answered) in the archive."""
    return [rt for g in groups for b in g.cases for rt in amazon_response_times(b.messages)]


def response_times_by_month(
    groups: Sequence[AccountBundles], times: list[tuple[datetime, float]] | None = None
) -> Markup:
    label = "Amazon's response time: median hours per month"
    times = all_response_times(groups) if times is None else times
    if not times:
        return _empty("response-by-month", label, "No answered messages yet")
    tz = chart_timezone(groups)
    by_month: dict[str, list[float]] = defaultdict(list)
    for asked, hours in times:
        by_month[asked.astimezone(tz).strftime("%Y-%m")].append(hours)
    months = sorted(by_month)[-36:]
    columns = []
    for m in months:
        med = statistics.median(by_month[m])
        tip = f"{m}: median {med:.1f} h over {len(by_month[m])} answers"
        columns.append((m, [(med, ACCENT, tip)]))
    return _bars("response-by-month", label, columns, unit="h")


BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 4 h", 4),
    ("4–24 h", 24),
    ("1–2 d", 48),
    ("2–3 d", 72),
    ("3–7 d", 168),
    ("> 7 d", math.inf),
)


def response_time_distribution(
    groups: Sequence[AccountBundles], times: list[tuple[datetime, float]] | None = None
) -> Markup:
    label = "Amazon's response time: how many answers took how long"
    times = all_response_times(groups) if times is None else times
    if not times:
        return _empty("response-distribution", label, "No answered messages yet")
    counts = [0] * len(BUCKETS)
    for _, hours in times:
        for i, (_, upper) in enumerate(BUCKETS):
            if hours < upper:
                counts[i] += 1
                break
    colours = ["#3a9e8f", "#6aa84f", "#e0a526", "#e07b26", "#d1453b", "#8e2c25"]
    columns = [
        (name, [(float(n), colours[i], f"{name}: {n} answers")])
        for i, ((name, _), n) in enumerate(zip(BUCKETS, counts, strict=True))
    ]
    return _bars("response-distribution", label, columns)


# --------------------------------------------------------------------------- categories


def cases_by_category(groups: Sequence[AccountBundles]) -> Markup:
    label = "Cases by category (from the subject)"
    cases = [b for g in groups for b in g.cases]
    if not cases:
        return _empty("by-category", label, "No cases yet")
    open_n: Counter[str] = Counter()
    done_n: Counter[str] = Counter()
    for b in cases:
        (done_n if b.case.status.is_final else open_n)[b.category] += 1
    order = category_order(groups)
    xmax = _nice_max(max(open_n[c] + done_n[c] for c in order))
    row_h = (H - TOP - 20) / len(order)
    left = 140
    plot_w = W - left - 60
    body = []
    for i, cat in enumerate(order):
        y = TOP + i * row_h
        body.append(
            f'<text x="{left - 8}" y="{y + row_h * 0.62:.1f}" text-anchor="end" font-size="12" '
            f'fill="#333">{escape(cat)}</text>'
        )
        x = float(left)
        for n, colour, what in ((open_n[cat], ACCENT, "open"), (done_n[cat], MUTED, "closed")):
            if n:
                w = plot_w * n / xmax
                body.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y + row_h * 0.15:.1f}" width="{w:.1f}" '
                    f'height="{row_h * 0.7:.1f}" fill="{colour}"><title>{escape(cat)}: {n} '
                    f"{what}</title></rect>"
                )
                x += w
        total = open_n[cat] + done_n[cat]
        body.append(
            f'<text x="{x + 6:.1f}" y="{y + row_h * 0.62:.1f}" font-size="11" '
            f'fill="#555">{total}</text>'
        )
    return _svg("by-category", label, body, [("open", ACCENT), ("resolved or closed", MUTED)])
