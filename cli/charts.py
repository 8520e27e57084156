"""Charts of a ``lamctl tune`` result: bars in the terminal, and an SVG file written by hand (no dependency).

Both show, per memory size, the median duration and the cost per million invocations, each scaled to its
own largest value; the picks are marked.
"""

from __future__ import annotations

from html import escape
from typing import Any

BAR = 30  # characters of the longest bar in the terminal


def _bar(value: float | None, top: float, width: int = BAR) -> str:
    if value is None or top <= 0:
        return ""
    cells = value / top * width
    full = int(cells)
    part = " ▏▎▍▌▋▊▉"[int((cells - full) * 8)] if full < width else ""
    return "█" * full + (part if part.strip() else "")


def marks(size: int, picks: Any) -> str:
    found = [name for name in ("fastest", "cheapest", "balance") if getattr(picks, name) == size]
    return ", ".join(found)


def terminal_chart(result: Any) -> list[str]:
    """Lines of a two-bar chart per size: ``duration`` (median) and ``cost`` (per million invocations)."""
    good = [s for s in result.sizes if s.median_ms is not None]
    top_ms = max((s.median_ms for s in good), default=0.0)
    top_cost = max((s.cost_per_million for s in good), default=0.0)
    lines = [f"{'memory':>8}  {'median duration':<{BAR + 12}}  cost per 1M invocations"]
    for s in result.sizes:
        if s.median_ms is None:
            failed = ", ".join(f"{k} x{v}" for k, v in sorted(s.errors.items())) or "no result"
            lines.append(f"{s.memory:>5} MB  {failed}")
            continue
        dur = f"{_bar(s.median_ms, top_ms):<{BAR}} {s.median_ms:>9.1f} ms"
        cost = f"{_bar(s.cost_per_million, top_cost, BAR // 2):<{BAR // 2}} ${s.cost_per_million:.2f}"
        mark = marks(s.memory, result.picks)
        lines.append(f"{s.memory:>5} MB  {dur}  {cost}" + (f"  <- {mark}" if mark else ""))
    return lines


def svg_chart(result: Any, title: str | None = None) -> str:
    """An SVG image: bars of the median duration (left axis), a line of the cost (right axis), per size."""
    sizes = result.sizes
    width, height = 760, 420
    left, right, top, bottom = 80, 90, 50, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    good = [s for s in sizes if s.median_ms is not None]
    top_ms = max((s.median_ms for s in good), default=1.0) or 1.0
    top_cost = max((s.cost_per_million for s in good), default=1.0) or 1.0
    step = plot_w / max(len(sizes), 1)
    bar_w = step * 0.55
    title = title or (f"lamctl tune {result.function}: median duration and cost per 1M invocations "
                      f"({result.architecture}, n={result.invocations})")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2:.0f}" y="24" text-anchor="middle" font-size="14">{escape(title)}</text>']
    # axes and grid
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#2b6cb0">'
                   f'{top_ms * i / 4:.0f}</text>')
        out.append(f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" fill="#c05621">${top_cost * i / 4:.2f}</text>')
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>')
    out.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>')
    out.append(f'<text x="18" y="{top + plot_h / 2:.0f}" transform="rotate(-90 18 {top + plot_h / 2:.0f})" '
               f'text-anchor="middle" fill="#2b6cb0">median duration (ms)</text>')
    rx = width - 16
    out.append(f'<text x="{rx}" y="{top + plot_h / 2:.0f}" transform="rotate(90 {rx} {top + plot_h / 2:.0f})" '
               f'text-anchor="middle" fill="#c05621">cost per 1M invocations (USD)</text>')
    points = []
    for i, s in enumerate(sizes):
        cx = left + step * i + step / 2
        out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{s.memory} MB</text>')
        mark = marks(s.memory, result.picks)
        if mark:
            out.append(f'<text x="{cx:.1f}" y="{top + plot_h + 34}" text-anchor="middle" font-size="10" '
                       f'fill="#276749">{escape(mark)}</text>')
        if s.median_ms is None:
            out.append(f'<text x="{cx:.1f}" y="{top + plot_h - 6}" text-anchor="middle" fill="#c53030">'
                       f'{escape(", ".join(sorted(s.errors)) or "failed")}</text>')
            continue
        h = plot_h * s.median_ms / top_ms
        out.append(f'<rect x="{cx - bar_w / 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                   f'height="{h:.1f}" fill="#90cdf4" stroke="#2b6cb0"><title>{s.memory} MB: median '
                   f'{s.median_ms:.1f} ms, p90 {s.p90_ms:.1f} ms</title></rect>')
        out.append(f'<text x="{cx:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle" font-size="10">'
                   f'{s.median_ms:.0f}</text>')
        points.append((cx, top + plot_h - plot_h * s.cost_per_million / top_cost, s.cost_per_million))
    if points:
        out.append('<polyline fill="none" stroke="#c05621" stroke-width="2" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points) + '"/>')
        for x, y, cost in points:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#c05621"><title>${cost:.4f} per 1M'
                       f'</title></circle>')
    ly = height - 14
    out.append(f'<rect x="{left}" y="{ly - 10}" width="12" height="12" fill="#90cdf4" stroke="#2b6cb0"/>')
    out.append(f'<text x="{left + 18}" y="{ly}">median duration</text>')
    out.append(f'<line x1="{left + 150}" y1="{ly - 4}" x2="{left + 172}" y2="{ly - 4}" stroke="#c05621" '
               f'stroke-width="2"/>')
    out.append(f'<text x="{left + 178}" y="{ly}">cost per 1M invocations</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
