"""One slice per movies query, keyed by streamlens.text.match_key (case and
accents ignored) and holding the answer ready to serve."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from streamlens.text import match_key


def _group_by_names(movies: pd.DataFrame, column: str) -> dict[str, tuple[str, list[int]]]:
    """match key -> (the name as first written, the row positions of the movies listing it, each once)."""
    groups: dict[str, list[int]] = defaultdict(list)
    display: dict[str, str] = {}
    for position, names in enumerate(movies[column]):
        for name in dict.fromkeys(names if isinstance(names, (list, tuple)) else [names]):
            if isinstance(name, str) and name.strip():
                key = match_key(name)
                groups[key].append(position)
                display.setdefault(key, name)
    return {key: (display[key], rows) for key, rows in groups.items()}


def _money(value: float) -> float:
    return round(float(value), 2)


def build_movie_slices(movies: pd.DataFrame) -> dict[str, dict]:
    revenue, returns = movies["revenue"].to_numpy(), movies["return"].to_numpy()
    languages = movies["original_language"].fillna("").map(match_key).value_counts()
    titles: dict[str, list] = defaultdict(list)
    for row in movies.sort_values(["release_date", "id"]).itertuples():
        titles[match_key(row.title)].append([row.title, None if pd.isna(row.runtime) else float(row.runtime),
                                             int(row.release_year), int(row.id)])
    franchises = {k: {"name": name, "count": len(rows), "total_revenue": _money(revenue[rows].sum()),
                      "average_revenue": _money(revenue[rows].mean())}
                  for k, (name, rows) in _group_by_names(movies, "collection").items()}
    countries = {k: {"name": name, "count": len(rows)}
                 for k, (name, rows) in _group_by_names(movies, "countries").items()}
    companies = {k: {"name": name, "count": len(rows), "revenue": _money(revenue[rows].sum())}
                 for k, (name, rows) in _group_by_names(movies, "companies").items()}
    directors = {}
    by_date = movies.rename(columns={"return": "return_"})
    for key, (name, rows) in _group_by_names(movies, "directors").items():
        films = by_date.iloc[rows].sort_values(["release_date", "id"])
        # returns are served as computed (a real 9.4e-7 rounded to 4 places would read as 0, "no budget");
        # only the message sentence rounds
        directors[key] = {"name": name, "total_return": float(returns[rows].sum()), "movies": [
            {"title": f.title, "release_date": f.release_date, "return": float(f.return_),
             "budget": _money(f.budget), "revenue": _money(f.revenue)} for f in films.itertuples()]}
    return {
        "peliculas_idioma": {"answers": {k: int(v) for k, v in languages.items() if k}},
        "peliculas_duracion": {"answers": dict(titles)},
        "franquicia": {"answers": franchises},
        "peliculas_pais": {"answers": countries},
        "productoras_exitosas": {"answers": companies},
        "get_director": {"answers": directors},
    }


def movie_examples(movies: pd.DataFrame, slices: dict[str, dict]) -> dict[str, str]:
    """A value each movies query answers on this catalog (the language, collection, country, company and
    director with the most movies, and the most voted title), for the web forms' placeholders: the sample and
    the real data both give examples that find something. A query with no answer at all has no example."""
    sizes = {"language": ("peliculas_idioma", lambda count: count),
             "collection": ("franquicia", lambda answer: answer["count"]),
             "country": ("peliculas_pais", lambda answer: answer["count"]),
             "company": ("productoras_exitosas", lambda answer: answer["count"]),
             "director": ("get_director", lambda answer: len(answer["movies"]))}
    examples = {}
    for name, (query, size) in sizes.items():
        if answers := slices[query]["answers"]:
            key = min(answers, key=lambda k: (-size(answers[k]), k))
            examples[name] = key if name == "language" else answers[key]["name"]
    if len(movies):
        voted = movies.sort_values(["vote_count", "id"], ascending=[False, True], na_position="last")
        examples["title"] = str(voted["title"].iloc[0])
    return examples
