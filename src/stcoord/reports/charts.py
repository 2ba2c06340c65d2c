"""Vega-Lite chart specs of a plan (plain dicts) and their server-side SVG rendering.

The spec builders are pure: they take plain data and already-translated labels and return a
Vega-Lite v5 spec that pages embed with vega-embed and reports render to SVG with vl-convert
(:func:`to_svg`). Three charts:

- :func:`progress_by_goal`: one horizontal bar per goal, coloured by status;
- :func:`indicator_trend`: an indicator's measurements against its target and baseline lines,
  with the straight path from baseline to target that the status rules expect;
- :func:`stage_dates`: planned against actual dates of each procedure stage (two bars a stage).

Text uses a font family with CJK glyphs, so Chinese and Japanese labels render in the SVG and
in PDFs.

>>> spec = progress_by_goal([GoalBar("G1", "Research", 0.5, "on_track")],
...                         status_labels={"on_track": "on track"})
>>> spec["data"]["values"][0]["progress"], spec["layer"][0]["mark"]["type"]
(0.5, 'bar')
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
VL_VERSION = "5.21"  # the vega-lite served from /static/vendor
FONTS = {"zh": "Noto Sans CJK SC", "ja": "Noto Sans CJK JP"}
DEFAULT_FONT = "Noto Sans CJK JP"
STATUSES = ("done", "on_track", "at_risk", "late", "no_data")
STATUS_COLOURS = {
    "done": "#15803d",
    "on_track": "#2563eb",
    "at_risk": "#d97706",
    "late": "#b91c1c",
    "no_data": "#94a3b8",
}
WIDTH = 640


def font_for(lang: str) -> str:
    """A font family that has the glyphs of ``lang`` (Noto CJK covers Latin too)."""
    return FONTS.get(lang, DEFAULT_FONT)


def _frame(font: str, title: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "$schema": SCHEMA,
        "background": "white",
        "config": {
            "font": font,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#e2e8f0"},
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
            "title": {"fontSize": 13, "anchor": "start"},
        },
    }
    if title:
        spec["title"] = title
    return spec


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _time_axis(days: Sequence[dt.date]) -> dict[str, Any]:
    """Years as ticks over long spans, year-month over short ones (never bare month names)."""
    if days and (max(days) - min(days)).days > 2 * 365:
        return {"format": "%Y", "tickCount": "year"}
    return {"format": "%Y-%m"}


# ---------------------------------------------------------------- progress by goal


@dataclass(frozen=True)
class GoalBar:
    code: str
    label: str
    progress: float  # 0..1
    status: str


def progress_by_goal(
    goals: Sequence[GoalBar],
    *,
    status_labels: Mapping[str, str],
    title: str | None = None,
    axis_title: str = "Progress",
    status_title: str = "Status",
    font: str = DEFAULT_FONT,
) -> dict[str, Any]:
    """Horizontal bars of each goal's progress (0–100%), coloured by status, in the given order."""
    values = [
        {
            "code": g.code,
            "goal": f"{g.code} {g.label}",
            "progress": round(max(0.0, min(1.0, g.progress)), 4),
            "status": status_labels.get(g.status, g.status),
        }
        for g in goals
    ]
    spec = _frame(font, title)
    spec.update(
        {
            "width": WIDTH - 220,
            "height": {"step": 26},
            "data": {"values": values},
            "encoding": {
                "y": {
                    "field": "goal",
                    "type": "nominal",
                    "sort": None,
                    "title": None,
                    "axis": {"labelLimit": 280},
                },
                "x": {
                    "field": "progress",
                    "type": "quantitative",
                    "scale": {"domain": [0, 1]},
                    "axis": {"format": "%", "title": axis_title},
                },
            },
            "layer": [
                {
                    "mark": {"type": "bar", "cornerRadiusEnd": 3},
                    "encoding": {
                        "color": {
                            "field": "status",
                            "type": "nominal",
                            "title": status_title,
                            "scale": {
                                "domain": [status_labels.get(s, s) for s in STATUSES],
                                "range": [STATUS_COLOURS[s] for s in STATUSES],
                            },
                        },
                        "tooltip": [
                            {"field": "goal", "type": "nominal", "title": " "},
                            {"field": "progress", "type": "quantitative", "format": ".0%"},
                            {"field": "status", "type": "nominal", "title": status_title},
                        ],
                    },
                },
                {
                    "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 11},
                    "encoding": {"text": {"field": "progress", "format": ".0%"}},
                },
            ],
        }
    )
    return spec


# ---------------------------------------------------------------- indicator trend


@dataclass(frozen=True)
class Point:
    on_date: dt.date
    value: float


def indicator_trend(
    *,
    points: Sequence[Point],
    baseline: float,
    target: float,
    baseline_date: dt.date | None = None,
    deadline: dt.date | None = None,
    unit: str = "",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    font: str = DEFAULT_FONT,
) -> dict[str, Any]:
    """Measurements as a line against the target and baseline (horizontal rules) and, when both
    dates are known, the expected straight path from baseline to target.

    ``labels`` names the series: ``measured``, ``target``, ``baseline``, ``expected``, ``date``.
    """
    words = {
        "measured": "Measured",
        "target": "Target",
        "baseline": "Baseline",
        "expected": "Expected path",
        "date": "Date",
    } | dict(labels or {})
    series = [words["measured"], words["target"], words["baseline"], words["expected"]]
    colours = ["#1d4ed8", "#15803d", "#64748b", "#a855f7"]
    colour = {
        "field": "series",
        "type": "nominal",
        "title": None,
        "scale": {"domain": series, "range": colours},
    }
    y_title = unit or None
    days = [p.on_date for p in points] + [d for d in (baseline_date, deadline) if d]
    x_enc = {
        "field": "date",
        "type": "temporal",
        "title": words["date"],
        "axis": _time_axis(days),
    }
    y_enc = {"field": "value", "type": "quantitative", "title": y_title, "scale": {"zero": False}}
    measured = [
        {"date": _iso(p.on_date), "value": p.value, "series": words["measured"]} for p in points
    ]
    layers: list[dict[str, Any]] = [
        {
            "data": {
                "values": [
                    {"value": target, "series": words["target"]},
                    {"value": baseline, "series": words["baseline"]},
                ]
            },
            "mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 1.5},
            "encoding": {
                "y": y_enc,
                "color": colour,
                "tooltip": [
                    {"field": "series", "type": "nominal", "title": " "},
                    {"field": "value", "type": "quantitative", "title": y_title or " "},
                ],
            },
        }
    ]
    if baseline_date and deadline:
        layers.append(
            {
                "data": {
                    "values": [
                        {"date": _iso(baseline_date), "value": baseline, "series": series[3]},
                        {"date": _iso(deadline), "value": target, "series": series[3]},
                    ]
                },
                "mark": {"type": "line", "strokeDash": [2, 3], "strokeWidth": 1.5},
                "encoding": {
                    "x": x_enc,
                    "y": y_enc,
                    "color": colour,
                },
            }
        )
    if measured:
        layers.append(
            {
                "data": {"values": measured},
                "mark": {"type": "line", "point": True, "strokeWidth": 2},
                "encoding": {
                    "x": x_enc,
                    "y": y_enc,
                    "color": colour,
                    "tooltip": [
                        {"field": "date", "type": "temporal", "title": words["date"]},
                        {"field": "value", "type": "quantitative", "title": y_title or " "},
                    ],
                },
            }
        )
    else:  # keep a legend entry for the measured series and a time axis even without values
        days = [d for d in (baseline_date, deadline) if d]
        layers.append(
            {
                "data": {
                    "values": [
                        {"date": _iso(d), "value": baseline, "series": series[0]} for d in days
                    ]
                },
                "mark": {"type": "point", "opacity": 0},
                "encoding": {
                    "x": x_enc,
                    "y": y_enc,
                    "color": colour,
                },
            }
        )
    spec = _frame(font, title)
    spec.update(
        {
            "width": WIDTH,
            "height": 220,
            "layer": layers,
            "resolve": {"scale": {"color": "shared"}},
        }
    )
    return spec


# ---------------------------------------------------------------- planned versus actual dates


@dataclass(frozen=True)
class StageSpan:
    label: str
    planned_start: dt.date | None = None
    planned_end: dt.date | None = None
    actual_start: dt.date | None = None
    actual_end: dt.date | None = None


def stage_dates(
    stages: Sequence[StageSpan],
    *,
    today: dt.date,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    font: str = DEFAULT_FONT,
) -> dict[str, Any]:
    """Two bars per stage, planned and actual; an open stage's actual bar runs to ``today``.

    ``labels``: ``planned``, ``actual``, ``ongoing``, ``start``, ``end``, ``stage``.
    A one-day span is drawn one day wide so it stays visible.
    """
    words = {
        "planned": "Planned",
        "actual": "Actual",
        "ongoing": "Actual (still open)",
        "start": "Start",
        "end": "End",
        "stage": "Stage",
    } | dict(labels or {})
    days = [
        d
        for s in stages
        for d in (s.planned_start, s.planned_end, s.actual_start, s.actual_end)
        if d is not None
    ] + [today]
    # the shortest bar drawn: a day, or 1/100 of the time shown, so one-day stages stay visible
    one_day = max(dt.timedelta(days=1), (max(days) - min(days)) / 100)
    values: list[dict[str, Any]] = []
    for seq, s in enumerate(stages):
        if s.planned_start or s.planned_end:
            start = s.planned_start or s.planned_end
            end = s.planned_end or start
            assert start is not None and end is not None
            values.append(
                {
                    "stage": s.label,
                    "seq": seq,
                    "kind": words["planned"],
                    "row": "planned",
                    "start": _iso(start),
                    "end": _iso(max(end + dt.timedelta(days=1), start + one_day)),
                    "shown_end": _iso(end),
                }
            )
        if s.actual_start:
            end = s.actual_end or max(today, s.actual_start)
            values.append(
                {
                    "stage": s.label,
                    "seq": seq,
                    "kind": words["actual"] if s.actual_end else words["ongoing"],
                    "row": "actual",
                    "start": _iso(s.actual_start),
                    "end": _iso(max(end + dt.timedelta(days=1), s.actual_start + one_day)),
                    "shown_end": _iso(s.actual_end) if s.actual_end else "…",
                }
            )
    kinds = [words["planned"], words["actual"], words["ongoing"]]
    spec = _frame(font, title)
    spec.update(
        {
            "width": WIDTH - 120,
            "height": 34 * max(1, len(stages)),
            "data": {"values": values},
            "mark": {"type": "bar", "cornerRadius": 2, "minBandwidth": 2},
            "encoding": {
                "y": {
                    "field": "stage",
                    "type": "nominal",
                    "sort": None,
                    "scale": {"domain": [s.label for s in stages], "paddingInner": 0.25},
                    "title": None,
                    "axis": {"labelLimit": 240},
                },
                "yOffset": {
                    "field": "row",
                    "type": "nominal",
                    "scale": {"domain": ["planned", "actual"]},
                },
                "x": {
                    "field": "start",
                    "type": "temporal",
                    "title": None,
                    "axis": _time_axis(days),
                },
                "x2": {"field": "end"},
                "color": {
                    "field": "kind",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": kinds, "range": ["#cbd5e1", "#1d4ed8", "#60a5fa"]},
                },
                "tooltip": [
                    {"field": "stage", "type": "nominal", "title": words["stage"]},
                    {"field": "kind", "type": "nominal", "title": " "},
                    {"field": "start", "type": "nominal", "title": words["start"]},
                    {"field": "shown_end", "type": "nominal", "title": words["end"]},
                ],
            },
        }
    )
    return spec


# ---------------------------------------------------------------- rendering


@lru_cache(maxsize=256)
def _svg_of(spec_json: str) -> str:
    import vl_convert

    svg = vl_convert.vegalite_to_svg(json.loads(spec_json), vl_version=VL_VERSION)
    return str(svg)


def to_svg(spec: Mapping[str, Any]) -> str:
    """The chart as an ``<svg>`` element (cached by spec: a page shown again costs nothing)."""
    return _svg_of(json.dumps(spec, sort_keys=True, ensure_ascii=False, default=str))
