"""Two small SVG charts written by hand (no plotting dependency): lines over labelled axes."""

from __future__ import annotations

from html import escape

W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 320, 70, 20, 40, 50


def _nice_max(value: float) -> float:
    step = 1.0
    while step * 10 < value:
        step *= 10
    for k in (1, 2, 2.5, 5, 10):
        if k * step >= value:
            return k * step
    return 10 * step


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: list[tuple[str, str, list[tuple[float, float]]]],
    hline: tuple[str, float] | None = None,
    log_x: bool = False,
) -> str:
    """An SVG line chart of `series` (name, colour, points), with an optional reference line."""
    import math

    points = [p for _, _, ps in series for p in ps]
    fx = (lambda v: math.log10(v)) if log_x else (lambda v: v)
    xs = [fx(x) for x, _ in points]
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x1 = x0 + 1
    top = _nice_max(max([y for _, y in points] + [hline[1] if hline else 0]) * 1.1 or 1)

    def px(x: float) -> float:
        return LEFT + (fx(x) - x0) / (x1 - x0) * (W - LEFT - RIGHT)

    def py(y: float) -> float:
        return H - BOTTOM - y / top * (H - TOP - BOTTOM)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="black"/>',
        f'<text x="{W / 2}" y="{H - 12}" text-anchor="middle">{escape(x_label)}</text>',
        f'<text transform="translate(16 {H / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>",
    ]
    for i in range(5):
        y = top * i / 4
        out.append(
            f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{W - RIGHT}" y2="{py(y):.1f}" stroke="#ddd"/>'
        )
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:,.0f}</text>')
    ticks = sorted({x for x, _ in points}) if log_x else [x0 + (x1 - x0) * i / 5 for i in range(6)]
    for x in ticks:
        out.append(
            f'<text x="{px(x):.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{x:,.0f}</text>'
        )
    if hline:
        name, y = hline
        out.append(
            f'<line x1="{LEFT}" y1="{py(y):.1f}" x2="{W - RIGHT}" y2="{py(y):.1f}" '
            'stroke="#c33" stroke-dasharray="6 4"/>'
        )
        out.append(
            f'<text x="{W - RIGHT - 4}" y="{py(y) - 5:.1f}" text-anchor="end" fill="#c33">'
            f"{escape(name)}</text>"
        )
    for n, (name, colour, ps) in enumerate(series):
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in ps)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in ps if len(ps) < 20 else []:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{colour}"/>')
        out.append(
            f'<text x="{LEFT + 10}" y="{TOP + 14 + 16 * n}" fill="{colour}">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
