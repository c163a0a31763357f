"""The one reading of a model's answer as JSON (backends/salvage.answer_json): the last JSON
object, for validation (md_json) and salvage alike, on answers with several blocks."""

from __future__ import annotations

import json

from backend_samples import CONVOY, GOOD, INVENTED, MIXED, STRIKE, extract
from openai_server import OpenAIServer, Reply

from llm_extract.backends.modes import HANDLERS
from llm_extract.backends.salvage import answer_json, parse_json_object

EXAMPLE = '{"coalition_month": 1, "convoys": []}'


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def test_a_bare_or_fenced_object_or_one_in_prose() -> None:
    assert parse_json_object('{"a": 1}') == {"a": 1}
    assert parse_json_object('Here it is:\n```json\n{"a": [1, 2]}\n```\nDone.') == {"a": [1, 2]}
    assert parse_json_object('Sure! {"a": {"b": 2}} Hope that helps.') == {"a": {"b": 2}}
    assert parse_json_object("[1, 2]") is None
    assert parse_json_object('{"a": ') is None
    assert parse_json_object("no JSON here") is None


def test_the_last_of_several_fenced_blocks() -> None:
    answer = f"An example:\n```json\n{EXAMPLE}\n```\nThe answer:\n```json\n{dumps(GOOD)}\n```\n"
    assert answer_json(answer) == dumps(GOOD)
    assert parse_json_object(answer) == GOOD


def test_the_last_of_several_bare_objects() -> None:
    answer = f"For instance {EXAMPLE}; for this report: {dumps(GOOD)} as asked."
    assert parse_json_object(answer) == GOOD
    # an example fenced, the answer bare after it: still the last one
    assert parse_json_object(f"```json\n{EXAMPLE}\n```\nMine: {dumps(GOOD)}") == GOOD


def test_nested_objects_and_braces_in_strings_are_part_of_their_object() -> None:
    tricky = {"coalition_month": 121, "note": 'a "quoted" {brace} and \\ slash', "x": {"y": {}}}
    answer = f"Answer: {dumps(tricky)}"
    assert answer_json(answer) == dumps(tricky)
    assert parse_json_object(answer) == tricky


def test_a_brace_in_the_prose_before_a_fence_does_not_swallow_it() -> None:
    answer = f"Mind the {{ key:\n```json\n{dumps(GOOD)}\n```"
    assert parse_json_object(answer) == GOOD


def test_prose_in_braces_after_the_answer_is_not_an_object() -> None:
    answer = f"```json\n{dumps(GOOD)}\n```\nTell me if you need {{more}}."
    assert parse_json_object(answer) == GOOD


def test_with_no_object_that_parses_the_last_attempt_is_what_is_validated() -> None:
    cut = '```json\n{"coalition_month": 121, "convoys": [{"mode": '
    assert answer_json(f"```json\n{EXAMPLE}\n```\n{cut}") == EXAMPLE  # the last that parses
    assert answer_json(cut) == '{"coalition_month": 121, "convoys": [{"mode": '
    assert answer_json("no JSON here") == "no JSON here"


def test_md_json_validates_what_salvage_reads() -> None:
    mode = HANDLERS["md_json"]
    for answer in (
        f"```json\n{dumps(MIXED)}\n```\n```json\n{dumps(GOOD)}\n```",
        f"```json\n{dumps(GOOD)}\n```\nthen {dumps(MIXED)}",
        f"{dumps(GOOD)} {dumps(MIXED)}",
    ):
        assert json.loads(mode.json_text(answer)) == parse_json_object(answer)


def test_md_json_salvages_the_object_it_validated(openai_server: OpenAIServer) -> None:
    # A valid object first, then the answer (last) with an invented strike. Before, md_json
    # validated the last block but salvage read the first, so the run ended "ok" with the
    # records of a block the validation had not passed, and no record dropped.
    first = {"coalition_month": 121, "convoys": [], "strikes": [STRIKE]}
    # the server puts the text in a ```json fence: two fenced blocks with prose between them
    openai_server.default = Reply(f"{dumps(first)}\n```\nCorrected:\n```json\n{dumps(MIXED)}")
    response = extract(openai_server, mode="md_json", max_reasks=1)
    assert response.extraction is not None
    assert [c.vehicles for c in response.extraction.convoys] == [CONVOY["vehicles"]]
    assert len(response.extraction.strikes) == 1
    (dropped,) = response.dropped
    assert dropped.category == "strikes" and dropped.record == INVENTED
