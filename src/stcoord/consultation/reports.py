"""What the consultation's two reports show (rendered to HTML and PDF by ``pages.py``):

- the **summary**: who was heard by sector against the stage's channels, the opinion groups with
  a chart of participants on the first two principal components, each group's representative
  statements, group-informed consensus, divisive statements, and agreement by sector;
- the **result of comments**: every comment with its official disposition and reason, as Japan's
  public comment procedure requires the government to publish.

Both are public (``consultation.read``): individuals are shown by sector only, never by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stcoord.consultation import dashboard
from stcoord.consultation.models import OUTCOMES, SECTORS


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


TERMS: dict[str, dict[str, str]] = {
    "sector": {
        "ministry": N_("Ministry or agency"),
        "industry": N_("Industry"),
        "academia": N_("Academia"),
        "civil_society": N_("Civil society"),
        "individual": N_("Individual"),
        "unknown": N_("Unknown"),
    },
    "outcome": {
        "adopted": N_("Adopted"),
        "partly_adopted": N_("Partly adopted"),
        "not_adopted": N_("Not adopted"),
        "out_of_scope": N_("Out of scope"),
    },
    "kind": {
        "public_comment": N_("Public comment"),
        "rfi": N_("Request for information"),
        "expert_panel": N_("Expert panel"),
        "delphi": N_("Delphi survey"),
        "conversation": N_("Conversation (statements and votes)"),
    },
    "channel": {
        "interagency": N_("Interagency"),
        "industry": N_("Industry"),
        "academia": N_("Academia"),
        "public_comment": N_("Public comment"),
        "rfi": N_("Request for information"),
        "advisory": N_("Advisory bodies"),
        "legislature": N_("Legislature"),
    },
    "direction": {"agree": N_("agree"), "disagree": N_("disagree")},
    "status": {"open": N_("accepting input"), "closed": N_("closed")},
}
assert set(TERMS["sector"]) >= set(SECTORS) and set(TERMS["outcome"]) == set(OUTCOMES)
GROUP_COLOURS = ["#2563eb", "#d97706", "#15803d", "#9333ea", "#dc2626", "#0891b2", "#64748b"]


def participants_chart(
    points: Sequence[Mapping[str, Any]],
    *,
    labels: Mapping[str, str],
    sector_names: Mapping[str, str],
    explained: tuple[float, float] = (0.0, 0.0),
    font: str = "Noto Sans CJK JP",
    title: str | None = None,
    with_names: bool = False,
) -> dict[str, Any]:
    """Participants on the first two principal components, coloured by opinion group and
    shaped by sector (a Vega-Lite spec).

    >>> spec = participants_chart([{"x": 0.1, "y": -0.2, "group": "A", "sector": "industry",
    ...                             "participant": 1, "name": "p"}],
    ...                           labels={"group": "Group", "none": "none"},
    ...                           sector_names={"industry": "Industry"})
    >>> point = spec["data"]["values"][0]
    >>> spec["mark"]["type"], point["group"], "name" in point
    ('point', 'A', False)
    """
    words = {
        "group": "Opinion group",
        "sector": "Sector",
        "x": "First component",
        "y": "Second component",
        "none": "not clustered",
    } | dict(labels)
    values = [
        {
            "x": p["x"],
            "y": p["y"],
            "group": p["group"] or words["none"],
            "sector": sector_names.get(p["sector"], p["sector"]),
            **({"name": p["name"]} if with_names else {}),
        }
        for p in points
    ]
    groups = sorted({v["group"] for v in values if v["group"] != words["none"]})
    domain = [*groups, words["none"]]
    colours = [GROUP_COLOURS[i % len(GROUP_COLOURS)] for i in range(len(groups))] + ["#cbd5e1"]
    tooltip = [
        {"field": "group", "type": "nominal", "title": words["group"]},
        {"field": "sector", "type": "nominal", "title": words["sector"]},
    ]
    if with_names:
        tooltip.insert(0, {"field": "name", "type": "nominal", "title": " "})
    spec: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "background": "white",
        "config": {
            "font": font,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#e2e8f0"},
            "legend": {"labelFontSize": 11, "titleFontSize": 11},
        },
    }
    if title:
        spec["title"] = title
    spec.update(
        {
            "width": 420,
            "height": 320,
            "data": {"values": values},
            "mark": {"type": "point", "filled": True, "size": 70, "opacity": 0.8},
            "encoding": {
                "x": {
                    "field": "x",
                    "type": "quantitative",
                    "title": f"{words['x']} ({explained[0]:.0%})",
                    "axis": {"labels": False, "ticks": False},
                },
                "y": {
                    "field": "y",
                    "type": "quantitative",
                    "title": f"{words['y']} ({explained[1]:.0%})",
                    "axis": {"labels": False, "ticks": False},
                },
                "color": {
                    "field": "group",
                    "type": "nominal",
                    "title": words["group"],
                    "scale": {"domain": domain, "range": colours},
                },
                "shape": {"field": "sector", "type": "nominal", "title": words["sector"]},
                "tooltip": tooltip,
            },
        }
    )
    return spec


def sector_table(d: dashboard.Dashboard) -> tuple[list[str], list[dict[str, Any]]]:
    """Statements (rows) by sector (columns): the share of the sector's votes that agree."""
    seen = {r["sector"] for r in d.analysis.sector_agreement}
    present = [s for s in [*SECTORS, "unknown"] if s in seen]
    rows: dict[int, dict[str, Any]] = {}
    for r in d.analysis.sector_agreement:
        row = rows.setdefault(r["statement"], {"statement": r["statement"], "text": r["text"]})
        row[r["sector"]] = r
    return present, [rows[k] for k in sorted(rows)]
