"""Reading reports: files, folders, globs, stdin, every kind of bad input, duplicate ids."""

from __future__ import annotations

import io
from pathlib import Path

from report_samples import SAMPLES

from llm_extract.sources.files import read_reports


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def sample_folder(folder: Path) -> Path:
    for report_id, text in SAMPLES.items():
        write(folder / f"{report_id}.txt", text)
    write(folder / "notes.md", "not a report")
    return folder


def test_folder_reads_every_txt_sorted(tmp_path: Path) -> None:
    folder = sample_folder(tmp_path / "reports")
    reports, errors = read_reports([str(folder)], max_chars=100_000)
    assert errors == []
    assert [r.report_id for r in reports] == ["r120", "r121", "r122"]
    assert reports[0].text == SAMPLES["r120"]
    assert reports[0].path == str(folder / "r120.txt")
    assert len(reports[0].sha256) == 64


def test_files_globs_and_stdin_in_input_order(tmp_path: Path) -> None:
    folder = sample_folder(tmp_path / "reports")
    stdin = io.BytesIO(("من المصدر: " + SAMPLES["r122"]).encode("utf-8"))
    reports, errors = read_reports(
        [str(folder / "r121.txt"), str(folder / "r12[02].txt"), "-"],
        max_chars=100_000,
        stdin=stdin,
    )
    assert errors == []
    assert [r.report_id for r in reports] == ["r121", "r120", "r122", "stdin"]
    assert reports[-1].text == "من المصدر: " + SAMPLES["r122"]


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    folder = sample_folder(tmp_path / "reports")
    reports, errors = read_reports([str(folder), str(folder / "r120.txt")], max_chars=100_000)
    assert errors == []
    assert [r.report_id for r in reports] == ["r120", "r121", "r122"]


def test_bad_inputs_each_named_and_the_rest_still_read(tmp_path: Path) -> None:
    good = write(tmp_path / "good.txt", SAMPLES["r120"])
    empty = write(tmp_path / "empty.txt", "  \n\t\n")
    binary = write(tmp_path / "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    latin = write(tmp_path / "latin.txt", "caf\xe9 report".encode("latin-1"))
    english = write(tmp_path / "english.txt", "A report in English about convoys and drills.")
    long = write(tmp_path / "long.txt", SAMPLES["r121"] * 20)
    empty_dir = tmp_path / "empty_dir"
    empty_dir.mkdir()
    missing = tmp_path / "missing.txt"
    inputs = [good, empty, binary, latin, english, long, missing, empty_dir]
    pattern = str(tmp_path / "nothing-*.txt")
    reports, errors = read_reports([*map(str, inputs), pattern], max_chars=1000)
    assert [r.report_id for r in reports] == ["good"]
    reasons = {error.path: error.reason for error in errors}
    assert reasons == {
        str(empty): "empty file",
        str(binary): "binary file (NUL bytes), not a text report",
        str(latin): "not UTF-8 text (bad byte at offset 3)",
        str(english): "no Arabic text; not a report of this series",
        str(long): f"{len(SAMPLES['r121']) * 20} characters, longer than the limit of 1000 "
        "(--max-chars)",
        str(missing): "no such file or folder",
        str(empty_dir): "folder holds no report (.htm, .html, .pdf, .txt, .urls)",
        pattern: "no file matches this pattern",
    }
    for error in errors:
        assert str(error).startswith(error.path + ": ")


def test_bad_stdin_is_named_stdin() -> None:
    reports, errors = read_reports(["-"], max_chars=100, stdin=io.BytesIO(b""))
    assert reports == []
    assert [str(e) for e in errors] == ["-: empty file"]


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = write(tmp_path / "bom.txt", b"\xef\xbb\xbf" + SAMPLES["r120"].encode("utf-8"))
    reports, errors = read_reports([str(path)], max_chars=100_000)
    assert errors == []
    assert reports[0].text == SAMPLES["r120"]


def test_duplicate_stems_get_distinct_ids(tmp_path: Path) -> None:
    a = write(tmp_path / "a" / "month.txt", SAMPLES["r120"])
    b = write(tmp_path / "b" / "month.txt", SAMPLES["r121"])
    c = write(tmp_path / "c" / "a__month.txt", SAMPLES["r122"])
    d = write(tmp_path / "d" / "a" / "month.txt", SAMPLES["r122"] + "\nسطر آخر.")
    reports, errors = read_reports([str(p) for p in (a, b, c, d)], max_chars=100_000)
    assert errors == []
    ids = [r.report_id for r in reports]
    # The unique stem "a__month" (folder c) keeps its id; the colliding ones get a number.
    assert ids == ["a__month-2", "b__month", "a__month", "a__month-3"]
    assert reports[1].report_id == "b__month" and reports[1].path == str(b)
