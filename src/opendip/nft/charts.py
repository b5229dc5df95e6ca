"""Charts for the reports: matplotlib drawn to inline SVG, so an HTML report is one file with no scripts."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot

import itertools

import matplotlib.pyplot as plt

Number = float | int | None


def line_chart(
    title: str,
    x: Sequence[Number],
    series: dict[str, Sequence[Number]],
    *,
    x_label: str = "",
    y_label: str = "",
    log_y: bool = False,
    thresholds: dict[str, float] | None = None,
    bars: bool = False,
) -> str:
    """One chart as an `<svg>` element; None values leave gaps. Threshold lines are drawn dashed."""
    figure, axes = plt.subplots(figsize=(9, 3.4), dpi=96)
    try:
        width = _bar_width(x, len(series)) if bars else 0.0
        for index, (name, values) in enumerate(series.items()):
            points = [(a, b) for a, b in zip(x, values, strict=True) if a is not None and b is not None]
            xs = [float(a) for a, _ in points]
            ys = [float(b) for _, b in points]
            if bars:
                axes.bar([v + (index - (len(series) - 1) / 2) * width for v in xs], ys, width=width, label=name)
            else:
                axes.plot(xs, ys, label=name, linewidth=1.4, marker="." if len(xs) < 40 else None)
        for name, value in (thresholds or {}).items():
            axes.axhline(value, linestyle="--", linewidth=1, color="grey")
            axes.annotate(name, (0.0, value), xycoords=("axes fraction", "data"), fontsize=8, color="grey")
        if log_y and any(v for values in series.values() for v in values if v):
            axes.set_yscale("log")
        axes.set_title(title, fontsize=11)
        axes.set_xlabel(x_label, fontsize=9)
        axes.set_ylabel(y_label, fontsize=9)
        axes.grid(alpha=0.3)
        if series:
            axes.legend(fontsize=8, loc="best")
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
    finally:
        plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _bar_width(x: Sequence[Number], count: int) -> float:
    values = sorted(float(v) for v in x if v is not None)
    step = min((b - a for a, b in itertools.pairwise(values) if b > a), default=1.0)
    return step * 0.8 / max(1, count)
