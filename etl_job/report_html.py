"""Self-contained HTML report pages: charts as embedded PNG, tables, captions.

A page carries everything it shows (no script, font or style from elsewhere),
so it opens from S3, from the API or from disk alike.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption, caption { font-size: .95rem; color: #444; margin: .3rem 0; text-align: left; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; } th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
"""


@dataclass
class Page:
    title: str
    intro: str = ""
    parts: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)

    def section(self, heading: str) -> None:
        self.parts.append(f"<h2>{html.escape(heading)}</h2>")

    def text(self, paragraph: str) -> None:
        self.parts.append(f"<p>{html.escape(paragraph)}</p>")

    def figure(self, name: str, fig: plt.Figure, caption: str) -> None:
        """A chart; `name` identifies it in the page (data-chart) for tests and links."""
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        data = base64.b64encode(buffer.getvalue()).decode()
        self.charts.append(name)
        self.parts.append(f'<figure data-chart="{html.escape(name)}" id="{html.escape(name)}">'
                          f'<img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
                          f"<figcaption>{html.escape(caption)}</figcaption></figure>")

    def table(self, name: str, frame: pd.DataFrame, caption: str, index: bool = True) -> None:
        body = frame.to_html(index=index, border=0, na_rep="", float_format=lambda v: f"{v:,.4g}")
        self.parts.append(f'<div data-table="{html.escape(name)}"><p class="caption">{html.escape(caption)}</p>'
                          f"{body}</div>")

    def render(self) -> bytes:
        return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1><p>{html.escape(self.intro)}</p>"
                + "".join(self.parts) + "</body></html>").encode()


def axes(width: float = 8, height: float = 3.6, ncols: int = 1):
    return plt.subplots(1, ncols, figsize=(width, height))
