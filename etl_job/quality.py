"""The data-quality report: what came in, what went out, what was repaired
and what was rejected: every rejected row counted with its reasons, and kept
whole in the rejects CSV within bounds, so that one bad input cannot make the
report unbounded: at most MAX_REJECT_ROWS rows, at most MAX_REJECTS_PER_KEY
of one key (a user's rows of one reason: enough to fix the export, no more of
anyone's history), and at most MAX_REJECTS_JSON_BYTES as the body of the
reports Lambda's response (JSON-escaped, under Lambda's 6 MB limit)."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_EXAMPLES = 5
MAX_REJECT_ROWS = 20_000     # rows kept whole in a report's rejects CSV; beyond, rows are counted only
MAX_REJECTS_PER_KEY = 10     # rows of one key (e.g. one user and reason) kept whole
MAX_REJECTS_JSON_BYTES = 5_000_000


def join_reasons(checks: dict[str, Any], index: pd.Index) -> pd.Series:
    """One '; '-joined string of the failed checks per row ('' where all pass), as `rejected` expects."""
    reasons = pd.Series("", index=index, dtype=object)
    for name, mask in checks.items():
        mask = pd.Series(mask, index=index).fillna(False).astype(bool)
        reasons[mask] = np.where(reasons[mask] == "", name, reasons[mask] + "; " + name)
    return reasons


@dataclass
class QualityReport:
    dataset: str
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_out: dict[str, int] = field(default_factory=dict)
    repairs: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    rejects: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    missing: dict[str, dict[str, int]] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    notes: list[str] = field(default_factory=list)
    _rejected: list[pd.DataFrame] = field(default_factory=list, repr=False)
    _rejected_total: int = field(default=0, repr=False)
    _rejected_kept: int = field(default=0, repr=False)
    _kept_per_key: dict[str, int] = field(default_factory=dict, repr=False)
    _csv: tuple[bytes, int] | None = field(default=None, repr=False)

    def repaired(self, group: str, kind: str, count: int, examples: Sequence[dict[str, Any]] = ()) -> None:
        if count:
            self.repairs[group][kind] = self.repairs[group].get(kind, 0) + int(count)
            self._add_examples(f"repair:{kind}", group, examples)

    def rejected(self, group: str, reasons: pd.Series, rows: pd.DataFrame, describe,
                 key: pd.Series | None = None) -> None:
        """Record rejected rows: reasons holds one '; '-joined reason string per row. With `key` (one value
        per row, e.g. the user id), at most MAX_REJECTS_PER_KEY rows of one key and reason are kept whole."""
        if rows.empty:
            return
        for reason, count in reasons.str.split("; ").explode().value_counts().items():
            self.rejects[group][reason] = self.rejects[group].get(reason, 0) + int(count)
        self._rejected_total += len(rows)
        room = max(0, MAX_REJECT_ROWS - self._rejected_kept)
        keep = np.ones(len(rows), dtype=bool)
        if key is not None and room:
            # str per value: astype(str) keeps a missing key as a float NaN in pandas 3 (a blank user id)
            keys = pd.Series(key.map(str).to_numpy(dtype=object) + "\x1f" + reasons.to_numpy().astype(str))
            before = keys.map(self._kept_per_key).fillna(0).to_numpy()
            keep = before + keys.groupby(keys.to_numpy()).cumcount().to_numpy() < MAX_REJECTS_PER_KEY
        if room:
            chosen = np.flatnonzero(keep)[:room]
            kept = rows.iloc[chosen].copy()
            kept.insert(0, "reject_reason", reasons.to_numpy()[chosen])
            kept.insert(0, "group", group)
            self._rejected.append(kept)
            self._rejected_kept += len(kept)
            self._csv = None
            if key is not None:
                for name, count in keys.iloc[chosen].value_counts().items():
                    self._kept_per_key[name] = self._kept_per_key.get(name, 0) + int(count)
        for reason in reasons.unique():
            sample = rows[reasons == reason].head(MAX_EXAMPLES)
            self._add_examples(f"reject:{reason}", group, [describe(r) for _, r in sample.iterrows()])

    def counted(self, group: str, reason: str, count: int) -> None:
        """Rejected rows counted without being kept (beyond the sample a reader keeps whole)."""
        if count:
            self.rejects[group][reason] = self.rejects[group].get(reason, 0) + int(count)
            self._rejected_total += int(count)

    def counted_rows(self, count: int) -> None:
        """Rejected rows whose reasons are counted already and that are not kept: the Spark engine replays
        rejected() with the kept sample only (etl_job/spark/ratings.py), then adds the rest of the rows here."""
        self._rejected_total += int(count)

    def _add_examples(self, key: str, group: str, examples) -> None:
        bucket = self.examples[key]
        for example in examples:
            if len(bucket) >= MAX_EXAMPLES:
                break
            bucket.append({"group": group, **example})

    @property
    def total_in(self) -> int:
        return sum(self.rows_in.values())

    @property
    def total_out(self) -> int:
        return sum(self.rows_out.values())

    @property
    def total_rejected(self) -> int:
        return self._rejected_total

    def rejected_rows(self) -> pd.DataFrame:
        if not self._rejected:
            return pd.DataFrame(columns=["group", "reject_reason"])
        return pd.concat(self._rejected, ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "rows_in": dict(self.rows_in),
            "rows_out": dict(self.rows_out),
            "rows_rejected": self.total_rejected,
            "rejected_rows_in_csv": self._render()[1],
            "rejected_rows_csv_limit": MAX_REJECT_ROWS,
            "rejected_rows_per_key_limit": MAX_REJECTS_PER_KEY,
            "repairs": {k: dict(v) for k, v in self.repairs.items()},
            "rejects": {k: dict(v) for k, v in self.rejects.items()},
            "missing_after_cleaning": self.missing,
            "examples": dict(self.examples),
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, summary: dict[str, Any], rejects_csv: bytes) -> QualityReport:
        """A report as to_dict and rejects_csv rendered it (a stage's, etl_job/stage.py): the same summary,
        the same rejects CSV, though not the rows behind it."""
        report = cls(summary["dataset"], dict(summary["rows_in"]), dict(summary["rows_out"]),
                     defaultdict(dict, summary["repairs"]), defaultdict(dict, summary["rejects"]),
                     dict(summary["missing_after_cleaning"]), defaultdict(list, summary["examples"]),
                     list(summary["notes"]))
        report._rejected_total = summary["rows_rejected"]
        report._csv = (rejects_csv, summary["rejected_rows_in_csv"])
        return report

    def rejects_csv(self) -> bytes:
        return self._render()[0]

    def _render(self) -> tuple[bytes, int]:
        """(the rejects CSV, its rows): the kept rows in order, cut at a row boundary once the CSV as a
        JSON-escaped response body would pass MAX_REJECTS_JSON_BYTES."""
        if self._csv is None:
            frame = self.rejected_rows()
            line = io.StringIO()
            writer = csv.writer(line, lineterminator="\n")
            parts, budget = [], MAX_REJECTS_JSON_BYTES
            for row in [frame.columns, *frame.astype(object).where(frame.notna(), "").itertuples(index=False)]:
                line.seek(0)
                line.truncate()
                writer.writerow(row)
                budget -= len(json.dumps(line.getvalue())) - 2
                if budget < 0:
                    break
                parts.append(line.getvalue())
            self._csv = ("".join(parts).encode(), max(0, len(parts) - 1))
        return self._csv

    def headline(self) -> str:
        """One line for a terminal; every figure is in to_dict (the release's quality report)."""
        return (f"{self.dataset} {self.total_in:,} rows in, {self.total_out:,} out, {self.total_rejected:,} "
                f"rejected")
