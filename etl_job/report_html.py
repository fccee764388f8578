"""Self-contained HTML report pages: charts as embedded PNG, tables, captions.

A page carries everything it shows (no script, font or style from elsewhere),
so it opens from S3, from the API or from disk alike.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; }
figcaption, caption { font-size: .95rem; color: #444; margin: .3rem 0; text-align: left; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } .num { text-align: right; font-variant-numeric: tabular-nums; }
nav ol { columns: 2; margin: .5rem 0; } nav li { margin: .15rem 0; }
"""


def _cell(value) -> str:
    """One table cell as text: empty for missing, floats to 4 significant digits, the rest as str."""
    if value is None or (not isinstance(value, (str, list, tuple, dict)) and bool(pd.isna(value))):
        return ""
    if isinstance(value, (float, np.floating)):
        return f"{value:,.4g}"
    return str(value)


def _tag(tag: str, text: str, num: bool) -> str:
    return f'<{tag} class="num">{html.escape(text)}</{tag}>' if num else f"<{tag}>{html.escape(text)}</{tag}>"


def html_table(frame: pd.DataFrame, index: bool = True) -> str:
    """A frame as an HTML table whose number columns carry class "num" (right-aligned), text left-aligned."""
    def numeric(values: pd.Series | pd.Index) -> bool:
        return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)

    columns = [numeric(frame.iloc[:, i]) for i in range(frame.shape[1])]
    label_num = numeric(frame.index)
    head = (_tag("th", str(frame.index.name or ""), label_num) if index else "") + "".join(
        _tag("th", str(name), num) for name, num in zip(frame.columns, columns))
    rows = []
    for label, row in zip(frame.index, frame.itertuples(index=False)):
        cells = "".join(_tag("td", _cell(value), num) for value, num in zip(row, columns))
        rows.append(f"<tr>{_tag('th', _cell(label), label_num) if index else ''}{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def anchor(heading: str) -> str:
    """A section heading -> its id in the page: 'Volume and completeness' -> 'volume-and-completeness'."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


@dataclass
class Page:
    title: str
    intro: str = ""
    parts: list[str] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)       # (anchor, heading), for the contents

    def section(self, heading: str) -> None:
        """A heading with an id; render() lists every section at the top, linked to it."""
        name = anchor(heading)
        if name in {n for n, _ in self.sections}:
            raise ValueError(f"two sections named {heading!r}")
        self.sections.append((name, heading))
        self.parts.append(f'<h2 id="{name}">{html.escape(heading)}</h2>')

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
        self.parts.append(f'<div data-table="{html.escape(name)}"><p class="caption">{html.escape(caption)}</p>'
                          f"{html_table(frame, index)}</div>")

    def bullets(self, name: str, items: list[str]) -> None:
        """A list of sentences (the alerts), named like charts and tables (data-list)."""
        entries = "".join(f"<li>{html.escape(item)}</li>" for item in items)
        self.parts.append(f'<ul data-list="{html.escape(name)}">{entries}</ul>')

    def render(self) -> bytes:
        contents = "".join(f'<li><a href="#{name}">{html.escape(heading)}</a></li>' for name, heading in self.sections)
        nav = f'<nav id="contents" aria-label="Contents"><strong>Contents</strong><ol>{contents}</ol></nav>' \
            if self.sections else ""
        return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{html.escape(self.title)}</title><style>{STYLE}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1><p>{html.escape(self.intro)}</p>{nav}"
                + "".join(self.parts) + "</body></html>").encode()


def axes(width: float = 8, height: float = 3.6, ncols: int = 1):
    return plt.subplots(1, ncols, figsize=(width, height))
