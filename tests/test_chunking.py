"""Long reports: paragraph chunks with overlap, and merging the chunks' records."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from paths import SEED_IDS, SEEDS, requires_seeds

from llm_extract.errors import UsageError
from llm_extract.normalize import normalize
from llm_extract.report import Report
from llm_extract.run.chunking import Chunk, merge_extractions, split_report, split_text
from llm_extract.schemas import ReportExtraction

# A long report written for this test (facts of the genre, our own words).
PARAGRAPHS = [
    "تقرير الشهر 118 عن نشاط التحالف الدولي في شمال شرق سوريا.",
    "وصلت قافلة من 35 شاحنة إلى قاعدة الشدادي في 24 حزيران محملة بمعدات لوجستية.",
    "أجرت القوات الأمريكية مع قسد تدريبا بالذخيرة الحية في حقل العمر يوم 2 تموز.",
    "أسقطت مجموعة مسلحة طائرة مسيرة فوق بلدة الحويجة في ريف دير الزور.",
    "نفذت قسد بدعم التحالف عملية أمنية في 9 تموز واعتقلت ثلاثة أشخاص.",
    "هبطت طائرتا شحن في مطار خراب الجير خلال الأسبوع الأخير من الشهر.",
    "أجري تدريب ثان على الإنزال الجوي قرب قاعدة تل بيدر في 16 تموز.",
]
TEXT = "\n".join(PARAGRAPHS) + "\n"


def _validated(data: dict[str, Any], source: str) -> ReportExtraction:
    return ReportExtraction.model_validate(data, context={"source": source, "report_id": "r"})


def test_short_text_is_one_chunk() -> None:
    assert split_text("قصير", 100) == [Chunk(0, 0, 4, "قصير")]
    report = Report("one", "قصير", "one.txt")
    assert split_report(report, 100) == [report]


def test_bad_sizes_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        split_text(TEXT, 0)
    with pytest.raises(UsageError):
        split_text(TEXT, 100, 100)


def test_chunks_are_whole_paragraphs_within_budget_with_overlap() -> None:
    chunks = split_text(TEXT, 200, 90)
    assert len(chunks) > 2
    for chunk in chunks:
        assert TEXT[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 200
        assert chunk.start == 0 or TEXT[chunk.start - 1] == "\n"  # starts a paragraph
        assert chunk.text.endswith("\n")  # ends one
    # Every character is covered, in order, and neighbours share text when it fits.
    assert chunks[0].start == 0 and chunks[-1].end == len(TEXT)
    for a, b in itertools.pairwise(chunks):
        assert a.start < b.start <= a.end
    assert any(b.start < a.end for a, b in itertools.pairwise(chunks))


def test_a_paragraph_longer_than_a_chunk_is_cut_at_sentences_or_spaces() -> None:
    long = " ".join(f"جملة رقم {i} عن القوافل." for i in range(40))
    chunks = split_text(long, 120)
    assert all(len(c.text) <= 120 for c in chunks)
    assert "".join(c.text for c in chunks) == long
    assert all(c.text.endswith((". ", ".")) for c in chunks)


@requires_seeds
def test_seed_reports_split_and_cover_the_whole_text() -> None:
    for path in [SEEDS / f"{seed}.txt" for seed in SEED_IDS]:
        text = path.read_text(encoding="utf-8")
        chunks = split_text(text, 1500, 300)
        assert len(chunks) >= 2
        assert chunks[0].start == 0 and chunks[-1].end == len(text)
        for a, b in itertools.pairwise(chunks):
            assert b.start <= a.end  # no gap
        reports = split_report(Report.from_path(path, text), 1500, 300)
        assert [r.report_id for r in reports] == [f"{path.stem}#{i}" for i in range(len(chunks))]


def test_merge_shifts_offsets_and_drops_overlap_duplicates() -> None:
    chunks = split_text(TEXT, 200, 90)
    drill_quote = "تدريبا بالذخيرة الحية في حقل العمر"
    second_drill = "تدريب ثان على الإنزال الجوي"
    convoy_quote = "قافلة من 35 شاحنة"
    parts = []
    for chunk in chunks:
        data: dict[str, Any] = {"coalition_month": None, "drills": [], "convoys": []}
        if "118" in chunk.text:
            data["coalition_month"] = 118
            data["stated_totals"] = {"drills": 2}
        if drill_quote in chunk.text:
            # Both neighbours see the drill; one quotes a shorter span of the same sentence.
            quote = drill_quote if chunk.index % 2 else "بالذخيرة الحية في حقل العمر"
            data["drills"].append({"evidence": quote, "live_fire": True, "date": "2024-07-02"})
        if second_drill in chunk.text:
            data["drills"].append({"evidence": second_drill, "date": "2024-07-16"})
        if convoy_quote in chunk.text:
            data["convoys"].append({"mode": "ground", "vehicles": 35, "evidence": convoy_quote})
        parts.append((chunk, _validated(data, chunk.text)))
    assert sum(len(p.drills) for _, p in parts) > 2  # the overlap produced a duplicate

    merged = merge_extractions(parts, TEXT, report_id="long")
    assert merged.report_id == "long"
    assert merged.coalition_month == 118
    assert merged.period is not None and merged.period.start.isoformat() == "2024-06-23"
    assert merged.stated_totals.drills == 2
    assert len(merged.drills) == 2
    assert len(merged.convoys) == 1
    assert merged.flags == []  # 2 stated, 2 recorded
    for record in [*merged.drills, *merged.convoys]:
        assert record.evidence_start is not None and record.evidence_end is not None
        span = TEXT[record.evidence_start : record.evidence_end]
        assert normalize(span) == normalize(record.evidence)
    # Offsets are relative to the whole report, not to a chunk.
    assert merged.drills[1].evidence_start == TEXT.index(second_drill)


def test_merge_keeps_the_quoted_occurrence_of_a_repeated_phrase() -> None:
    phrase = "دورية مشتركة في القامشلي"
    text = f"{phrase} يوم 1 تموز.\n" + "فقرة فاصلة طويلة. " * 8 + f"\n{phrase} يوم 20 تموز.\n"
    chunks = split_text(text, 120)
    last = chunks[-1]
    assert phrase in last.text and last.start > 0
    part = _validated(
        {"arrests": [{"evidence": phrase, "date": "2024-07-20"}]},
        last.text,
    )
    merged = merge_extractions([(last, part)], text)
    assert merged.arrests[0].evidence_start == text.rindex(phrase)


def test_records_of_one_chunk_are_never_merged_together() -> None:
    text = "هجومان على قاعدة التنف في يوم واحد.\n"
    chunk = split_text(text, 1000)[0]
    part = _validated(
        {
            "strikes": [
                {"evidence": "هجومان على قاعدة التنف", "kind": "attack_on_base"},
                {"evidence": "هجومان على قاعدة التنف", "kind": "attack_on_base"},
            ]
        },
        text,
    )
    assert len(merge_extractions([(chunk, part)], text).strikes) == 2


def test_chunks_keep_the_reports_provenance_and_its_dates() -> None:
    import datetime as dt

    from llm_extract.prompts import load_prompt
    from llm_extract.report import sha256_text
    from llm_extract.run.runner import Runner
    from llm_extract.settings import load_settings

    lines = [
        "الحسكة: شنت قوات التحالف الدولي أمس الجمعة غارة جوية على موقع قرب الشدادي.",
        "وفي سياق آخر لم يسجل أي نشاط للتحالف في مناطق الرقة خلال هذه الفترة.",
        "وكانت القوات قد نفذت يوم الأحد الماضي تدريبا مشتركا مع قسد في قاعدة قسرك.",
    ]
    report = Report(
        "item",
        "\n".join(lines),
        "item.html",
        url="http://127.0.0.1/item.html",
        published=dt.date(2025, 1, 4),
    )
    parts = split_report(report, 200, 0)
    assert len(parts) >= 2
    assert all(p.published == report.published and p.url == report.url for p in parts)
    assert all(p.sha256 == sha256_text(p.text) for p in parts)
    settings = load_settings({"model": "rules", "chunk_chars": 200, "chunk_overlap": 0})
    runner = Runner(settings, load_prompt("minimal"))
    (result,) = runner.run_sync(runner.prepare([report]), keep_results=True).results or []
    assert result.extraction is not None
    assert [s.date for s in result.extraction.strikes] == [dt.date(2025, 1, 3)]
    assert [d.date for d in result.extraction.drills] == [dt.date(2024, 12, 29)]
