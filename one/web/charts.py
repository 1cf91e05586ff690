"""Charts drawn on the server as SVG: no JavaScript library, readable at a glance."""
from __future__ import annotations

from typing import Mapping, Sequence

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


LINE_HEIGHT = 90
Sample = tuple[int, float]   # (epoch seconds, value)


def line(samples: Sequence[Sample], title: str, unit: str) -> Markup:
    """A value over time as a polyline, its last and highest values written above it.

    x follows the samples' times (by order when they share one stamp), y is the value
    against the highest one; no samples yet is said in words, not drawn as nothing.
    """
    if not samples:
        return Markup(f'<p class="empty">{escape(title)}: no monitoring samples yet.</p>')
    first, last = samples[0][0], samples[-1][0]
    highest = max(value for _, value in samples)
    peak = highest or 1.0
    points = []
    for index, (stamp, value) in enumerate(samples):
        share = ((stamp - first) / (last - first) if last > first
                 else index / max(len(samples) - 1, 1))
        points.append(f"{share * BAR_WIDTH:.1f},{20 + LINE_HEIGHT * (1 - value / peak):.1f}")
    text = (f"{escape(title)} ({escape(unit)}): last {samples[-1][1]:g}, "
            f"highest {highest:g}, {len(samples)} samples")
    return Markup(f'<svg class="chart line" role="img" aria-label="{text}" '
                  f'width="{BAR_WIDTH + 2}" height="{LINE_HEIGHT + 24}">'
                  f'<text x="0" y="14">{text}</text>'
                  f'<rect class="track" x="0" y="20" width="{BAR_WIDTH}" height="{LINE_HEIGHT}"/>'
                  f'<polyline class="series" points="{" ".join(points)}"/></svg>')


def usage(cpu: Sequence[Sample], memory: Sequence[Sample]) -> list[Markup]:
    """CPU and memory over time, on a VM's page and on a host's."""
    return [line(cpu, "CPU", "%"), line(memory, "Memory", "MB")]
