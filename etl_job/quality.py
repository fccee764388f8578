"""The data-quality report: what came in, what went out, what was repaired
and what was rejected: every rejected row counted with its reasons, and kept
whole in the rejects CSV up to MAX_REJECT_ROWS per report, so that one bad
input cannot make the report unbounded."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_EXAMPLES = 5
MAX_REJECT_ROWS = 20_000     # rows kept whole in a report's rejects CSV; beyond, rows are counted only


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

    def repaired(self, group: str, kind: str, count: int, examples: list[dict[str, Any]] = ()) -> None:
        if count:
            self.repairs[group][kind] = self.repairs[group].get(kind, 0) + int(count)
            self._add_examples(f"repair:{kind}", group, examples)

    def rejected(self, group: str, reasons: pd.Series, rows: pd.DataFrame, describe) -> None:
        """Record rejected rows: reasons holds one '; '-joined reason string per row."""
        if rows.empty:
            return
        for reason, count in reasons.str.split("; ").explode().value_counts().items():
            self.rejects[group][reason] = self.rejects[group].get(reason, 0) + int(count)
        self._rejected_total += len(rows)
        room = max(0, MAX_REJECT_ROWS - self._rejected_kept)
        if room:
            kept = rows.iloc[:room].copy()
            kept.insert(0, "reject_reason", reasons.to_numpy()[:room])
            kept.insert(0, "group", group)
            self._rejected.append(kept)
            self._rejected_kept += len(kept)
        for reason in reasons.unique():
            sample = rows[reasons == reason].head(MAX_EXAMPLES)
            self._add_examples(f"reject:{reason}", group, [describe(r) for _, r in sample.iterrows()])

    def counted(self, group: str, reason: str, count: int) -> None:
        """Rejected rows counted without being kept (beyond the sample a reader keeps whole)."""
        if count:
            self.rejects[group][reason] = self.rejects[group].get(reason, 0) + int(count)
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
            "rejected_rows_in_csv": self._rejected_kept,
            "rejected_rows_csv_limit": MAX_REJECT_ROWS,
            "repairs": {k: dict(v) for k, v in self.repairs.items()},
            "rejects": {k: dict(v) for k, v in self.rejects.items()},
            "missing_after_cleaning": self.missing,
            "examples": dict(self.examples),
            "notes": list(self.notes),
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), indent=2, default=str).encode()

    def rejects_csv(self) -> bytes:
        buffer = io.StringIO()
        self.rejected_rows().to_csv(buffer, index=False)
        return buffer.getvalue().encode()

    def summary(self) -> str:
        lines = [f"data quality [{self.dataset}]: {self.total_in:,} rows in, {self.total_out:,} out, "
                 f"{self.total_rejected:,} rejected"]
        for group in sorted(set(self.rows_in) | set(self.repairs) | set(self.rejects)):
            rep = ", ".join(f"{k}={v}" for k, v in sorted(self.repairs.get(group, {}).items())) or "none"
            rej = ", ".join(f"{k}={v}" for k, v in sorted(self.rejects.get(group, {}).items())) or "none"
            lines.append(f"  {group:10s} in={self.rows_in.get(group, 0):>9,} out={self.rows_out.get(group, 0):>9,}"
                         f"  repairs: {rep}  rejects: {rej}")
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)
