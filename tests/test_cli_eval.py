"""``llm-extract eval``, ``eval compare`` and ``score`` end to end (loopback server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_samples import REPORTS, answer, result_line, write_gold_set
from openai_server import Dynamic, OpenAIServer, RecordedRequest, Reply, Status
from typer.testing import CliRunner, Result

from llm_extract.cli import app
from llm_extract.evaluation.runs import list_runs, load_run
from llm_extract.results import Usage

PROMPT = """
name = "{name}"
description = "test prompt {name}"
system = "PROMPT-{upper}: fill the schema from the report."
user = "Report {{{{ report_id }}}}:\\n\\n{{{{ text }}}}"
"""


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, Path]:
    gold_dir, reports_dir = write_gold_set(tmp_path / "set")
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    for name in ("alpha", "beta"):
        (prompts / f"{name}.toml").write_text(
            PROMPT.format(name=name, upper=name.upper()), encoding="utf-8"
        )
    return {"gold": gold_dir, "reports": reports_dir, "prompts": prompts, "runs": tmp_path / "runs"}


@pytest.fixture
def server(openai_server: OpenAIServer, monkeypatch: pytest.MonkeyPatch) -> OpenAIServer:
    """alpha answers exactly the gold; beta leaves out the second drill of t1."""
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)

    def pick(request: RecordedRequest) -> Reply | Status:
        text = request.all_text()
        for report_id, report in REPORTS.items():
            if report in text:
                return Reply(answer(report_id, drop_second_drill="PROMPT-BETA" in text))
        return Status(404)

    openai_server.default = Dynamic(pick)
    return openai_server


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def common(setup: dict[str, Path]) -> list[str]:
    return [
        "--gold", str(setup["gold"]),
        "--reports", str(setup["reports"]),
        "--prompts-dir", str(setup["prompts"]),
        "--runs-dir", str(setup["runs"]),
    ]  # fmt: skip


def test_eval_grid_table_run_html_and_cache(server: OpenAIServer, setup: dict[str, Path]) -> None:
    args = ["eval", "--prompt", "alpha", "--prompt", "beta", "--model", "gpt-4o-mini"]
    first = invoke(*args, "--model", "rules", *common(setup))
    assert first.exit_code == 0, first.output
    assert len(server.chat_requests()) == 6  # 2 prompts x 3 reports; rules calls nothing
    assert "alpha" in first.stdout and "beta" in first.stdout and "rules" in first.stdout
    assert "verdict: alpha vs beta: every difference is within noise (3 reports)" in first.stdout

    [path] = list_runs(setup["runs"])
    run = load_run(path)
    alpha, beta, rules = run.configurations
    assert (alpha.label, beta.label, rules.label) == ("alpha", "beta", "rules")
    assert [(c.a, c.b) for c in run.comparisons] == [
        ("alpha", "beta"), ("alpha", "rules"), ("beta", "rules")
    ]  # fmt: skip
    assert alpha.prompt is not None and len(alpha.prompt.hash) == 64
    assert alpha.summary.micro["overall"].f1 == 1.0
    assert beta.summary.micro["overall"].f1 == pytest.approx(10 / 11)
    assert beta.summary.micro["drills"].fn == 1
    assert set(beta.predictions) == {"t1", "t2", "t3"}
    assert run.comparisons[0].diff("overall").per_report["t1"] == pytest.approx(1 - 4 / 5)
    assert run.package_version and run.config["models"] == ["gpt-4o-mini", "rules"]
    html = (path.parent / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "missed" in html

    second = invoke(*args, "--model", "rules", "--no-html", *common(setup))
    assert second.exit_code == 0, second.output
    assert len(server.chat_requests()) == 6  # every answer came from the cache
    runs = list_runs(setup["runs"])
    assert len(runs) == 2
    again = load_run(runs[-1])
    assert all(s.cached for c in again.configurations[:2] for s in c.scores)
    assert not any(s.cached for s in again.configurations[2].scores)  # rules: never cached
    assert again.configurations[1].summary == beta.summary.model_copy(
        update={"latency_s": again.configurations[1].summary.latency_s,
                "latency_mean_s": again.configurations[1].summary.latency_mean_s,
                "cached": 3}
    )  # fmt: skip


def test_fail_under(server: OpenAIServer, setup: dict[str, Path]) -> None:
    under = invoke("eval", "--prompt", "beta", "--fail-under", "0.95", *common(setup))
    assert under.exit_code == 1, under.output
    assert "under --fail-under: gpt-4o-mini: overall F1 0.909 < 0.95" in under.stderr
    over = invoke("eval", "--prompt", "beta", "--fail-under", "0.9", "--no-html", *common(setup))
    assert over.exit_code == 0, over.output


def test_rules_is_one_configuration(setup: dict[str, Path]) -> None:
    result = invoke(
        "eval", "--prompt", "alpha", "--prompt", "beta", "--model", "rules", *common(setup)
    )
    assert result.exit_code in (0, 1), result.output  # 1 only if the extractor failed a report
    run = load_run("latest", setup["runs"])
    assert [c.label for c in run.configurations] == ["rules"]
    assert run.configurations[0].prompt is None
    assert run.comparisons == []


def test_eval_needs_a_server_or_key(setup: dict[str, Path]) -> None:
    result = invoke("eval", "--prompt", "alpha", "--model", "gpt-4o-mini", *common(setup))
    assert result.exit_code == 2
    assert "OPENAI_API_KEY" in result.stderr


def test_score_hand_made_predictions(setup: dict[str, Path], tmp_path: Path) -> None:
    # t1: convoy with a wrong vehicle count, first drill twice, second drill missing;
    # t2: failed; t3: no line at all.
    t1 = answer("t1")
    t1["convoys"][0]["vehicles"] = 40
    t1["drills"] = [t1["drills"][0], t1["drills"][0]]
    usage = Usage(prompt_tokens=2000, completion_tokens=500, total_tokens=2500)
    predictions = tmp_path / "out.jsonl"
    predictions.write_text(
        result_line("t1", t1, usage=usage) + "\n" + result_line("t2", None),  # no final newline
        encoding="utf-8",
    )
    result = invoke(
        "score", str(predictions), "--gold", str(setup["gold"]),
        "--reports", str(setup["reports"]), "--json",
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # t2 failed
    # t3 has no prediction: listed apart, not scored (its gold drill is not "missed")
    assert "note: gpt-4o-mini: 1 of 3 gold reports have no prediction, not scored: t3" in (
        result.stderr
    )
    summary = json.loads(result.stdout)["gpt-4o-mini"]
    assert summary["reports"] == 2 and summary["no_prediction"] == ["t3"]
    overall = summary["micro"]["overall"]
    assert (overall["tp"], overall["fp"], overall["fn"]) == (2, 1, 3)
    assert overall["f1"] == pytest.approx(4 / 8)
    drills = summary["micro"]["drills"]
    assert (drills["precision"], drills["recall"], drills["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert summary["micro"]["convoys"]["f1"] == 1.0
    assert summary["micro"]["strikes"]["f1"] == 0.0
    assert summary["macro_f1"]["overall"] == pytest.approx((4 / 6 + 0) / 2)
    # convoy: mode, vehicles, approximate, dates, destinations (vehicles wrong);
    # drill: date, location, participants, count
    assert summary["field_accuracy"]["overall"] == pytest.approx(8 / 9)
    assert summary["wrong_fields"] == 1
    assert summary["failure_rate"] == pytest.approx(1 / 2)
    assert summary["schema_valid_rate"] == pytest.approx(1 / 2)
    assert summary["grounding_rate"] == 1.0
    assert summary["total_tokens"] == 2500
    assert summary["cost_usd"] == pytest.approx((2000 * 0.15 + 500 * 0.60) / 1e6)

    table = invoke(
        "score", str(predictions), "--gold", str(setup["gold"]),
        "--reports", str(setup["reports"]), "--fail-under", "0.3",
    )  # fmt: skip
    assert table.exit_code == 1  # t2 failed
    assert "0.50" in table.stdout and "drills" in table.stdout


def test_score_broken_gold_file(setup: dict[str, Path], tmp_path: Path) -> None:
    broken = json.loads((setup["gold"] / "t2.json").read_text(encoding="utf-8"))
    broken["arrests"][0]["detained"] = -1
    (setup["gold"] / "t2.json").write_text(json.dumps(broken), encoding="utf-8")
    predictions = tmp_path / "out.jsonl"
    predictions.write_text(result_line("t1", answer("t1")) + "\n", encoding="utf-8")
    result = invoke(
        "score", str(predictions), "--gold", str(setup["gold"]), "--reports", str(setup["reports"])
    )
    assert result.exit_code == 2
    assert "t2.json" in result.stderr and "arrests.0.detained" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_score_bad_predictions_line(setup: dict[str, Path], tmp_path: Path) -> None:
    predictions = tmp_path / "out.jsonl"
    predictions.write_text(result_line("t1", answer("t1")) + "\n{not json}\n", encoding="utf-8")
    result = invoke(
        "score", str(predictions), "--gold", str(setup["gold"]), "--reports", str(setup["reports"])
    )
    assert result.exit_code == 2
    assert "out.jsonl" in result.stderr and "line 2" in result.stderr


def test_eval_compare_two_saved_runs(setup: dict[str, Path], tmp_path: Path) -> None:
    perfect = tmp_path / "a.jsonl"
    perfect.write_text("".join(result_line(i, answer(i)) + "\n" for i in REPORTS), "utf-8")
    partial = tmp_path / "b.jsonl"
    partial.write_text(
        "".join(result_line(i, answer(i, drop_second_drill=True)) + "\n" for i in REPORTS),
        "utf-8",
    )
    for predictions in (perfect, partial):
        saved = invoke(
            "score", str(predictions), "--gold", str(setup["gold"]),
            "--reports", str(setup["reports"]), "--save", "--runs-dir", str(setup["runs"]),
        )  # fmt: skip
        assert saved.exit_code == 0, saved.output
    first, second = list_runs(setup["runs"])
    result = invoke(
        "eval", "compare", str(first.parent), second.parent.name, "--runs-dir", str(setup["runs"])
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert first.parent.name in out and second.parent.name in out
    assert "t1" in out and "1.00" in out and "0.80" in out
    assert "verdict: A:gpt-4o-mini vs B:gpt-4o-mini: every difference is within noise" in out

    missing = invoke("eval", "compare", "nope", "latest", "--runs-dir", str(setup["runs"]))
    assert missing.exit_code == 2
    assert "nope: no such run" in missing.stderr
