"""What the end of a run reports, counted as results stream past (no result is kept)."""

from __future__ import annotations

from dataclasses import dataclass, field

from llm_extract.results import ExtractionResult, add_counts


@dataclass
class Tally:
    """Counts of a run's results: ok, failed, from the cache, and the tokens, cost and
    transport retries of the answers that were not from the cache. Failed results are kept,
    for their messages."""

    ok: int = 0
    failed: int = 0
    cached: int = 0
    #: tokens of the answers made in this run (not from the cache)
    tokens: int = 0
    #: their cost in dollars; None when a model's price is unknown
    cost_usd: float | None = 0.0
    #: the requests of this run that were sent again, by why they failed ("429": 20)
    retries: dict[str, int] = field(default_factory=dict)
    failures: list[ExtractionResult] = field(default_factory=list)

    def add(self, result: ExtractionResult) -> None:
        if result.status == "ok":
            self.ok += 1
        else:
            self.failed += 1
            self.failures.append(result)
        if result.cached:
            self.cached += 1
            return
        usage = result.usage
        self.tokens += usage.total_tokens
        if usage.retries:
            self.retries = add_counts(self.retries, usage.retries)
        if usage.total_tokens and self.cost_usd is not None:
            self.cost_usd = None if usage.cost_usd is None else self.cost_usd + usage.cost_usd

    @property
    def total(self) -> int:
        return self.ok + self.failed
