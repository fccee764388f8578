"""Where the raw inputs come from: a local data folder or an s3:// prefix.

Both follow the data-folder convention: `streaming/<catalog>.csv`,
optionally `streaming/ratings/*.csv`, and optionally the movies catalog
`movies/movies_metadata.csv` with `movies/credits.csv` (and, for evaluating
the similar titles, `movies/ratings_small.csv` with `movies/links.csv`).
"""

from __future__ import annotations

from pathlib import Path

from streamlens.platforms import PLATFORMS
from streamlens.release import sha256
from streamlens.storage import ObjectStore, make_client, split_s3_url

from .catalog import InputError

CATALOG_DIR = "streaming"
RATINGS_DIR = "streaming/ratings"
MOVIES_DIR = "movies"


class DataSource:
    """Reads input files by relative path and remembers a checksum of each."""

    def __init__(self, location: str, client=None):
        self.location = location
        self.checksums: dict[str, dict] = {}
        if location.startswith("s3://"):
            bucket, self._prefix = split_s3_url(location)
            self._store: ObjectStore | None = ObjectStore(bucket, client or make_client())
            self._root: Path | None = None
        else:
            self._root = Path(location)
            self._store = None
            if not self._root.is_dir():
                raise InputError(f"data folder {location!r} does not exist")

    def _list(self, folder: str) -> list[str]:
        if self._store:
            prefix = f"{self._prefix}{folder}/"
            return sorted(o.key[len(self._prefix):] for o in self._store.list(prefix)
                          if "/" not in o.key[len(prefix):])
        assert self._root is not None       # a source is an S3 prefix or a folder
        path = self._root / folder
        return sorted(f"{folder}/{p.name}" for p in path.iterdir() if p.is_file()) if path.is_dir() else []

    def read(self, relative: str) -> bytes:
        if self._store:
            data = self._store.get(f"{self._prefix}{relative}")
        else:
            assert self._root is not None
            data = (self._root / relative).read_bytes()
        self.checksums[relative] = {"sha256": sha256(data), "size": len(data)}
        return data

    def catalogs(self) -> dict[str, bytes]:
        """Raw catalog bytes keyed by platform code; every platform is required."""
        present = set(self._list(CATALOG_DIR))
        missing = [p.filename for p in PLATFORMS if f"{CATALOG_DIR}/{p.filename}" not in present]
        if missing:
            raise InputError(f"{self.location}/{CATALOG_DIR}: missing catalog file(s) {', '.join(missing)}")
        return {p.code: self.read(f"{CATALOG_DIR}/{p.filename}") for p in PLATFORMS}

    def movies(self) -> tuple[bytes, bytes | None] | None:
        """(movies_metadata.csv, credits.csv or None), or None when the folder has no movies catalog."""
        present = set(self._list(MOVIES_DIR))
        if f"{MOVIES_DIR}/movies_metadata.csv" not in present:
            return None
        credits = f"{MOVIES_DIR}/credits.csv"
        return (self.read(f"{MOVIES_DIR}/movies_metadata.csv"),
                self.read(credits) if credits in present else None)

    def movie_ratings(self) -> tuple[bytes, bytes] | None:
        """(ratings_small.csv, links.csv) when the movies folder has both, else None."""
        present = set(self._list(MOVIES_DIR))
        names = [f"{MOVIES_DIR}/ratings_small.csv", f"{MOVIES_DIR}/links.csv"]
        if not all(name in present for name in names):
            return None
        return self.read(names[0]), self.read(names[1])

    def ratings_files(self) -> list[str]:
        """Every CSV file of the ratings folder, whatever the case of its extension (`*.CSV` too)."""
        return [name for name in self._list(RATINGS_DIR) if name.lower().endswith(".csv")]

    def fingerprint(self) -> dict[str, dict]:
        """Checksums of every input file, without keeping their bytes."""
        self.catalogs()
        self.movies()
        self.movie_ratings()
        for _ in self.iter_ratings():
            pass
        return dict(self.checksums)

    def iter_ratings(self):
        """(name, bytes) one file at a time, so only one raw file is in memory."""
        for name in self.ratings_files():
            yield name, self.read(name)
