"""instructor as the reference for the project's own modes (``backends/modes/``).

The same canned answers go through the project's backend (``OpenAIBackend``) and through
``AsyncOpenAI`` + instructor (``from_openai``, modes TOOLS, JSON_SCHEMA, MD_JSON), both against
the loopback OpenAI server, and the test asserts the same validated records, the same re-ask
behaviour and the same request bodies, up to the differences docs/models.md lists:

- JSON_SCHEMA: the project sends ``"strict": true`` in ``response_format.json_schema``;
- MD_JSON: instructor renders messages through Jinja when ``context=`` is given, which drops
  the final newline of the system message the project sends;
- the ids of the tool calls echoed in a re-ask are those of the completion answered (the
  loopback server numbers them per answer).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import instructor
import openai
import pytest
from backend_samples import BAD, FAST, GOOD, INVENTED, MIXED, assert_good, request, settings
from instructor.core import IncompleteOutputException, InstructorRetryException
from openai_server import OpenAIServer, Reply, Truncated
from pydantic import BaseModel

from llm_extract.backends.base import BackendResponse
from llm_extract.backends.openai_compat import OpenAIBackend
from llm_extract.errors import ExtractionError
from llm_extract.schemas import ReportExtraction

MODES = {
    "tools": instructor.Mode.TOOLS,
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "md_json": instructor.Mode.MD_JSON,
}
#: Where the request bodies may differ, by mode (JSON paths; see the module doc).
DOCUMENTED: dict[str, set[str]] = {
    "tools": set(),
    "json_schema": {"/response_format/json_schema/strict"},
    "md_json": {"/messages/0/content"},
}


@dataclass
class Outcome:
    """What one side made of the canned answers: records (or the error) and its requests."""

    records: dict[str, Any] | None
    error: str | None
    bodies: list[dict[str, Any]]


def differences(a: Any, b: Any, path: str = "") -> set[str]:
    """The JSON paths where ``a`` and ``b`` differ."""
    if type(a) is not type(b):
        return {path}
    if isinstance(a, dict):
        out: set[str] = set()
        for key in set(a) | set(b):
            where = f"{path}/{key}"
            out |= {where} if key not in a or key not in b else differences(a[key], b[key], where)
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return {f"{path}[len]"}
        out = set()
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            out |= differences(x, y, f"{path}/{n}")
        return out
    return set() if a == b else {path}


def without_call_ids(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the ids of echoed tool calls left out (numbered by the server)."""
    clean = json.loads(json.dumps(body))
    for message in clean.get("messages", []):
        for call in message.get("tool_calls") or []:
            call.pop("id", None)
        message.pop("tool_call_id", None)
    return clean


def records(extraction: BaseModel) -> dict[str, Any]:
    return ReportExtraction.model_validate(extraction.model_dump()).model_dump(mode="json")


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as running:
        yield running


async def _own(server: OpenAIServer, mode: str, max_reasks: int) -> BackendResponse:
    call = settings(server, mode=mode, max_reasks=max_reasks)
    backend = OpenAIBackend(call, retry_policy=FAST)
    try:
        return await backend.extract(request(call))
    finally:
        await backend.aclose()


async def _reference(server: OpenAIServer, mode: str, max_reasks: int) -> BaseModel:
    call = settings(server, mode=mode)
    one = request(call)
    client = openai.AsyncOpenAI(api_key="reference", base_url=server.base_url, max_retries=0)
    try:
        patched = instructor.from_openai(client, mode=MODES[mode])
        answer: BaseModel = await patched.chat.completions.create(
            model=call.model,
            messages=[dict(m) for m in one.messages],  # type: ignore[misc]
            response_model=ReportExtraction,
            context=one.report.validation_context(),
            max_retries=max_reasks,
            temperature=call.temperature,
            max_tokens=call.max_tokens,
        )
        return answer
    finally:
        await client.close()


def own(server: OpenAIServer, mode: str, *answers: Any, max_reasks: int = 1) -> Outcome:
    server.requests.clear()
    server.enqueue(*answers)
    try:
        response = asyncio.run(_own(server, mode, max_reasks))
    except ExtractionError as exc:
        return Outcome(None, exc.kind, [r.body for r in server.chat_requests()])
    assert response.dropped == []
    return Outcome(records(response.extraction), None, [r.body for r in server.chat_requests()])


def reference(server: OpenAIServer, mode: str, *answers: Any, max_reasks: int = 1) -> Outcome:
    server.requests.clear()
    server.enqueue(*answers)
    try:
        answer = asyncio.run(_reference(server, mode, max_reasks))
    except IncompleteOutputException:
        return Outcome(None, "truncated", [r.body for r in server.chat_requests()])
    except InstructorRetryException:
        return Outcome(None, "invalid_output", [r.body for r in server.chat_requests()])
    return Outcome(records(answer), None, [r.body for r in server.chat_requests()])


def assert_same_requests(mode: str, mine: Outcome, theirs: Outcome) -> None:
    assert len(mine.bodies) == len(theirs.bodies)
    for a, b in zip(mine.bodies, theirs.bodies, strict=True):
        assert differences(without_call_ids(a), without_call_ids(b)) <= DOCUMENTED[mode]


def test_a_valid_answer(server: OpenAIServer, mode: str) -> None:
    mine = own(server, mode, Reply(GOOD))
    theirs = reference(server, mode, Reply(GOOD))
    assert mine.records is not None and mine.records == theirs.records
    assert len(mine.bodies) == 1
    assert_same_requests(mode, mine, theirs)
    assert_good(asyncio.run(_own_again(server, mode)))


async def _own_again(server: OpenAIServer, mode: str) -> BackendResponse:
    server.enqueue(Reply(GOOD))
    return await _own(server, mode, 0)


def test_an_invalid_answer_then_a_corrected_one(server: OpenAIServer, mode: str) -> None:
    mine = own(server, mode, Reply(BAD), Reply(GOOD))
    theirs = reference(server, mode, Reply(BAD), Reply(GOOD))
    assert mine.records is not None and mine.records == theirs.records
    assert len(mine.bodies) == len(theirs.bodies) == 2  # one re-ask each
    assert_same_requests(mode, mine, theirs)  # the re-ask sends the same messages back


def test_an_answer_invalid_after_every_reask(server: OpenAIServer, mode: str) -> None:
    """Both give up after the same number of requests; the project keeps the valid records
    (instructor has no salvage: it raises), which is why the comparison stops at the error."""
    mine_backend = asyncio.run(_own_with(server, mode, Reply(BAD), Reply(MIXED)))
    assert [s.kind.value for s in mine_backend.extraction.strikes] == ["drone_shootdown"]
    assert [d.record for d in mine_backend.dropped] == [INVENTED]
    mine_requests = [r.body for r in server.chat_requests()]
    theirs = reference(server, mode, Reply(BAD), Reply(MIXED))
    assert theirs.error == "invalid_output" and len(theirs.bodies) == len(mine_requests) == 2
    assert_same_requests(mode, Outcome(None, None, mine_requests), theirs)


async def _own_with(server: OpenAIServer, mode: str, *answers: Any) -> BackendResponse:
    server.requests.clear()
    server.enqueue(*answers)
    return await _own(server, mode, 1)


def test_a_truncated_answer(server: OpenAIServer, mode: str) -> None:
    mine = own(server, mode, Truncated(GOOD))
    theirs = reference(server, mode, Truncated(GOOD))
    assert mine.error == theirs.error == "truncated"
    assert len(mine.bodies) == len(theirs.bodies) == 1  # neither re-asks a cut answer


def test_several_json_blocks_in_one_md_json_answer(server: OpenAIServer) -> None:
    """Prose with two fenced blocks: both read the same block (the project: the last;
    instructor's MD_JSON: the last complete ```json block too)."""
    first = {"coalition_month": 120, "convoys": []}
    text = json.dumps(first) + "\n```\nOn reflection, the corrected answer:\n```json\n"
    text += json.dumps(GOOD, ensure_ascii=False)
    mine = own(server, "md_json", Reply(text))
    theirs = reference(server, "md_json", Reply(text))
    assert mine.records == theirs.records
    assert mine.records is not None and mine.records["coalition_month"] == 121
