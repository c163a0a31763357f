"""The eval grid: every (prompt, model) configuration over the gold set, then scores.

Each configuration goes through :func:`llm_extract.run.pipeline.extract_reports` with the shared
response cache and concurrency, exactly as ``extract`` would run it, so a second run of the
same grid is answered from the cache. The offline extractor (model ``rules``) ignores the
prompt, so it is one configuration however many prompts are given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llm_extract.backends import RULES_MODEL
from llm_extract.backends.base import ModelSettings
from llm_extract.evaluation.compare import compare_all
from llm_extract.evaluation.matching import MATCH_THRESHOLD
from llm_extract.evaluation.metrics import score_report, summarize
from llm_extract.evaluation.runs import ConfigurationRun, Run, make_run
from llm_extract.prompts import Prompt
from llm_extract.results import ExtractionResult, PromptInfo
from llm_extract.run.pipeline import extract_reports

if TYPE_CHECKING:
    from llm_extract.evaluation.gold import GoldItem
    from llm_extract.run.cache import ResponseCache


@dataclass(frozen=True)
class Configuration:
    """One cell of the grid. ``prompt`` is ``None`` for the offline extractor."""

    label: str
    settings: ModelSettings
    prompt: Prompt | None
    #: the prompt handed to the pipeline (the offline extractor ignores it)
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
    only models vary, else ``prompt@model``; the offline extractor is ``rules``."""
    if model == RULES_MODEL:
        return RULES_MODEL
    llm = [m for m in dict.fromkeys(models) if m != RULES_MODEL]
    distinct = list(dict.fromkeys(prompts))
    if len(distinct) > 1 and len(llm) > 1:
        return f"{prompt}@{model}"
    return prompt if len(distinct) > 1 else model


def build_grid(
    prompts: Sequence[Prompt],
    models: Sequence[str],
    settings_for: Callable[[Prompt, str], ModelSettings],
) -> list[Configuration]:
    """prompts x models (the ``rules`` model once, last); ``settings_for(prompt, model)``
    gives each cell's settings (a prompt file may carry its own parameters)."""
    if not prompts:
        raise ValueError("the grid needs at least one prompt")
    if not models:
        raise ValueError("the grid needs at least one model")
    names = [p.name for p in prompts]
    unique = list(dict.fromkeys(models))
    grid: list[Configuration] = []
    for model in unique:
        if model == RULES_MODEL:
            continue
        for prompt in prompts:
            label = grid_label(prompt.name, model, names, unique)
            grid.append(Configuration(label, settings_for(prompt, model), prompt, carrier=prompt))
    if RULES_MODEL in unique:
        settings = settings_for(prompts[0], RULES_MODEL)
        grid.append(Configuration(RULES_MODEL, settings, None, carrier=prompts[0]))
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
) -> ConfigurationRun:
    """Score ``results`` against the gold set; a gold report with no result is missed."""
    by_id = {r.report_id: r for r in results}
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
    )


async def run_grid(
    items: Sequence[GoldItem],
    grid: Sequence[Configuration],
    *,
    cache: ResponseCache | None,
    concurrency: int = 8,
    progress: bool = False,
    threshold: float = MATCH_THRESHOLD,
) -> list[ConfigurationRun]:
    """Run and score each configuration in turn (reports run concurrently inside one)."""
    reports = [item.report for item in items]
    out: list[ConfigurationRun] = []
    for configuration in grid:
        started = time.perf_counter()
        results = await extract_reports(
            reports,
            prompt=configuration.carrier,
            settings=configuration.settings,
            cache=cache,
            concurrency=concurrency,
            progress=progress,
        )
        prompt = configuration.prompt
        out.append(
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
