"""A small terminal plot of one series over time: people read trends from a picture.

The samples are spread over `width` columns by time (each column the mean of
its samples), scaled between the series' minimum and maximum into `height`
rows of block characters, eighths of a row at the top of each bar. The
labels give the scale and the first and last sample's time.
"""
from __future__ import annotations

import time
from typing import Sequence

_BLOCKS = " ▁▂▃▄▅▆▇█"


def _columns(points: Sequence[tuple[int, float]], width: int) -> list[float | None]:
    first, last = points[0][0], points[-1][0]
    span = max(last - first, 1)
    sums, counts = [0.0] * width, [0] * width
    for stamp, value in points:
        column = min(width - 1, (stamp - first) * width // span)
        sums[column] += value
        counts[column] += 1
    return [total / count if count else None for total, count in zip(sums, counts)]


def _level(value: float, low: float, high: float, height: int) -> int:
    """Eighths of a row a bar reaches: 1 at the least value, all rows at the most;
    half the rows when the series is flat."""
    if high == low:
        return height * 4
    return round((value - low) / (high - low) * (height * 8 - 1)) + 1


def _clock(stamp: int) -> str:
    return time.strftime("%m/%d %H:%M", time.localtime(stamp))


def plot(title: str, points: Sequence[tuple[int, float]], width: int = 60,
         height: int = 6) -> str:
    """The chart of `points` (timestamp, value) in time order, with `title` above it."""
    if not points:
        return f"{title}: no samples"
    values = [value for _, value in points]
    low, high = min(values), max(values)
    columns = _columns(points, width)
    levels = [None if v is None else _level(v, low, high, height) for v in columns]
    labels = [f"{high:.4g}"] + [""] * (height - 2) + [f"{low:.4g}"]
    pad = max(len(label) for label in labels)
    lines = [f"{title}  last {values[-1]:.4g}  min {low:.4g}  max {high:.4g}"]
    for row, label in enumerate(labels):
        floor = (height - 1 - row) * 8
        cells = "".join(" " if level is None else _BLOCKS[max(0, min(8, level - floor))]
                        for level in levels)
        lines.append(f"{label:>{pad}} ┤{cells}")
    start, end = _clock(points[0][0]), _clock(points[-1][0])
    gap = " " * max(1, width - len(start) - len(end))
    lines.append(f"{'':>{pad}}  {start}{gap}{end}")
    return "\n".join(lines)
