"""Publication date, title and URL of a text report: a sidecar NAME.meta.json, front
matter, or ``extract --published`` for one file anchor relative dates like a web page's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llm_extract.cli import app
from llm_extract.errors import InputError
from llm_extract.sources.files import read_reports

# Our own news item: "air defences at al-Omar shot down a drone yesterday evening".
NEWS = "دير الزور – أسقطت الدفاعات الجوية للتحالف في حقل العمر طائرة مسيرة مساء أمس.\n"


def _extract(*args: str) -> tuple[int, dict[str, object] | None, str]:
    done = CliRunner().invoke(app, ["extract", *args, "--model", "rules"])
    try:
        return done.exit_code, json.loads(done.stdout), done.output
    except ValueError:
        return done.exit_code, None, done.output


def _strike_date(answer: dict[str, object] | None) -> object:
    assert answer is not None
    extraction = answer["extraction"]
    assert isinstance(extraction, dict)
    return extraction["strikes"][0]["date"]


def test_without_metadata_yesterday_has_no_date(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text(NEWS, encoding="utf-8")
    code, answer, _ = _extract(str(tmp_path / "n.txt"))
    assert code == 0 and _strike_date(answer) is None


def test_sidecar(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text(NEWS, encoding="utf-8")
    meta = {"published": "2024-05-03", "title": "خبر", "url": "https://example.org/n"}
    (tmp_path / "n.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    code, answer, _ = _extract(str(tmp_path / "n.txt"))
    assert code == 0 and _strike_date(answer) == "2024-05-02"
    assert answer is not None and answer["source"] == {
        "path": str(tmp_path / "n.txt"),
        "sha256": answer["source"]["sha256"],  # type: ignore[index]
        "published": "2024-05-03",
        "title": "خبر",
        "url": "https://example.org/n",
        "fetched_at": None,
        "text_key": answer["source"]["text_key"],  # type: ignore[index]
    }
    # A folder does not take the sidecar for a report of its own.
    reports, errors = read_reports([str(tmp_path)])
    assert [r.report_id for r in reports] == ["n"] and not errors


def test_front_matter(tmp_path: Path) -> None:
    text = "---\npublished: 2024-05-03\ntitle: خبر عاجل\n---\n" + NEWS
    (tmp_path / "n.txt").write_text(text, encoding="utf-8")
    code, answer, _ = _extract(str(tmp_path / "n.txt"))
    assert code == 0 and _strike_date(answer) == "2024-05-02"


def test_published_option_for_one_file(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text(NEWS, encoding="utf-8")
    (tmp_path / "m.txt").write_text(NEWS + "\nوفي خبر آخر، لم يُسجَّل أي حادث.\n", encoding="utf-8")
    code, answer, _ = _extract(str(tmp_path / "n.txt"), "--published", "2024-05-03")
    assert code == 0 and _strike_date(answer) == "2024-05-02"
    code, _, output = _extract(
        str(tmp_path / "n.txt"), str(tmp_path / "m.txt"), "--published", "2024-05-03"
    )
    assert code == 2 and "--published is for one report (2 given)" in output
    code, _, output = _extract(str(tmp_path / "n.txt"), "--published", "3/5/2024")
    assert code == 2 and "not an ISO date" in output


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ('{"publised": "2024-05-03"}', "unknown metadata key"),
        ('{"published": "yesterday"}', "not an ISO date"),
        ('{"url": "javascript:alert(1)"}', "not an http(s) URL"),
        ("[1, 2]", "expected a JSON object"),
        ("{not json", "cannot read the metadata"),
    ],
)
def test_bad_metadata_names_the_file(tmp_path: Path, sidecar: str, message: str) -> None:
    (tmp_path / "n.txt").write_text(NEWS, encoding="utf-8")
    (tmp_path / "n.meta.json").write_text(sidecar, encoding="utf-8")
    reports, errors = read_reports([str(tmp_path / "n.txt")])
    assert not reports and len(errors) == 1
    assert isinstance(errors[0], InputError) and message in str(errors[0])
    assert "n.meta.json" in str(errors[0])


def test_front_matter_must_be_closed_and_well_formed(tmp_path: Path) -> None:
    # A rule at the top of a report, never closed, is text: the report is read as it is.
    (tmp_path / "rule.txt").write_text("---\n" + NEWS, encoding="utf-8")
    (tmp_path / "bad.txt").write_text("---\npublished 2024\n---\n" + NEWS, encoding="utf-8")
    reports, errors = read_reports([str(tmp_path / "rule.txt"), str(tmp_path / "bad.txt")])
    assert [r.report_id for r in reports] == ["rule"] and reports[0].published is None
    assert len(errors) == 1 and "is not 'key: value'" in str(errors[0])
