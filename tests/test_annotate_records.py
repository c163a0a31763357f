"""The pieces under the annotation app: the gold loader's provenance key, normalised search,
the audit log and the counts of ``--stats`` (which snapshot counts, which are left out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from review_data import EXTRACTION_A, REPORT_A, make_result

from llm_extract.errors import GoldError
from llm_extract.evaluation.gold import load_gold_file
from llm_extract.normalize import find_spans
from llm_extract.reporting.annotate import audit
from llm_extract.reporting.annotate.drafts import DraftEdit, apply_edit, start_draft
from llm_extract.reporting.annotate.stats import correction_stats
from llm_extract.results import ExtractionResult


def _result(tmp_path: Path, model: str = "rules") -> ExtractionResult:
    result = make_result("month_120", REPORT_A, EXTRACTION_A, tmp_path)
    return result.model_copy(update={"model": model})


def _edit(draft: Any, change: Any) -> DraftEdit:
    records = [
        {"uid": r.uid, "category": r.category, "decision": "accepted", "data": dict(r.data)}
        for r in draft.records
    ]
    body = {
        "version": draft.version,
        "coalition_month": draft.coalition_month,
        "stated_totals": draft.stated_totals,
        "records": records,
    }
    change(body)
    return DraftEdit.model_validate(body)


def test_the_gold_loader_sets_the_annotation_key_aside(tmp_path: Path) -> None:
    path = tmp_path / "month_120.json"
    document = {
        **EXTRACTION_A,
        "annotation": {"source": {"path": "x.txt", "sha256": "ab"}, "model": "rules"},
    }
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    gold = load_gold_file(path, REPORT_A)
    assert gold.coalition_month == 120 and len(gold.convoys) == 2
    path.write_text(json.dumps({**EXTRACTION_A, "annotation": "by hand"}), encoding="utf-8")
    with pytest.raises(GoldError, match="annotation: expected an object"):
        load_gold_file(path, REPORT_A)
    path.write_text(json.dumps({**EXTRACTION_A, "annotated_by": "x"}), encoding="utf-8")
    with pytest.raises(GoldError, match="annotated_by"):
        load_gold_file(path, REPORT_A)  # any other unknown key is still an error


def test_find_spans_finds_every_occurrence_in_the_original_text() -> None:
    text = "قاعدة الشدّادي ثم قاعده الشدادي، ثم قاعدة أخرى"
    spans = find_spans(text, "قاعدة الشدادي")
    assert [text[a:b] for a, b in spans] == ["قاعدة الشدّادي", "قاعده الشدادي"]
    assert find_spans(text, "") == [] and find_spans(text, "غير موجود") == []
    assert len(find_spans("ا ا ا ا", "ا", limit=2)) == 2


def test_corrections_compare_every_starting_value(tmp_path: Path) -> None:
    result = _result(tmp_path)
    draft = start_draft(result, None)

    def change(body: dict[str, Any]) -> None:
        body["records"][0]["data"]["vehicles"] = 155
        body["records"][1]["decision"] = "rejected"
        body["stated_totals"]["drills"] = 1
        body["records"].append(
            {
                "uid": None,
                "category": "arrests",
                "decision": "accepted",
                "data": {"evidence": "اعتقلت قوة مشتركة شخصين", "detained": 2},
            }
        )

    finished = apply_edit(draft, _edit(draft, change), REPORT_A)
    lines = audit.corrections(finished, done="d1", time="t1")
    by_key = {(x["record"], x["field"]): x for x in lines}
    assert by_key[("convoys-0", "vehicles")]["action"] == "corrected"
    assert (
        by_key[("convoys-0", "vehicles")]["model_value"],
        by_key[("convoys-0", "vehicles")]["value"],
    ) == (150, 155)
    assert by_key[("convoys-0", "dates")]["action"] == "kept"
    assert by_key[("convoys-1", None)]["action"] == "rejected"
    assert by_key[("added-1", None)]["action"] == "added"
    assert by_key[("added-1", None)]["value"]["detained"] == 2
    assert by_key[(None, "stated_totals.drills")]["action"] == "corrected"
    assert all("evidence_start" not in (x["value"] or {}) for x in lines if x["field"] is None)
    assert {x["base"] for x in lines} == {"model"} and {x["done"] for x in lines} == {"d1"}


def test_stats_count_the_last_snapshot_of_each_report(tmp_path: Path) -> None:
    result = _result(tmp_path)
    draft = start_draft(result, None)
    kept_all = apply_edit(draft, _edit(draft, lambda body: None), REPORT_A)

    def reject_first(body: dict[str, Any]) -> None:
        body["records"][0]["decision"] = "rejected"

    rejected = apply_edit(draft, _edit(draft, reject_first), REPORT_A)
    log = tmp_path / "corrections.jsonl"
    audit.append_lines(log, audit.corrections(rejected, done="first", time="1"))
    audit.append_lines(log, audit.corrections(kept_all, done="second", time="2"))
    with log.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
    problems: list[str] = []
    lines = audit.read_lines(log, problems)
    assert problems == [f"{log}: line {len(lines) + 1} is not a correction, skipped"]
    stats = correction_stats([result], lines)
    assert stats.reports == ["month_120"]
    convoys = stats.categories["convoys"]
    assert (convoys.kept, convoys.rejected, convoys.n) == (2, 0, 2)  # the last snapshot counts
    assert convoys.fields["vehicles"].n == 2 and convoys.error_rate == 0.0
    # The same report extracted by another model, or from another text, is left out.
    other = correction_stats([_result(tmp_path, model="gpt-4o-mini")], lines)
    assert other.reports == [] and "another model's output" in other.notes[0]


def test_stats_leave_out_reports_corrected_from_gold(tmp_path: Path) -> None:
    result = _result(tmp_path)
    gold = result.extraction
    assert gold is not None
    draft = start_draft(result, gold, gold_sha256="abc")
    assert draft.base == "gold" and all(r.decision == "accepted" for r in draft.records)
    lines = audit.corrections(draft, done="g", time="1")
    stats = correction_stats([result], lines)
    assert stats.reports == [] and "existing gold file" in stats.notes[0]
