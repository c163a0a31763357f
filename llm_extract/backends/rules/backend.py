"""The offline extractor behind the :class:`~llm_extract.backends.base.Backend` interface."""

from __future__ import annotations

from llm_extract.backends.base import BackendResponse, ExtractionRequest
from llm_extract.backends.rules.extractor import extract
from llm_extract.results import Usage


class RulesBackend:
    """``--model rules``: no key, no network, deterministic, free (so never cached)."""

    name = "rules"
    cacheable = False

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        report = request.report
        extraction, dropped = extract(report.text, report.report_id, report.published)
        return BackendResponse(
            extraction=extraction,
            usage=Usage(attempts=1, cost_usd=0.0),
            dropped=dropped,
        )

    async def aclose(self) -> None:
        return None
