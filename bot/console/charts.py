"""Bar charts as inline SVG, drawn on the server (no scripts, nothing downloaded).

Colours are SVG attributes, not ``style``, so the strict Content-Security-Policy holds.
"""

from __future__ import annotations

import datetime
from html import escape

PALETTE = ("#1b6ca8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#30638e", "#c3423f",
           "#5b8e7d", "#a44a3f")
ROW = 22
LABEL_WIDTH = 70
BAR_WIDTH = 260


def day_label(day: int) -> str:
    return datetime.date.fromordinal(datetime.date(1970, 1, 1).toordinal() + day).strftime("%a %d %b")


def stacked_bars(days: list[int], counts: dict[int, dict[str, int]], names: dict[str, str], title: str) -> str:
    """One stacked bar per day, one colour per series (language or topic), with a legend."""
    series = sorted({name for day in days for name in counts.get(day, {})})
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    most = max([sum(counts.get(day, {}).values()) for day in days] + [1])
    height = ROW * len(days) + 10
    parts = [f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {LABEL_WIDTH + BAR_WIDTH + 40} {height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for row, day in enumerate(days):
        y = row * ROW + 5
        parts.append(f'<text x="0" y="{y + 14}" font-size="11">{escape(day_label(day))}</text>')
        x = float(LABEL_WIDTH)
        for name in series:
            value = counts.get(day, {}).get(name, 0)
            if not value:
                continue
            width = BAR_WIDTH * value / most
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW - 6}" fill="{colour[name]}">'
                         f'<title>{escape(names.get(name, name))}: {value}</title></rect>')
            x += width
        total = sum(counts.get(day, {}).values())
        if total:
            parts.append(f'<text x="{x + 4:.1f}" y="{y + 14}" font-size="11">{total}</text>')
    parts.append("</svg>")
    legend = "".join(
        f'<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{colour[name]}"/></svg> '
        f'{escape(names.get(name, name))}</li>'
        for name in series
    )
    return "".join(parts) + f'<ul class="legend">{legend}</ul>'
