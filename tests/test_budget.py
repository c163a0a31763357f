"""Budgets: reservations hold what a report may cost; refusals stop the run for good."""

from __future__ import annotations

import asyncio

import pytest

from llm_extract.errors import BudgetExceeded, UsageError
from llm_extract.results import Usage
from llm_extract.run.budget import Budget


def test_limits_must_be_positive_and_priced() -> None:
    with pytest.raises(UsageError):
        Budget(max_cost=0, model="gpt-4o-mini")
    with pytest.raises(UsageError):
        Budget(max_tokens=-1)
    with pytest.raises(UsageError, match="price"):
        Budget(max_cost=1.0, model="no-such-model")
    assert Budget(max_tokens=10, model="no-such-model").max_tokens == 10


def test_a_report_waits_for_holds_then_the_run_stops_when_spent_leaves_no_room() -> None:
    async def run() -> list[str]:
        budget = Budget(max_tokens=1000)
        events: list[str] = []
        first = await budget.reserve(600, 0.0)

        async def second() -> None:
            hold = await budget.reserve(600, 0.0)  # fits what is spent, not what is held
            events.append("second sent")
            await budget.settle(hold, Usage(total_tokens=300))

        task = asyncio.create_task(second())
        await asyncio.sleep(0.01)
        events.append("first settles")
        await budget.settle(first, Usage(total_tokens=400))
        await task
        assert budget.spent_tokens == 700 and budget.held_tokens == 0
        with pytest.raises(BudgetExceeded, match="--max-tokens-total 1,000 reached"):
            await budget.reserve(400, 0.0)  # 700 + 400 > 1000
        with pytest.raises(BudgetExceeded):
            await budget.reserve(1, 0.0)  # stopped for good, even when a small one would fit
        assert budget.refused == 2
        return events

    assert asyncio.run(run()) == ["first settles", "second sent"]


def test_cost_is_settled_from_usage_or_the_price_table() -> None:
    async def run() -> Budget:
        budget = Budget(max_cost=0.01, model="gpt-4o-mini")
        hold = await budget.reserve(0, budget.cost_of(10_000, 1_000))
        await budget.settle(hold, Usage(prompt_tokens=10_000, completion_tokens=1_000))
        priced = await budget.reserve(0, 0.001)
        await budget.settle(priced, Usage(total_tokens=5, cost_usd=0.002))
        unknown = await budget.reserve(0, 0.003)
        await budget.settle(unknown, None)  # unknown usage counts the whole hold
        return budget

    budget = asyncio.run(run())
    # 10k prompt tokens at $0.15/M + 1k answer tokens at $0.60/M = $0.0021
    assert budget.spent_cost == pytest.approx(0.0021 + 0.002 + 0.003)
    assert budget.held_cost == pytest.approx(0.0)
