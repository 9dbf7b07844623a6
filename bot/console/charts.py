"""Bar charts as inline SVG, drawn on the server: no script, readable without colour.

Each chart is an `<svg role="img">` with a title and description, labels and values
written out beside the bars; the page also offers the same numbers as a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 420
ROW_HEIGHT = 46  # a label line, then its bar
LABEL_BASELINE = 16
BAR_TOP = 22
BAR_HEIGHT = 16
VALUE_WIDTH = 84
PADDING = 4


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value, and how the value is written."""

    label: str
    value: float
    shown: str = ""

    @property
    def text(self) -> str:
        """The value as written beside the bar."""
        return self.shown or f"{self.value:g}"


@dataclass(frozen=True)
class Chart:
    """A titled horizontal bar chart."""

    key: str
    title: str
    bars: list[Bar]
    description: str = ""
    empty_text: str = "Nothing in this period."
    tone: str = "primary"  # a CSS class: primary, warm, calm


def bar_chart_svg(chart: Chart) -> Markup:
    """The chart as SVG markup; labels are escaped, lengths scale to the largest value.

    Each label stands on its own line above its bar, so that long labels and Indic
    language names are never cut.
    """
    if not chart.bars:
        return Markup('<p class="chart-empty">{}</p>').format(chart.empty_text)
    height = PADDING * 2 + ROW_HEIGHT * len(chart.bars)
    largest = max(bar.value for bar in chart.bars) or 1
    room = WIDTH - VALUE_WIDTH - PADDING * 2
    rows = []
    for index, bar in enumerate(chart.bars):
        top = PADDING + index * ROW_HEIGHT
        length = max(2.0, room * bar.value / largest) if bar.value > 0 else 0.0
        rows.append(
            f'<g class="bar-row">'
            f'<text class="bar-label" x="{PADDING}" y="{top + LABEL_BASELINE}">'
            f"{escape(bar.label)}</text>"
            f'<rect class="bar" x="{PADDING}" y="{top + BAR_TOP}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT}" rx="3"></rect>'
            f'<text class="bar-value" x="{PADDING + length + 6:.1f}" '
            f'y="{top + BAR_TOP + BAR_HEIGHT - 3}">{escape(bar.text)}</text>'
            f"</g>"
        )
    title_id = f"chart-{escape(chart.key)}-title"
    desc_id = f"chart-{escape(chart.key)}-desc"
    summary = "; ".join(f"{bar.label}: {bar.text}" for bar in chart.bars)
    return Markup(
        f'<svg class="chart chart-{escape(chart.tone)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{title_id} {desc_id}">'
        f'<title id="{title_id}">{escape(chart.title)}</title>'
        f'<desc id="{desc_id}">{escape(summary)}</desc>'
        f"{''.join(rows)}</svg>"
    )
