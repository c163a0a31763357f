"""Spending limits of a run: ``--max-cost`` (dollars) and ``--max-tokens-total``.

Before a report is sent, :class:`BudgetedBackend` reserves what it may cost at most: the
estimated prompt tokens plus ``max_tokens`` of answer, for the first attempt and every re-ask
it may need. When the money and tokens already spent plus those reserved by reports in flight
plus this one would pass a limit, it waits for those in flight to settle; when what is
already spent plus this one would pass a limit, the report is not sent: it fails with
:class:`~llm_extract.errors.BudgetExceeded`, and so does every report after it (the run
stops; nothing is half-done). When an answer comes back its reservation is replaced by what
it really cost. So a run never spends more than its limits, as long as the server counts
tokens no higher than the estimate (``llm_extract.run.ratelimit``: 3 characters per token).

Reports that were not sent leave no line in the output (the CLI skips them), so ``--resume``
picks them up.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from llm_extract.backends.base import Backend, BackendResponse, ExtractionRequest, ModelSettings
from llm_extract.errors import BudgetExceeded, ExtractionError, UsageError
from llm_extract.pricing import PriceTable, load_price_table
from llm_extract.results import Usage
from llm_extract.run.ratelimit import estimate_prompt_tokens
from llm_extract.schemas import ReportExtraction

#: Answer tokens assumed when ``max_tokens`` is not set.
DEFAULT_ANSWER_TOKENS = 4096
BUDGET_KIND = "budget_exceeded"


@dataclass
class Hold:
    """What one report reserved."""

    tokens: int
    cost: float


class Budget:
    """Dollars and tokens spent by a run, and its limits (``None``: no limit)."""

    def __init__(
        self,
        *,
        max_cost: float | None = None,
        max_tokens: int | None = None,
        model: str = "",
        prices: PriceTable | None = None,
    ) -> None:
        if max_cost is not None and max_cost <= 0:
            raise UsageError(f"--max-cost must be positive, got {max_cost}")
        if max_tokens is not None and max_tokens <= 0:
            raise UsageError(f"--max-tokens-total must be positive, got {max_tokens}")
        self.max_cost = max_cost
        self.max_tokens = max_tokens
        self.model = model
        self.prices = prices or load_price_table()
        self.check_priced(model)
        self.spent_cost = 0.0
        self.spent_tokens = 0
        self.held_cost = 0.0
        self.held_tokens = 0
        self.stopped: str | None = None
        self.refused = 0
        self._changed = asyncio.Condition()

    def check_priced(self, model: str) -> None:
        """``--max-cost`` needs the price of every model it pays for."""
        if self.max_cost is not None and self.prices.price(model) is None:
            raise UsageError(
                f"--max-cost needs the price of {model!r}: add it to the price table "
                "(llm_extract/data/prices.toml, or a file named by $LLM_EXTRACT_PRICES)"
            )

    def cost_of(
        self, prompt_tokens: int, completion_tokens: int, model: str | None = None
    ) -> float:
        usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )
        return self.prices.cost(model or self.model, usage) or 0.0

    def _over(self, tokens: int, cost: float, *, held: bool) -> bool:
        cost_now = self.spent_cost + (self.held_cost if held else 0.0) + cost
        tokens_now = self.spent_tokens + (self.held_tokens if held else 0) + tokens
        return (self.max_cost is not None and cost_now > self.max_cost) or (
            self.max_tokens is not None and tokens_now > self.max_tokens
        )

    async def reserve(self, tokens: int, cost: float) -> Hold:
        """Hold ``tokens`` and ``cost`` for one report, or raise :class:`BudgetExceeded`.

        When the report fits what is spent but not what reports in flight hold, it waits for
        them to settle; when it does not fit what is spent, the run stops.
        """
        async with self._changed:
            while True:
                if self.stopped is None and self._over(tokens, cost, held=False):
                    self.stopped = self._reason(tokens, cost)
                if self.stopped is not None:
                    self.refused += 1
                    raise BudgetExceeded(f"not sent: {self.stopped}")
                if not self._over(tokens, cost, held=True):
                    break
                await self._changed.wait()
            self.held_cost += cost
            self.held_tokens += tokens
            return Hold(tokens=tokens, cost=cost)

    def _reason(self, tokens: int, cost: float) -> str:
        if self.max_cost is not None and self.spent_cost + cost > self.max_cost:
            return (
                f"--max-cost ${self.max_cost:g} reached (spent ${self.spent_cost:.4f}; the next "
                f"report may cost up to ${cost:.4f})"
            )
        return (
            f"--max-tokens-total {self.max_tokens:,} reached (spent {self.spent_tokens:,} "
            f"tokens; the next report may use up to {tokens:,})"
        )

    async def settle(self, hold: Hold, usage: Usage | None, model: str | None = None) -> None:
        """Replace ``hold`` by what was really spent (the hold itself when unknown)."""
        async with self._changed:
            self.held_cost -= hold.cost
            self.held_tokens -= hold.tokens
            if usage is None:
                self.spent_cost += hold.cost
                self.spent_tokens += hold.tokens
            else:
                cost = usage.cost_usd
                if cost is None:
                    cost = self.prices.cost(model or self.model, usage) or 0.0
                self.spent_cost += cost
                self.spent_tokens += usage.total_tokens
            self._changed.notify_all()


def request_estimate(request: ExtractionRequest, schema_chars: int) -> tuple[int, int]:
    """(prompt tokens, answer tokens) one attempt of ``request`` may use at most."""
    settings = request.settings
    prompt = estimate_prompt_tokens(request.messages, extra_chars=schema_chars)
    return prompt, settings.max_tokens or DEFAULT_ANSWER_TOKENS


class BudgetedBackend:
    """A backend that refuses to send a report that could overspend the :class:`Budget`."""

    def __init__(self, inner: Backend, budget: Budget, settings: ModelSettings) -> None:
        budget.check_priced(settings.model)
        self.inner = inner
        self.budget = budget
        self.name = inner.name
        self.model = settings.model
        self._attempts = 1 + max(0, settings.max_reasks)
        self._schema_chars = len(json.dumps(ReportExtraction.model_json_schema()))

    async def extract(self, request: ExtractionRequest) -> BackendResponse:
        prompt, answer = request_estimate(request, self._schema_chars)
        # A re-ask resends the conversation with the previous answer and the error.
        tokens = sum(prompt + answer * (n + 1) for n in range(self._attempts))
        cost = sum(
            self.budget.cost_of(prompt + answer * n, answer, self.model)
            for n in range(self._attempts)
        )
        hold = await self.budget.reserve(tokens, cost)
        try:
            response = await self.inner.extract(request)
        except ExtractionError as exc:
            # Failed calls (HTTP errors, a server that is down) are not billed.
            spent = exc.usage if isinstance(exc.usage, Usage) else Usage()
            await self.budget.settle(hold, spent, self.model)
            raise
        except BaseException:
            await self.budget.settle(hold, None, self.model)
            raise
        await self.budget.settle(hold, response.usage, self.model)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
