"""Charts drawn on the server as SVG: no JavaScript library, readable at a glance."""
from __future__ import annotations

from typing import Mapping

from markupsafe import Markup, escape

BAR_WIDTH = 320
ROW = 22


def state_bars(counts: Mapping[str, int], title: str) -> Markup:
    """One horizontal bar per state, longest first, with its count."""
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    top = max((count for _, count in items), default=0) or 1
    rows = []
    for index, (state, count) in enumerate(items):
        y = index * ROW
        width = round(BAR_WIDTH * count / top)
        rows.append(f'<text x="0" y="{y + 15}">{escape(state)}</text>'
                    f'<rect class="bar state-{escape(state.lower())}" x="130" y="{y + 3}" '
                    f'width="{width}" height="{ROW - 6}"/>'
                    f'<text x="{136 + width}" y="{y + 15}">{count}</text>')
    height = max(len(items), 1) * ROW
    return Markup(f'<svg class="chart" role="img" aria-label="{escape(title)}" '
                  f'width="{BAR_WIDTH + 180}" height="{height}">{"".join(rows)}</svg>')


def capacity_bar(label: str, used: float, total: float, unit: str) -> Markup:
    """Allocated against total, as a filled bar with both numbers."""
    share = min(used / total, 1.0) if total > 0 else 0.0
    width = round(BAR_WIDTH * share)
    text = f"{escape(label)}: {used:g} / {total:g} {escape(unit)} ({share:.0%})"
    return Markup(f'<svg class="chart" role="img" aria-label="{text}" '
                  f'width="{BAR_WIDTH + 2}" height="44">'
                  f'<text x="0" y="14">{text}</text>'
                  f'<rect class="track" x="0" y="20" width="{BAR_WIDTH}" height="18"/>'
                  f'<rect class="bar used" x="0" y="20" width="{width}" height="18"/></svg>')
