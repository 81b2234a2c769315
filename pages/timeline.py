"""The case timeline: certified periods laid against work periods and trips abroad, as
an inline SVG (no script, no external reference)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

WIDTH = 960
LABEL_WIDTH = 170
LANE_HEIGHT = 28
AXIS_HEIGHT = 30
COLOURS = {
    "certified": "#4c78a8",
    "tainted": "#d62728",
    "employment": "#59a14f",
    "income": "#f28e2b",
    "abroad": "#b07aa1",
    "possibly_abroad": "#d4b6cc",
}


@dataclass(frozen=True)
class Bar:
    start: dt.date
    end: dt.date  # inclusive
    kind: str  # a key of COLOURS
    title: str  # the tooltip: what the bar is


@dataclass(frozen=True)
class Lane:
    label: str
    bars: tuple[Bar, ...]


def shifted(day: dt.date, days: int) -> dt.date:
    """`day` moved by `days`, held at the ends of the calendar (date.min, date.max): a
    page near either end is still drawn, not an OverflowError."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def _months(start: dt.date, end: dt.date) -> list[dt.date]:
    first = dt.date(start.year, start.month, 1)
    months = []
    while first <= end:
        if first >= start:
            months.append(first)
        if (first.year, first.month) == (dt.MAXYEAR, 12):
            break
        first = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return months


def timeline_svg(lanes: list[Lane], start: dt.date, end: dt.date, today: dt.date | None = None) -> str:
    """Lanes of bars between `start` and `end` (inclusive) -> an SVG document fragment.
    Every text is escaped; a bar's title is its tooltip."""
    if end < start:
        start, end = end, start
    days = max((end - start).days + 1, 1)
    plot = WIDTH - LABEL_WIDTH - 10
    height = AXIS_HEIGHT + LANE_HEIGHT * max(len(lanes), 1) + 10

    def x(day: dt.date) -> float:
        return LABEL_WIDTH + plot * ((min(max(day, start), shifted(end, 1)) - start).days / days)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" aria-label="timeline">'
    ]
    for month in _months(start, end):
        mx = x(month)
        parts.append(f'<line x1="{mx:.1f}" y1="{AXIS_HEIGHT - 6}" x2="{mx:.1f}" y2="{height - 10}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{mx + 2:.1f}" y="{AXIS_HEIGHT - 10}" font-size="10" fill="#555">{month.strftime("%Y-%m")}</text>'
        )
    if today is not None and start <= today <= end:
        tx = x(today)
        parts.append(
            f'<line x1="{tx:.1f}" y1="{AXIS_HEIGHT - 6}" x2="{tx:.1f}" y2="{height - 10}" '
            f'stroke="#000" stroke-dasharray="3,3"><title>run date {today.isoformat()}</title></line>'
        )
    for index, lane in enumerate(lanes):
        y = AXIS_HEIGHT + index * LANE_HEIGHT
        parts.append(f'<text x="4" y="{y + 17}" font-size="12" fill="#222">{escape(lane.label)}</text>')
        for bar in lane.bars:
            x0, x1 = x(bar.start), x(shifted(bar.end, 1))
            colour = COLOURS.get(bar.kind, "#999")
            parts.append(
                f'<rect class="bar {escape(bar.kind)}" x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 2):.1f}" '
                f'height="{LANE_HEIGHT - 10}" fill="{colour}" fill-opacity="0.85">'
                f"<title>{escape(bar.title)}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def trips(crossings: list[dict], until: dt.date) -> list[Bar]:
    """Crossings (crossed_at: aware datetime or ISO text, direction) of one person ->
    bars abroad: OUT to the next IN; an OUT followed by another OUT (the IN missing) is
    certain only on its day, the rest possibly abroad; a trip still open ends at `until`."""
    from zoneinfo import ZoneInfo

    seoul = ZoneInfo("Asia/Seoul")

    def day(value) -> dt.date:
        moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return moment.astimezone(seoul).date() if moment.tzinfo else moment.date()

    ordered = sorted(crossings, key=lambda c: (day(c["crossed_at"]), str(c["crossed_at"]), c.get("crossing_id", "")))
    bars: list[Bar] = []
    out = None
    for crossing in ordered:
        if crossing["direction"] == "OUT":
            if out is not None:
                bars.append(
                    Bar(
                        day(out["crossed_at"]),
                        day(out["crossed_at"]),
                        "abroad",
                        f"left for {out.get('country') or '?'} on {day(out['crossed_at'])}",
                    )
                )
                bars.append(
                    Bar(
                        day(out["crossed_at"]),
                        day(crossing["crossed_at"]),
                        "possibly_abroad",
                        "possibly abroad: no IN recorded before the next OUT",
                    )
                )
            out = crossing
        elif crossing["direction"] == "IN" and out is not None:
            bars.append(
                Bar(
                    day(out["crossed_at"]),
                    day(crossing["crossed_at"]),
                    "abroad",
                    f"abroad in {out.get('country') or '?'} {day(out['crossed_at'])}..{day(crossing['crossed_at'])}",
                )
            )
            out = None
    if out is not None:
        bars.append(
            Bar(
                day(out["crossed_at"]),
                until,
                "abroad",
                f"abroad in {out.get('country') or '?'} since {day(out['crossed_at'])} (no IN yet)",
            )
        )
    return bars
