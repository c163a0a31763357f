"""Splink (probabilistic linkage on DuckDB) against the dataset's linking rule, on the linkage
gold (evals/links): precision and recall of the linked pairs, both scored the same way.

    .venv/bin/pip install splink duckdb   # not dependencies of llm-extract
    .venv/bin/python benchmarks/linkage_splink.py

Splink sees the same mentions as the rule (llm_extract.dataset.linkgold.gold_mentions): the
place after gazetteer normalisation, governorate, kind, actors, date and counts, with the
same blocking (same category, dates within one day, different reports). Its m and u
probabilities are estimated without labels (u by random sampling, m by expectation
maximisation, as Splink's guide does), then, in a second model, m from the gold's own pairs
(an upper bound: it is trained on what it is scored on). Pairs at or above each threshold
probability are clustered by Splink's connected components.
"""

from __future__ import annotations

import logging
import sys
from itertools import combinations
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llm_extract.dataset.linkgold import gold_mentions, load_link_gold, score_links  # noqa: E402

try:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
except ImportError:  # pragma: no cover - an optional comparison
    raise SystemExit("Splink is not installed: pip install splink duckdb") from None

BLOCKING = (
    "l.category = r.category AND l.report_id <> r.report_id "
    "AND abs(datediff('day', l.date, r.date)) <= 1"
)


def frame() -> tuple[pd.DataFrame, set[frozenset[str]]]:
    gold = load_link_gold(ROOT / "evals" / "links", ROOT / "evals")
    mentions, _ = gold_mentions(gold.extractions)
    rows = []
    for mention in mentions:
        rows.append(
            {
                "unique_id": mention.record_id,
                "report_id": mention.report_id,
                "category": mention.category,
                "date": pd.Timestamp(mention.date) if mention.date else None,
                "place": mention.place_id or " ".join(sorted(mention.words)) or None,
                "governorate": mention.governorate,
                "kind": mention.kind,
                "actors": sorted(mention.actors) or None,
                "count": next((c for c in mention.counts if c), None),
            }
        )
    df = pd.DataFrame(rows)
    df = df[df["date"].notna()].reset_index(drop=True)
    truth = {
        frozenset("/".join(map(str, r)) for r in pair)
        for event in gold.events
        for pair in combinations(event, 2)
    }
    return df, truth


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[BLOCKING],
        comparisons=[
            cl.ExactMatch("place"),
            cl.ExactMatch("governorate"),
            cl.ExactMatch("kind"),
            cl.ArrayIntersectAtSizes("actors", [1]),
            cl.AbsoluteDateDifferenceAtThresholds(
                "date", metrics=["day"], thresholds=[0], input_is_string=False
            ),
            cl.ExactMatch("count"),
        ],
        retain_intermediate_calculation_columns=False,
    )


def scores(linker: Linker, truth: set[frozenset[str]], threshold: float) -> tuple[float, float]:
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    predicted = {
        frozenset(pair)
        for _, group in clusters.groupby("cluster_id")
        for pair in combinations(group["unique_id"], 2)
    }
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    return precision, hits / len(truth)


def main() -> int:
    logging.getLogger("splink").setLevel(logging.ERROR)
    df, truth = frame()
    rule = score_links(load_link_gold(ROOT / "evals" / "links", ROOT / "evals"))
    print(f"{len(df)} dated mentions, {len(truth)} gold pairs")
    print(
        f"rule (llm_extract.dataset.linking): precision {rule.precision:.3f}  "
        f"recall {rule.recall:.3f}"
    )
    labels = pd.DataFrame(
        [
            {"unique_id_l": a, "unique_id_r": b, "clerical_match_score": 1.0}
            for a, b in (sorted(pair) for pair in truth)
        ]
    )
    for name in ("unsupervised (u sampled, m by EM)", "m from the gold pairs (upper bound)"):
        db_api = DuckDBAPI()
        linker = Linker(db_api.register(df), settings(), log_level=logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("category", "date")], recall=0.9
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e5, seed=1)
        if name.startswith("unsupervised"):
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on("category", "date")
            )
        else:
            registered = db_api.register(labels)
            linker.training.estimate_m_from_pairwise_labels(registered)
        for threshold in (0.5, 0.9, 0.99):
            precision, recall = scores(linker, truth, threshold)
            print(
                f"splink {name}, p >= {threshold}: precision {precision:.3f}  recall {recall:.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
