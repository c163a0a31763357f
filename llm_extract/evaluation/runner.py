"""The eval grid: every (prompt, model) configuration over the gold set, then scores.

Each configuration goes through the run layer (:class:`~llm_extract.run.runner.Runner`)
exactly as ``extract`` would run it: the same backend stack (chunking, rate limits, budget,
request log), response cache and concurrency, so a second run of the same grid is answered
from the cache. A backend that ignores prompts (the offline extractor) is one configuration
however many prompts are given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llm_extract.backends import capabilities
from llm_extract.evaluation.compare import compare_all
from llm_extract.evaluation.gold import load_splits
from llm_extract.evaluation.matching import MATCH_THRESHOLD
from llm_extract.evaluation.metrics import score_report, summarize
from llm_extract.evaluation.runs import ConfigurationRun, Run, make_run
from llm_extract.pricing import load_price_table
from llm_extract.prompts import Prompt
from llm_extract.results import ExtractionResult, PromptInfo
from llm_extract.run.pipeline import WarningCallback
from llm_extract.run.runner import Runner
from llm_extract.run.stack import new_budget
from llm_extract.settings import Settings

if TYPE_CHECKING:
    from llm_extract.evaluation.gold import GoldItem


@dataclass(frozen=True)
class Configuration:
    """One cell of the grid. ``prompt`` is ``None`` for a backend that ignores prompts."""

    label: str
    settings: Settings
    prompt: Prompt | None
    #: the prompt handed to the run layer (a backend that ignores prompts ignores it)
    carrier: Prompt = field(repr=False)

    def describe(self) -> dict[str, Any]:
        """Settings worth saving (never the API key or server address)."""
        s = self.settings
        return {
            "model": s.model,
            "mode": s.mode,
            "temperature": s.temperature,
            "max_tokens": s.max_tokens,
            "max_reasks": s.max_reasks,
        }


def grid_label(prompt: str, model: str, prompts: Sequence[str], models: Sequence[str]) -> str:
    """As short as stays unambiguous: the prompt name when only prompts vary, the model when
    only models vary, else ``prompt@model``; a model that ignores prompts is its name."""
    if not capabilities(model).uses_prompt:
        return model
    llm = [m for m in dict.fromkeys(models) if capabilities(m).uses_prompt]
    distinct = list(dict.fromkeys(prompts))
    if len(distinct) > 1 and len(llm) > 1:
        return f"{prompt}@{model}"
    return prompt if len(distinct) > 1 else model


def build_grid(
    prompts: Sequence[Prompt],
    models: Sequence[str],
    settings_for: Callable[[Prompt, str], Settings],
) -> list[Configuration]:
    """prompts x models (a model that ignores prompts once, after the others);
    ``settings_for(prompt, model)`` gives each cell's settings (a prompt file may carry its
    own parameters)."""
    if not prompts:
        raise ValueError("the grid needs at least one prompt")
    if not models:
        raise ValueError("the grid needs at least one model")
    names = [p.name for p in prompts]
    unique = list(dict.fromkeys(models))
    grid: list[Configuration] = []
    for model in unique:
        if not capabilities(model).uses_prompt:
            continue
        for prompt in prompts:
            label = grid_label(prompt.name, model, names, unique)
            grid.append(Configuration(label, settings_for(prompt, model), prompt, carrier=prompt))
    for model in unique:
        if not capabilities(model).uses_prompt:
            settings = settings_for(prompts[0], model)
            grid.append(Configuration(model, settings, None, carrier=prompts[0]))
    return grid


def score_configuration(
    label: str,
    model: str,
    prompt: PromptInfo | None,
    items: Sequence[GoldItem],
    results: Sequence[ExtractionResult],
    *,
    settings: dict[str, Any] | None = None,
    threshold: float = MATCH_THRESHOLD,
    wall_s: float = 0.0,
    only_predicted: bool = False,
) -> ConfigurationRun:
    """Score ``results`` against the gold set. A gold report with no result is missed, or,
    with ``only_predicted``, left out of the scores and listed in ``no_prediction``."""
    by_id = {r.report_id: r for r in results}
    no_prediction: list[str] = []
    if only_predicted:
        no_prediction = [i.report.report_id for i in items if i.report.report_id not in by_id]
        items = [i for i in items if i.report.report_id in by_id]
    scores = [
        score_report(
            item.gold,
            by_id.get(item.report.report_id),
            source=item.report.text,
            threshold=threshold,
        )
        for item in items
    ]
    return ConfigurationRun(
        label=label,
        model=model,
        prompt=prompt,
        settings=settings or {},
        summary=summarize(scores),
        scores=scores,
        predictions={
            i.report.report_id: by_id[i.report.report_id]
            for i in items
            if i.report.report_id in by_id
        },
        wall_s=round(wall_s, 3),
        no_prediction=no_prediction,
    )


@dataclass
class GridRun:
    """The scored configurations, and what went wrong on the way."""

    configurations: list[ConfigurationRun]
    #: per configuration label: reports the budget stopped before sending
    not_sent: dict[str, int] = field(default_factory=dict)
    #: why each configuration stopped early (the budget, or a server that cannot be reached)
    stop_reasons: dict[str, str] = field(default_factory=dict)
    cache_problem: str | None = None


async def run_grid(
    items: Sequence[GoldItem],
    grid: Sequence[Configuration],
    *,
    progress: bool = False,
    threshold: float = MATCH_THRESHOLD,
    on_warning: WarningCallback | None = None,
) -> GridRun:
    """Run and score each configuration in turn (reports run concurrently inside one)."""
    reports = [item.report for item in items]
    out = GridRun(configurations=[])
    # One budget for the whole grid: --max-cost is what the eval may spend in all.
    budget = (
        new_budget(grid[0].settings, load_price_table(grid[0].settings.prices)) if grid else None
    )
    for configuration in grid:
        started = time.perf_counter()
        runner = Runner(
            configuration.settings, configuration.carrier, on_warning=on_warning, budget=budget
        )
        outcome = await runner.run(runner.prepare(reports), progress=progress, keep_results=True)
        results = outcome.results or []
        if outcome.not_sent:
            out.not_sent[configuration.label] = outcome.not_sent
            out.stop_reasons[configuration.label] = outcome.stop_reason or "budget reached"
        out.cache_problem = out.cache_problem or outcome.cache_problem
        prompt = configuration.prompt
        out.configurations.append(
            score_configuration(
                configuration.label,
                configuration.settings.model,
                PromptInfo(name=prompt.name, hash=prompt.hash) if prompt else None,
                items,
                results,
                settings=configuration.describe(),
                threshold=threshold,
                wall_s=time.perf_counter() - started,
            )
        )
    return out


def assemble_run(
    items: Sequence[GoldItem],
    configurations: Sequence[ConfigurationRun],
    config: dict[str, Any],
) -> Run:
    """A :class:`Run` with the paired comparisons of every pair of configurations."""
    comparisons = compare_all([(c.label, c.scores) for c in configurations])
    gold = {item.report.report_id: item.gold for item in items}
    return make_run(config, configurations, comparisons, gold)


#: The splits of ``splits.toml`` whose reports the rule writers have read.
SEEN_SPLITS = ("dev", "spent")


def mark_seen(run: Run, splits_path: Path) -> None:
    """Mark, in each configuration of ``run`` written from the gold (the offline rules), the
    scored reports that ``splits_path`` lists as read by its authors (``dev``, ``spent``).
    Without a ``splits.toml`` nothing is known and nothing is marked."""
    if not splits_path.is_file():
        return
    splits = load_splits(splits_path)
    read = {report_id for name in SEEN_SPLITS for report_id in splits.get(name, [])}
    for configuration in run.configurations:
        if capabilities(configuration.model).written_from_gold:
            configuration.seen = [s.report_id for s in configuration.scores if s.report_id in read]


def score_results(
    items: Sequence[GoldItem], results: Sequence[ExtractionResult]
) -> list[ConfigurationRun]:
    """Group ``extract`` results by (prompt, model), the last line of each report winning,
    and score each group against the gold reports it has a prediction for (the others are
    listed in its ``no_prediction``, not scored)."""
    latest: dict[tuple[str, str, str], ExtractionResult] = {}
    for result in results:
        latest[(result.prompt.name, result.model, result.report_id)] = result
    groups: dict[tuple[str, str], list[ExtractionResult]] = {}
    for (prompt, model, _), result in latest.items():
        groups.setdefault((prompt, model), []).append(result)
    names = [p for p, _ in groups]
    models = [m for _, m in groups]
    out = []
    for (prompt, model), members in groups.items():
        info = members[0].prompt if capabilities(model).uses_prompt else None
        label = grid_label(prompt, model, names, models)
        out.append(score_configuration(label, model, info, items, members, only_predicted=True))
    return out
