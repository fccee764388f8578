"""The model report: the recommender's evaluation (on the catalog's ratings and
on the real ratings_small.csv) and the similar-titles evaluation, rendered
from the model cards the ETL writes, so every number is the card's own."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .report_html import Page, axes


def _candidates(card: dict) -> pd.DataFrame:
    rows = [{"model": name, "algorithm": c.get("algorithm", ""), "rmse": c["rmse"], "mae": c["mae"],
             "fit_seconds": c.get("fit_seconds")} for name, c in card["candidates"].items()]
    return pd.DataFrame(rows).sort_values("rmse").reset_index(drop=True)


def _recommender_section(page: Page, card: dict, prefix: str, heading: str, about: str) -> None:
    page.section(heading)
    page.text(f"{about} {card['rows']:,} ratings from {card['users']:,} users on {card['items']:,} titles; "
              f"{card['split']['test_size']:.0%} held out ({card['split']['rows']:,} ratings in the split"
              f"{', a sample' if card['split']['sampled'] else ''}).")
    table = _candidates(card)
    chosen = card["chosen"]
    best = card["candidates"][chosen["name"]]
    fig, ax = axes()
    ax.barh(table["model"], table["rmse"], color=["tab:orange" if m == chosen["name"] else "tab:blue"
                                                  for m in table["model"]])
    ax.invert_yaxis()
    ax.set_xlabel("held-out RMSE")
    ax.set_xlim(left=max(0, table["rmse"].min() - 0.1))
    page.figure(f"{prefix}_candidates", fig, f"Held-out RMSE of every candidate and baseline: the chosen model, "
                                             f"{chosen['name']}, scores {best['rmse']:.4f} (MAE {best['mae']:.4f}) "
                                             f"against {card['candidates']['global_mean']['rmse']:.4f} for the "
                                             f"global mean.")
    page.table(f"{prefix}_candidate_table", table, "Every candidate and baseline on the same split.", index=False)
    grid = card["grid_search"]
    results = pd.DataFrame([{**r["params"], "rmse": r["rmse"], "mae": r["mae"]} for r in grid["results"]])
    page.table(f"{prefix}_grid", results.sort_values("rmse"),
               f"Grid search ({grid['cv']}-fold cross-validation on {grid['sample_rows']:,} ratings): best "
               f"{grid['best']}.", index=False)
    page.text(f"Chosen parameters: {chosen['params']}.")
    diagnostics = card.get("diagnostics")
    if not diagnostics:
        return
    curve = pd.DataFrame(diagnostics["learning_curve"])
    fig, ax = axes()
    ax.plot(curve["train_rows"], curve["train_rmse"], marker="o", label="training RMSE")
    ax.plot(curve["train_rows"], curve["test_rmse"], marker="o", label="held-out RMSE")
    ax.set_xlabel("training ratings")
    ax.legend()
    page.figure(f"{prefix}_learning_curve", fig,
                f"Learning curve of the chosen parameters: held-out RMSE {curve['test_rmse'].iloc[0]:.4f} with "
                f"{curve['train_rows'].iloc[0]:,} training ratings, {curve['test_rmse'].iloc[-1]:.4f} with "
                f"{curve['train_rows'].iloc[-1]:,}.")
    spread = pd.DataFrame(diagnostics["predicted_vs_actual"])
    fig, ax = axes()
    ax.vlines(spread["actual"], spread["p10"], spread["p90"], linewidth=6, alpha=.4, label="predicted, p10-p90")
    ax.plot(spread["actual"], spread["p50"], "o", label="predicted, median")
    ax.plot(spread["actual"], spread["actual"], "k--", linewidth=1, label="perfect")
    ax.set_xlabel("actual rating")
    ax.set_ylabel("predicted rating")
    ax.legend()
    low, high = spread.iloc[0], spread.iloc[-1]
    shrinks = low["p50"] > low["actual"] and high["p50"] < high["actual"]
    page.figure(f"{prefix}_predicted_vs_actual", fig,
                f"Predicted against actual held-out ratings{': the model pulls towards the mean' if shrinks else ''} "
                f"(median prediction {low['p50']:.2f} for actual {low['actual']:g}, {high['p50']:.2f} for actual "
                f"{high['actual']:g}).")


def _ranking_section(page: Page, card: dict, prefix: str) -> None:
    """The top-n evaluation as served: the ranking model against popularity, the SVD ranking and random."""
    ranking = card.get("ranking")
    if not ranking:
        return
    page.text("Top-n ranking: what the recommendation routes show. The SVD above predicts ratings; ranking every "
              "title by a predicted rating surfaces obscure titles, so a model of who rated what ranks instead.")
    protocol, figures = ranking["protocol"], ranking["evaluation"]
    rows = [{"filter": name, "ranker": ranker, **{m: v for m, v in metrics.items()}}
            for name, by_ranker in figures.items() for ranker, metrics in by_ranker.items()]
    table = pd.DataFrame(rows)
    overall = table[table["filter"] == "all"].set_index("ranker")
    fig, ax = axes(6, 3.2)
    overall[["precision", "recall", "ndcg", "hit_rate"]].T.plot.bar(ax=ax, rot=0)
    ax.set_ylim(0, 1)
    model, popularity = overall.loc["ranking_model"], overall.loc["popularity"]
    ratio = model["precision"] / popularity["precision"] if popularity["precision"] else float("nan")
    page.figure(f"{prefix}_top_n", fig,
                f"Top-{protocol['k']} as served over {int(model['users']):,} users: every title a user did not rate "
                f"in the training part ranked ({protocol['test_share']:.0%} of each user's ratings held out, "
                f"seed {protocol['seed']}; relevant: {protocol['relevant']}). Precision@{protocol['k']}: ranking "
                f"model ({ranking['chosen']}) {model['precision']:.3f}, popularity {popularity['precision']:.3f} "
                f"(x{ratio:.2f}), SVD ranking {overall.loc['svd_as_served', 'precision']:.3f}, random "
                f"{overall.loc['random', 'precision']:.3f}.")
    page.table(f"{prefix}_top_n_table", table, "Every ranker on the same holdout, overall and within each "
                                               "platform (the route's platform filter).", index=False)
    if "recommend_rule" in ranking:
        rule = ranking["recommend_rule"]
        page.text(f"The recommend decision ({rule['rule']}) flags {rule['flagged_share']:.1%} of the held-out "
                  f"titles, {rule['precision']:.1%} of them liked (base rate {rule['base_rate']:.1%}); the SVD's "
                  f"predicted-rating threshold would flag {rule['svd_threshold_rule']['flagged_share']:.1%} with "
                  f"precision {rule['svd_threshold_rule']['precision']:.1%}, but disagree with the ranking.")
    if "new_titles" in ranking:
        new = ranking["new_titles"]
        page.text(f"New titles: {new['held_out_titles']:,} titles were held out of training entirely and given "
                  f"factors from their content neighbours; of those a user rated {protocol['threshold']:g} or "
                  f"more, {new['recall_at_10']:.1%} reach the user's top 10 and {new['recall_at_100']:.1%} the top "
                  f"100 (chance {new['chance_at_10']:.2%} and {new['chance_at_100']:.2%}; "
                  f"{new['users']:,} users); without the content path they are never ranked.")


def _similar_section(page: Page, card: dict) -> None:
    page.section("Similar titles (content-based)")
    for catalog in ("movies", "streaming"):
        if catalog not in card:
            continue
        section = card[catalog]
        weights = pd.DataFrame(section["fields"])[["column", "kind", "weight", "why"]]
        page.table(f"similar_{catalog}_fields", weights, f"{catalog}: the fields and their weights "
                                                         f"({section['titles']:,} titles, {section['features']:,} "
                                                         "features).", index=False)
        rows = []
        for system, figures in section["evaluation"].items():
            row = {"system": system, "shares a genre": figures["genres"]["share_any"]}
            if "collection" in figures:
                row["same collection"] = figures["collection"]["share"]
            if "ratings" in figures:
                row.update({"neighbour rated": figures["ratings"]["neighbour_rated"],
                            "rated by chance": figures["ratings"]["neighbour_rated_by_chance"],
                            "liked when rated": figures["ratings"]["rated_neighbour_liked"],
                            "liked by chance": figures["ratings"]["liked_by_chance"]})
            rows.append(row)
        frame = pd.DataFrame(rows)
        page.table(f"similar_{catalog}_evaluation", frame,
                   f"{catalog}: top {section['evaluated_top_n']} of every title against a random and a genre-only "
                   "baseline.", index=False)
        numeric = frame.set_index("system").drop(columns=[c for c in frame.columns if "chance" in c])
        fig, ax = axes()
        numeric.T.plot.bar(ax=ax, rot=0)
        ax.set_ylim(0, 1)
        content = frame.set_index("system").loc["content"]
        page.figure(f"similar_{catalog}_evaluation_chart", fig,
                    f"{catalog}: the content neighbours against the baselines; "
                    + ", ".join(f"{k} {v:.3f}" for k, v in content.items() if not np.isnan(v)) + " for content.")


def model_report(cards: dict[str, dict], similar_card: dict | None) -> bytes:
    """cards: 'streaming' and/or 'ratings_small' recommender model cards."""
    page = Page("streamlens model report",
                "The rating predictor (SVD from scikit-surprise) and the top-n ranking model (ALS from implicit) "
                "evaluated on held-out ratings, and the similar-titles engine evaluated offline; from the model "
                "cards of the release.")
    if "streaming" in cards:
        card = cards["streaming"]
        origin = card.get("ratings_origin", {}).get("origin", "files")
        _recommender_section(page, card, "streaming", "Recommender on the streaming catalogs",
                             "Ratings of the streaming catalogs" + (" (generated by the ETL: no real ratings came "
                                                                    "with the catalogs)." if origin == "generated"
                                                                    else "."))
        _ranking_section(page, card, "streaming")
    if "ratings_small" in cards:
        _recommender_section(page, cards["ratings_small"], "ratings_small",
                             "The same model code on real ratings: ratings_small.csv",
                             "Real MovieLens ratings (ratings_small.csv of the movies data set), so the figures "
                             "compare with published results for this data (SVD around 0.87-0.90 RMSE).")
        _ranking_section(page, cards["ratings_small"], "ratings_small")
    if similar_card:
        _similar_section(page, similar_card)
    return page.render()
