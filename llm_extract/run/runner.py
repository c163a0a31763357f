"""The one composition root every command uses: settings and a prompt in, results out.

A :class:`Runner` is made from :class:`~llm_extract.settings.Settings` and a
:class:`~llm_extract.prompts.Prompt`. It finds the backend in the registry (its capabilities
decide what applies: credentials, cache, rate limits, request log, batch), builds the backend
stack (:mod:`llm_extract.run.stack`) and the response cache, prepares each report's request
once (messages and request key, :func:`~llm_extract.run.pipeline.prepare_request`), and
streams results to a sink as they finish. ``extract``, ``eval`` (one runner per
configuration of the grid), ``batch prepare`` and ``--dry-run`` all go through it.

Resume (:mod:`llm_extract.run.resume`) and estimates (:mod:`llm_extract.run.dryrun`) work on
the same prepared requests.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llm_extract.backends import BackendSpec, known_model_names, spec_for
from llm_extract.backends.base import (
    BackendResponse,
    Capabilities,
    ExtractionRequest,
    ModelSettings,
)
from llm_extract.errors import UNREACHABLE_KIND, CacheError, LlmExtractError, UsageError
from llm_extract.pricing import PriceTable, load_price_table
from llm_extract.prompts import Prompt
from llm_extract.report import Report
from llm_extract.results import ExtractionResult
from llm_extract.run.aio import run_async
from llm_extract.run.budget import BUDGET_KIND, Budget
from llm_extract.run.pipeline import (
    CacheGuard,
    ResultSink,
    WarningCallback,
    failed_result,
    prepare_request,
    stream_requests,
)
from llm_extract.run.stack import Stack, build_stack, model_settings
from llm_extract.run.tally import Tally
from llm_extract.settings import CONCRETE_MODES, CREDENTIAL_ENVS, ConcreteMode, Settings

if TYPE_CHECKING:
    from llm_extract.backends.chat.client import HttpClient
    from llm_extract.run.adaptive import AutoConcurrency
    from llm_extract.run.cache import ResponseCache
    from llm_extract.run.logstore import RequestLog


#: ``--concurrency auto`` for a backend without HTTP requests to pace: a fixed number.
FIXED_FALLBACK = 8


@dataclass
class Plan:
    """The reports of a run, prepared: a request per report, or the result of a report whose
    request could not be prepared. In input order."""

    items: list[ExtractionRequest | ExtractionResult]

    @property
    def requests(self) -> list[ExtractionRequest]:
        return [i for i in self.items if isinstance(i, ExtractionRequest)]

    def without(self, report_ids: set[str]) -> Plan:
        return Plan([i for i in self.items if _report_id(i) not in report_ids])

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class ReportStreamPlan:
    """The reports of a run, prepared one at a time as workers free up (a long run holds the
    reports in flight, never all of them): ``reports`` is iterated once, ``size`` is how
    many it holds at most (for the progress bar), and the reports whose ids are in ``skip``
    (``--resume``: already done) are left out."""

    reports: Iterable[Report]
    size: int
    skip: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return max(0, self.size - len(self.skip))


@dataclass
class Outcome:
    """What a run produced, without holding its results: their :class:`Tally`, the reports
    the budget stopped before they were sent (no result line; ``--resume`` runs them later),
    (or that found the server unreachable: :attr:`unreachable`), and the cache's failure, if
    any. ``results`` holds every result in input order only when
    the caller asked for them (``keep_results``: an eval scores them all)."""

    tally: Tally = field(default_factory=Tally)
    not_sent: int = 0
    #: why the first report was not sent (the budget's message)
    stop_reason: str | None = None
    #: the run stopped because its server cannot be connected to (``stop_reason`` says which)
    unreachable: bool = False
    cache_problem: str | None = None
    results: list[ExtractionResult] | None = None
    #: what ``--concurrency auto`` settled on and how it paced the run (None: fixed)
    concurrency: str | None = None
    #: ``--concurrency auto``'s controller, for a caller that reports on it (None: fixed)
    auto: AutoConcurrency | None = None


class Runner:
    """One run: a model, a prompt and settings (see the module doc)."""

    def __init__(
        self,
        settings: Settings,
        prompt: Prompt,
        *,
        on_warning: WarningCallback | None = None,
        cache: ResponseCache | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.settings = settings
        self.prompt = prompt
        self.spec: BackendSpec = spec_for(settings.model)
        fixed = self.spec.capabilities.fixed_mode
        if fixed is not None and settings.mode not in ("auto", fixed):
            raise UsageError(
                f"--mode {settings.mode}: model {settings.model!r} takes --mode {fixed} (or auto)"
            )
        self.call: ModelSettings = model_settings(settings, self.spec.capabilities)
        self.prices: PriceTable = load_price_table(settings.prices)
        self.on_warning = on_warning
        self.budget = budget
        self._cache = cache
        hint = unknown_model_hint(settings.model, self.spec, self.prices)
        if hint is not None and on_warning is not None:
            on_warning(hint)

    @property
    def capabilities(self) -> Capabilities:
        return self.spec.capabilities

    def check_credentials(self) -> None:
        """A backend that needs credentials gets a key, or a server that needs none."""
        if not self.capabilities.needs_credentials:
            return
        provider = self.capabilities.credentials
        if self.settings.server(provider) == (None, None):
            keys, base_url = CREDENTIAL_ENVS[provider]
            raise UsageError(
                f"model {self.settings.model!r} needs {' or '.join(keys)} (or {base_url} for a "
                "local server, which needs no key); use --model rules to run offline"
            )

    def render_mode(self) -> ConcreteMode:
        """The concrete mode of requests rendered without being sent (``--dry-run``, ``batch
        prepare``): the configured mode; for ``auto``, the mode remembered for this server
        and model, else the first mode ``auto`` would try."""
        mode = self.call.mode
        if mode != "auto":
            return mode
        from llm_extract.backends.chat.auto import server_id
        from llm_extract.backends.modes import AUTO_ORDER
        from llm_extract.run.modestore import ModeStore

        try:
            found = ModeStore(self.settings.cache_db_path).recall(
                server_id(self.call.base_url), self.call.model
            )
        except CacheError:
            found = None
        return next((m for m in CONCRETE_MODES if m == found), AUTO_ORDER[0])

    # --- preparing ---------------------------------------------------------------------------

    def prepare(self, reports: Sequence[Report]) -> Plan:
        """Each report's request (messages and key, computed once)."""
        return Plan(list(self.prepared(reports)))

    def prepared(self, reports: Iterable[Report]) -> Iterator[ExtractionRequest | ExtractionResult]:
        """Each report's request, prepared as it is asked for; a report whose request
        cannot be prepared gives its failed result instead."""
        for report in reports:
            try:
                yield prepare_request(report, self.prompt, self.call)
            except LlmExtractError as exc:
                yield failed_result(report, self.prompt, self.call, exc, prices=self.prices)

    # --- running -----------------------------------------------------------------------------

    def response_cache(self) -> ResponseCache | None:
        """The response cache, when the settings and the backend's capabilities want one."""
        if self._cache is not None:
            return self._cache
        if not (self.settings.cache and self.capabilities.cacheable):
            return None
        from llm_extract.run.cache import ResponseCache

        self._cache = ResponseCache(self.settings.cache_db_path)
        return self._cache

    def build(self, http_client: HttpClient | None = None) -> Stack:
        return build_stack(
            self.spec,
            self.settings,
            self.prompt,
            prices=self.prices,
            http_client=http_client,
            budget=self.budget,
        )

    async def run(
        self,
        plan: Plan | ReportStreamPlan,
        *,
        on_result: ResultSink | None = None,
        progress: bool = False,
        keep_results: bool = False,
    ) -> Outcome:
        """Run every request of ``plan``; each result goes to ``on_result`` as it finishes
        (awaited when it returns an awaitable; only then is the report counted), except
        those of reports the budget stopped before sending (``Outcome.not_sent``:
        ``--resume`` runs them later). Results are counted, not kept, unless
        ``keep_results``."""
        cache, error = self._open_cache()
        guard = CacheGuard(cache, self.on_warning)
        if error is not None:
            guard.failed(error)
        outcome = Outcome()
        kept: list[tuple[int, ExtractionResult]] = []
        positions: dict[str, list[int]] = {}
        if keep_results and not isinstance(plan, Plan):
            raise ValueError("keep_results needs a prepared Plan")
        if keep_results and isinstance(plan, Plan):
            for n, item in enumerate(plan.items):
                positions.setdefault(_report_id(item), []).append(n)

        def count(result: ExtractionResult) -> None:
            outcome.tally.add(result)
            if keep_results:
                kept.append((positions[result.report_id].pop(0), result))

        async def counted(written: Awaitable[None], result: ExtractionResult) -> None:
            await written
            count(result)

        def sink(result: ExtractionResult) -> Awaitable[None] | None:
            if _not_sent(result):
                outcome.not_sent += 1
                if outcome.stop_reason is None and result.error is not None:
                    outcome.stop_reason = result.error.message
                    outcome.unreachable = result.error.kind == UNREACHABLE_KIND
                return None
            done = on_result(result) if on_result is not None else None
            if done is not None and inspect.isawaitable(done):
                return counted(done, result)  # counted once its line is on disk
            count(result)
            return None

        items: Iterable[ExtractionRequest | ExtractionResult]
        if isinstance(plan, Plan):
            items = plan.items
        else:
            skip = plan.skip
            items = self.prepared(r for r in plan.reports if r.report_id not in skip)
        stack = self.build()
        if stack.log is not None:
            guard.on_hit = log_cache_hits(stack.log)
        try:
            with guard.cache.held() if guard.cache is not None else contextlib.nullcontext():
                await stream_requests(
                    items,
                    backend=stack.backend,
                    cache=guard,
                    concurrency=self.workers(stack),
                    on_result=sink,
                    progress=len(plan) if progress else None,
                    prices=self.prices,
                    status=stack.auto.status if stack.auto is not None else None,
                    admit=stack.auto.reports_ahead if stack.auto is not None else None,
                )
        finally:
            await stack.aclose()
        if stack.auto is not None:
            outcome.concurrency = stack.auto.describe()
            outcome.auto = stack.auto
        if stack.log is not None and stack.log.problem and self.on_warning is not None:
            self.on_warning(stack.log.problem)
        if guard.problem is not None:
            outcome.cache_problem = str(guard.problem)
        if keep_results:
            outcome.results = [result for _, result in sorted(kept, key=lambda pair: pair[0])]
        return outcome

    def run_sync(
        self,
        plan: Plan | ReportStreamPlan,
        *,
        on_result: ResultSink | None = None,
        progress: bool = False,
        keep_results: bool = False,
    ) -> Outcome:
        return run_async(
            self.run(plan, on_result=on_result, progress=progress, keep_results=keep_results)
        )

    def workers(self, stack: Stack) -> int:
        """Reports in flight: the number asked for; for ``auto``, as many as its window may
        allow (the window holds the requests back), or :data:`FIXED_FALLBACK` for a backend
        that sends no HTTP (the offline extractor)."""
        chosen = self.settings.concurrency
        if isinstance(chosen, int):
            return chosen
        return stack.workers or FIXED_FALLBACK

    def _open_cache(self) -> tuple[ResponseCache | None, CacheError | None]:
        try:
            return self.response_cache(), None
        except CacheError as exc:
            return None, exc


#: How close (rapidfuzz ratio, 0-100) a known name must be to be offered for an unknown one.
SUGGEST_CUTOFF = 85


def unknown_model_hint(model: str, spec: BackendSpec, prices: PriceTable) -> str | None:
    """A warning for a model name no backend knows by name and the price table does not
    price, when a known name is close to it (a typo: ``rule`` for ``rules``). The name is
    still sent: a server may serve models this tool has never heard of."""
    if model in spec.names or prices.price(model) is not None:
        return None
    from rapidfuzz import fuzz, process

    known = [*known_model_names(), *prices.models]
    found = process.extractOne(model, known, scorer=fuzz.ratio, score_cutoff=SUGGEST_CUTOFF)
    if found is None:
        return None
    return (
        f"model {model!r} is not a name this tool knows (no price: cost unknown); did you "
        f"mean {found[0]!r}? It is sent to the server as it is"
    )


def log_cache_hits(log: RequestLog) -> Callable[[ExtractionRequest, BackendResponse], None]:
    """Records each answer the cache gives in the request log (``--log``), marked
    ``cached``: no request was sent, the answer is the one stored."""
    from llm_extract.run.logstore import LogEntry, to_log_text

    def record(request: ExtractionRequest, response: BackendResponse) -> None:
        usage = response.usage
        log.record(
            LogEntry(
                status="cached",
                report_id=request.report.report_id,
                request_key=request.key or None,
                model=request.settings.model,
                request=to_log_text({"messages": list(request.messages)}),
                response=response.raw,
                error=None,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
            )
        )

    return record


def _report_id(item: ExtractionRequest | ExtractionResult) -> str:
    return item.report.report_id if isinstance(item, ExtractionRequest) else item.report_id


def _not_sent(result: ExtractionResult) -> bool:
    """A report the budget stopped before it was sent, or whose server could not be connected
    to (no output line; --resume runs it)."""
    return result.error is not None and result.error.kind in (BUDGET_KIND, UNREACHABLE_KIND)
