"""The gold set and its loader: every gold file is valid and grounded, broken ones fail
with the file and field path, and the set really holds the hard cases it is meant to test."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from paths import EVALS, GOLD_DIR, REPORTS_DIR, SEED_IDS, SEEDS, requires_seeds, with_seed_marks
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.errors import GoldError
from llm_extract.evaluation.gold import (
    GoldItem,
    default_report_dirs,
    load_gold,
    load_gold_file,
    load_gold_set,
    load_splits,
)
from llm_extract.evaluation.layout import EvalLayout
from llm_extract.normalize import EGYPTIAN_MONTHS, normalize
from llm_extract.results import ExtractionResult, PromptInfo, SourceInfo
from llm_extract.schemas import (
    CATEGORIES,
    Arrest,
    Casualty,
    CoalitionRole,
    Drill,
    Strike,
    StrikeKind,
)

GOLD_IDS = sorted(p.stem for p in GOLD_DIR.glob("*.json"))
PROJECT_IDS = sorted(p.stem for p in REPORTS_DIR.glob("*.txt"))

# A small valid report and gold document used to build broken variants.
SAMPLE_TEXT = (
    "الحسكة – 3 آذار 2023: دخلت 20 شاحنة للتحالف عبر معبر الوليد، "
    "وأجرت القوات تدريباً بالذخيرة الحية في قاعدة قسرك."
)
SAMPLE_GOLD: dict[str, Any] = {
    "convoys": [
        {
            "mode": "ground",
            "vehicles": 20,
            "dates": ["2023-03-03"],
            "origin": "معبر الوليد",
            "evidence": "دخلت 20 شاحنة للتحالف عبر معبر الوليد",
        }
    ],
    "drills": [
        {
            "date": "2023-03-03",
            "location": "قاعدة قسرك",
            "live_fire": True,
            "evidence": "تدريباً بالذخيرة الحية في قاعدة قسرك",
        }
    ],
}


@pytest.fixture(scope="module")
def gold_set() -> list[GoldItem]:
    return load_gold_set()


def dated_records(item: GoldItem) -> list[Drill | Strike | Arrest]:
    return [*item.gold.drills, *item.gold.strikes, *item.gold.arrests]


def write_case(folder: Path, report_id: str, gold: Any, text: str | None = SAMPLE_TEXT) -> Path:
    """Write ``gold`` (a document, or raw JSON text) and, unless None, its report text."""
    (folder / "gold").mkdir(exist_ok=True)
    (folder / "reports").mkdir(exist_ok=True)
    path = folder / "gold" / f"{report_id}.json"
    raw = gold if isinstance(gold, str) else json.dumps(gold, ensure_ascii=False, indent=2)
    path.write_text(raw, encoding="utf-8")
    if text is not None:
        (folder / "reports" / f"{report_id}.txt").write_text(text, encoding="utf-8")
    return path


def load_case(folder: Path) -> list[GoldItem]:
    return load_gold_set(folder / "gold", [folder / "reports"])


# --- every gold file ------------------------------------------------------------------------


@pytest.mark.parametrize("report_id", with_seed_marks(GOLD_IDS))
def test_gold_file_loads_and_is_grounded(report_id: str) -> None:
    (item,) = load_gold_set(ids=[report_id])
    assert item.report.report_id == report_id == item.gold.report_id
    assert item.path == GOLD_DIR / f"{report_id}.json"
    records = [r for category in CATEGORIES for r in item.gold.records(category)]
    assert records, "a gold file with no record at all tests nothing"
    for record in records:
        assert record.evidence_start is not None and record.evidence_end is not None
        quoted = item.report.text[record.evidence_start : record.evidence_end]
        assert normalize(quoted) == normalize(record.evidence)


@pytest.mark.parametrize("report_id", with_seed_marks(GOLD_IDS))
def test_gold_dates_fit_the_report(report_id: str) -> None:
    """Monthly reports: dates inside the period or a few days before it. Short items: the
    year of the dateline."""
    (item,) = load_gold_set(ids=[report_id])
    dates = [d for c in item.gold.convoys for d in c.dates]
    dates += [r.date for r in dated_records(item) if r.date]
    if item.gold.period is not None:
        period = item.gold.period
        for day in dates:
            assert period.start - dt.timedelta(days=15) <= day <= period.end, day
    else:
        text = normalize(item.report.text)
        for day in dates:
            assert str(day.year) in text and str(day.day) in text, day


def test_the_gold_set_has_every_report() -> None:
    assert len(PROJECT_IDS) >= 18
    assert set(PROJECT_IDS) <= set(GOLD_IDS)
    assert set(SEED_IDS) <= set(GOLD_IDS)
    assert set(GOLD_IDS) <= set(PROJECT_IDS) | set(SEED_IDS)
    for report_id in PROJECT_IDS:
        assert re.fullmatch(r"[a-z0-9_\-]+", report_id), report_id


def test_the_eval_folder_names_the_real_reports_as_optional() -> None:
    assert [d.resolve() for d in default_report_dirs()] == [REPORTS_DIR, SEEDS.resolve()]


def test_without_the_real_reports_their_gold_files_are_left_out(tmp_path: Path) -> None:
    layout = EvalLayout(root=EVALS, optional_report_dirs=(tmp_path / "absent",))
    loaded = load_gold(ids=[*SEED_IDS, "month_112"], layout=layout)
    assert [i.report.report_id for i in loaded.items] == ["month_112"]
    assert loaded.left_out == list(SEED_IDS)
    assert loaded.absent_dirs == [tmp_path / "absent"]


def test_a_missing_report_is_an_error_when_every_folder_is_there(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    layout = EvalLayout(root=tmp_path, optional_report_dirs=(tmp_path / "reports",))
    (tmp_path / "gold").mkdir()
    (tmp_path / "gold" / "lonely.json").write_text("{}", encoding="utf-8")
    with pytest.raises(GoldError, match=r"lonely\.txt not found"):
        load_gold(layout=layout)


@requires_seeds
def test_default_report_dirs_find_the_seeds() -> None:
    items = load_gold_set(ids=["000_2570466cde77c51c", "month_112"])
    assert [i.report.report_id for i in items] == ["000_2570466cde77c51c", "month_112"]
    assert Path(items[0].report.path).resolve().parent == SEEDS.resolve()
    assert items[0].gold.coalition_month == 118
    assert items[1].gold.period is not None
    assert items[1].gold.period.start == dt.date(2023, 12, 23)


def test_project_reports_do_not_copy_the_seeds() -> None:
    """No run of 8 consecutive words of a real report in the project's own reports."""

    def grams(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", normalize(text))
        return {tuple(words[i : i + 8]) for i in range(len(words) - 7)}

    seeds: set[tuple[str, ...]] = set()
    for path in SEEDS.glob("*.txt"):
        seeds |= grams(path.read_text(encoding="utf-8"))
    if not seeds:
        pytest.skip("../shared/seeds not present")
    for path in REPORTS_DIR.glob("*.txt"):
        shared = grams(path.read_text(encoding="utf-8")) & seeds
        assert not shared, f"{path.name}: {' '.join(next(iter(shared)))}"


# --- the loader on broken files -------------------------------------------------------------


def test_sample_case_is_valid(tmp_path: Path) -> None:
    write_case(tmp_path, "sample", SAMPLE_GOLD)
    (item,) = load_case(tmp_path)
    assert item.gold.report_id == "sample"
    assert item.gold.convoys[0].vehicles == 20
    assert item.gold.drills[0].evidence_start is not None


def test_bad_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = write_case(tmp_path, "broken", '{\n  "convoys": [\n    {"mode": "ground",,}\n  ]\n}')
    with pytest.raises(GoldError) as info:
        load_gold_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid JSON at line 3, column")
    assert info.value.path == str(path)


def test_wrong_type_at_nested_path(tmp_path: Path) -> None:
    gold = json.loads(json.dumps(SAMPLE_GOLD))
    gold["convoys"][0]["vehicles"] = "many"
    gold["drills"][0]["live_fire"] = "sometimes"
    path = write_case(tmp_path, "typed", gold)
    with pytest.raises(GoldError) as info:
        load_case(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "convoys.0.vehicles: Input should be a valid integer" in message
    assert "drills.0.live_fire: Input should be a valid boolean" in message


def test_negative_count_message(tmp_path: Path) -> None:
    gold = json.loads(json.dumps(SAMPLE_GOLD))
    gold["convoys"][0]["vehicles"] = -3
    path = write_case(tmp_path, "negative", gold)
    with pytest.raises(GoldError) as info:
        load_gold_file(path, SAMPLE_TEXT)
    assert str(info.value) == (
        f"{path}: convoys.0.vehicles: Input should be greater than or equal to 0"
    )


def test_evidence_not_in_report(tmp_path: Path) -> None:
    gold = json.loads(json.dumps(SAMPLE_GOLD))
    gold["drills"][0]["evidence"] = "تدريب في حقل العمر"
    path = write_case(tmp_path, "ungrounded", gold)
    with pytest.raises(GoldError) as info:
        load_case(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{path}: drills.0: ")
    assert "does not occur in the report" in message
    # Without the text, the same file is only checked against the schema.
    assert load_gold_file(path).drills[0].evidence_start is None


def test_unknown_field(tmp_path: Path) -> None:
    gold = json.loads(json.dumps(SAMPLE_GOLD))
    gold["drills"][0]["colour"] = "green"
    gold["stated_totals"] = {"drils": 3}
    path = write_case(tmp_path, "extra", gold)
    with pytest.raises(GoldError) as info:
        load_case(tmp_path)
    message = str(info.value)
    assert f"{path}: " in message
    assert "drills.0.colour: Extra inputs are not permitted" in message
    assert "stated_totals.drils: Extra inputs are not permitted" in message


def test_bad_enum_and_month(tmp_path: Path) -> None:
    gold = json.loads(json.dumps(SAMPLE_GOLD))
    gold["convoys"][0]["mode"] = "sea"
    gold["coalition_month"] = 0
    path = write_case(tmp_path, "enum", gold)
    with pytest.raises(GoldError) as info:
        load_gold_file(path)
    message = str(info.value)
    assert "convoys.0.mode: Input should be 'ground' or 'air'" in message
    assert "coalition_month: Value error, coalition_month must be between 1 and 600" in message


def test_not_an_object_and_wrong_report_id(tmp_path: Path) -> None:
    path = write_case(tmp_path, "listy", "[1, 2]")
    with pytest.raises(GoldError, match=r"listy\.json: expected a JSON object, got list"):
        load_gold_file(path)
    path = write_case(tmp_path, "named", {**SAMPLE_GOLD, "report_id": "other"})
    with pytest.raises(GoldError, match=r"named\.json: report_id: 'other' does not match"):
        load_gold_file(path)


def test_missing_gold_file_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(GoldError, match=r"nowhere\.json: file not found"):
        load_gold_file(tmp_path / "nowhere.json")
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"convoys": [], "x": "\xe9"}')
    with pytest.raises(GoldError, match=r"latin\.json: not UTF-8 text"):
        load_gold_file(path)


def test_missing_report_text(tmp_path: Path) -> None:
    path = write_case(tmp_path, "orphan", SAMPLE_GOLD, text=None)
    with pytest.raises(GoldError) as info:
        load_case(tmp_path)
    assert str(info.value).startswith(f"{path}: report text orphan.txt not found in ")
    assert str(tmp_path / "reports") in str(info.value)


def test_first_report_dir_wins(tmp_path: Path) -> None:
    write_case(tmp_path, "twice", SAMPLE_GOLD)
    other = tmp_path / "other"
    other.mkdir()
    (other / "twice.txt").write_text("نص آخر لا يحوي شيئاً مما في ملف الحقيقة", encoding="utf-8")
    (item,) = load_gold_set(tmp_path / "gold", [tmp_path / "reports", other])
    assert item.report.path == str(tmp_path / "reports" / "twice.txt")
    with pytest.raises(GoldError, match="does not occur in the report"):
        load_gold_set(tmp_path / "gold", [other, tmp_path / "reports"])


def test_ids_filter(tmp_path: Path) -> None:
    write_case(tmp_path, "b_one", SAMPLE_GOLD)
    write_case(tmp_path, "a_two", SAMPLE_GOLD)
    assert [i.report.report_id for i in load_case(tmp_path)] == ["a_two", "b_one"]
    items = load_gold_set(tmp_path / "gold", [tmp_path / "reports"], ids=["b_one"])
    assert [i.report.report_id for i in items] == ["b_one"]
    with pytest.raises(GoldError, match="no gold file for: zzz"):
        load_gold_set(tmp_path / "gold", [tmp_path / "reports"], ids=["b_one", "zzz"])
    with pytest.raises(GoldError, match="gold folder not found"):
        load_gold_set(tmp_path / "absent", [tmp_path / "reports"])


# --- splits ---------------------------------------------------------------------------------


SPLIT_NAMES = {"dev", "spent", "holdout", "wide_dev", "wide_test"}


def test_splits_name_existing_reports_without_overlap() -> None:
    splits = load_splits()
    assert set(splits) == SPLIT_NAMES
    assert all(len(set(ids)) == len(ids) for ids in splits.values()), "an id listed twice"
    listed = [i for ids in splits.values() for i in ids]
    assert len(listed) == len(set(listed)), "a report in two splits"
    assert set(listed) == set(GOLD_IDS), "every gold report is in exactly one split"
    holdout = set(splits["holdout"])
    assert holdout <= set(PROJECT_IDS), "the real reports stay in dev"
    if holdout:  # empty once every report has been read by a rule writer
        kinds = {k for report_id in holdout for k in ("month", "item") if f"{k}_" in report_id}
        assert kinds == {"month", "item"}, "holdout mixes monthly reports and short items"


def report_style(report_id: str) -> str:
    """wide_<style>_...: item, brief, sum (a summary with totals) or month."""
    return report_id.split("_")[1]


def test_wide_splits_are_stratified(gold_set: list[GoldItem]) -> None:
    """wide_dev and wide_test each hold >= 22 reports, every style and every category, and
    between them every wide_* report."""
    splits = load_splits()
    wide = {i for i in GOLD_IDS if i.startswith("wide_")}
    assert set(splits["wide_dev"]) | set(splits["wide_test"]) == wide
    by_id = {i.report.report_id: i for i in gold_set}
    for name in ("wide_dev", "wide_test"):
        ids = splits[name]
        assert len(ids) >= 22, name
        assert {report_style(i) for i in ids} == {"item", "brief", "sum", "month"}, name
        for category in CATEGORIES:
            assert any(by_id[i].gold.records(category) for i in ids), (name, category)
        years = {by_id[i].gold.period.start.year for i in ids if by_id[i].gold.period}
        assert min(years) <= 2019 and max(years) >= 2021, (name, years)


def test_any_list_of_splits_toml_is_a_split(tmp_path: Path) -> None:
    """A split is any named list of the file, not a fixed set of names."""
    path = tmp_path / "splits.toml"
    path.write_text('dev = ["a"]\nwide_test = ["b", "c"]\nodd_name = []\n', encoding="utf-8")
    assert load_splits(path) == {"dev": ["a"], "wide_test": ["b", "c"], "odd_name": []}


@pytest.mark.parametrize("split", ["wide_dev", "wide_test"])
def test_a_wide_split_is_a_split_the_scorer_takes(split: str, tmp_path: Path) -> None:
    """`score --split wide_dev` loads that split's gold; the gold itself scores 1.0."""
    ids = load_splits()[split]
    predictions = tmp_path / "gold.jsonl"
    lines = [
        ExtractionResult(
            report_id=item.report.report_id,
            source=SourceInfo.from_report(item.report),
            prompt=PromptInfo(name="gold", hash="0" * 64),
            model="gold",
            status="ok",
            extraction=item.gold,
        ).model_dump_json()
        for item in load_gold_set(ids=ids)
    ]
    predictions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = CliRunner().invoke(
        app, ["score", str(predictions), "--evals-dir", str(EVALS), "--split", split, "--json"]
    )
    assert done.exit_code == 0, done.output
    (summary,) = json.loads(done.stdout).values()
    assert summary["reports"] == len(ids)
    assert {c: summary["micro"][c]["f1"] for c in CATEGORIES} == dict.fromkeys(CATEGORIES, 1.0)


def test_load_splits_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("dev = [\n", encoding="utf-8")
    with pytest.raises(GoldError, match=r"bad\.toml: invalid TOML"):
        load_splits(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('dev = "month_088"\n', encoding="utf-8")
    with pytest.raises(GoldError, match=r"wrong\.toml: dev: expected a list of report ids"):
        load_splits(wrong)


# --- the hard cases the gold set must contain -----------------------------------------------


def texts(items: list[GoldItem]) -> dict[str, str]:
    return {i.report.report_id: i.report.text for i in items}


def test_coverage_text_quirks(gold_set: list[GoldItem]) -> None:
    project = {k: v for k, v in texts(gold_set).items() if k in PROJECT_IDS}
    indic = [k for k, v in project.items() if re.search("[٠-٩]", v)]
    assert len(indic) >= 2, "Arabic-Indic digits"
    egyptian = "|".join(sorted(map(normalize, EGYPTIAN_MONTHS), key=len, reverse=True))
    pattern = re.compile(rf"(?<![\u0621-\u064a])({egyptian})(?![\u0621-\u064a])")
    assert len([k for k, v in project.items() if pattern.search(normalize(v))]) >= 2
    assert any("د ا ع ش" in v for v in project.values()), "broken word د ا ع ش"
    assert any("الم قاو م ة" in v for v in project.values()), "broken word الم قاو م ة"
    assert any(re.search(r"الشهر \w+ عشر بعد المائة", v) for v in project.values())
    for word in ("نحو", "قرابة", "على الأقل", "أكثر من", "عشرات", "ثلاثة", "ست "):
        assert any(word in v for v in project.values()), word
    for spelling in ("كونيكو", "كونوكو", "الشدادي ", "الشدادية"):
        assert any(spelling in v for v in project.values()), spelling
    for crossing in ("الوليد", "سيمالكا"):
        assert any(crossing in v for v in project.values()), crossing
    # Lists of days sharing one month name, with and without "من", across two months.
    assert any(re.search(r"\d+ و\d+ و\d+ من كانون الأول، و\d+", v) for v in project.values())
    assert any(re.search(r"\d+ و\d+ أيلول، و\d+ و\d+", v) for v in project.values())


def test_coverage_dates(gold_set: list[GoldItem]) -> None:
    monthly = [i for i in gold_set if i.gold.period is not None]
    items = [i for i in gold_set if i.gold.coalition_month is None]
    assert len({i.gold.period.start.year for i in monthly if i.gold.period}) >= 4
    assert len(items) >= 7

    def dates(item: GoldItem) -> list[dt.date]:
        found = [d for c in item.gold.convoys for d in c.dates]
        return found + [r.date for r in dated_records(item) if r.date is not None]

    boundary = [
        i
        for i in monthly
        if {d.month for d in dates(i)} >= {12, 1} and len({d.year for d in dates(i)}) == 2
    ]
    assert {i.report.report_id for i in boundary} >= {"month_112"}, "December/January"
    before = [
        i for i in monthly if i.gold.period and any(d < i.gold.period.start for d in dates(i))
    ]
    assert len(before) >= 2, "a listed day from just before the period"
    assert all(dates(i) for i in items), "short items carry a dated record"


def numbers_in_words(item: GoldItem) -> list[int]:
    """Counts of records whose evidence does not write the number in digits."""
    found = []
    for category in CATEGORIES:
        for record in item.gold.records(category):
            evidence = normalize(record.evidence)
            for name in ("vehicles", "batches", "count", "detained", "operations"):
                value = getattr(record, name, None)
                if isinstance(value, int) and value > 1 and str(value) not in evidence:
                    found.append(value)
    return found


def test_coverage_values(gold_set: list[GoldItem]) -> None:
    convoys = [c for i in gold_set for c in i.gold.convoys]
    casualties: list[Casualty] = [c for i in gold_set for s in i.gold.strikes for c in s.casualties]
    assert any(c.approximate for c in convoys) and any(c.approximate for c in casualties)
    assert any(c.at_least for c in convoys) and any(c.at_least for c in casualties)
    assert any(c.note and c.killed is None and c.injured is None for c in casualties)
    assert {c.mode.value for c in convoys} == {"ground", "air"}
    assert any(c.origin and "سيمالكا" in c.origin for c in convoys)
    assert any(c.origin and "الوليد" in c.origin for c in convoys)
    assert sum(1 for i in gold_set if numbers_in_words(i)) >= 3, "numbers written in words"
    flags = [f for i in gold_set for f in i.gold.flags]
    assert sum("batches stated" in f for f in flags) >= 2
    assert any(f.startswith("drills:") for f in flags)


def test_coverage_records(gold_set: list[GoldItem]) -> None:
    strikes = [s for i in gold_set for s in i.gold.strikes]
    assert {s.kind for s in strikes} >= set(StrikeKind) - {StrikeKind.OTHER}
    breakdowns = [s for s in strikes if len(s.targets) >= 2 and s.count]
    assert len(breakdowns) >= 3
    assert all(sum(t.count or 0 for t in s.targets) == s.count for s in breakdowns)
    assert any(len({c.party for c in s.casualties}) >= 2 for s in strikes)
    arrests = [a for i in gold_set for a in i.gold.arrests]
    assert {a.coalition_role for a in arrests} == set(CoalitionRole)
    assert any(a.operations and a.operations > 1 and a.date is None for a in arrests)
    drills = [d for i in gold_set for d in i.gold.drills]
    totals_only = [d for d in drills if d.count > 1 and d.date is None]
    assert len(totals_only) >= 3, "totals-only drill statements"
    itemised = [
        i
        for i in gold_set
        if i.gold.stated_totals.drills
        and len(i.gold.drills) >= 2
        and all(d.count == 1 for d in i.gold.drills)
    ]
    assert len(itemised) >= 5, "itemised drill lists"


def test_coverage_empty_categories(gold_set: list[GoldItem]) -> None:
    monthly = [i for i in gold_set if i.gold.coalition_month is not None]
    empty = {
        category: [i.report.report_id for i in monthly if not i.gold.records(category)]
        for category in CATEGORIES
    }
    assert empty["strikes"] and empty["arrests"]
    assert sum(len(v) for v in empty.values()) >= 4
    for category in CATEGORIES:
        assert any(i.gold.records(category) for i in gold_set), category
