"""Cost of tokens from an editable price table (dollars per million tokens)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from llm_extract.errors import UsageError
from llm_extract.results import Usage


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cached_input: float
    #: writing the prompt cache (Anthropic), per million tokens; the input price elsewhere
    cache_write: float


@dataclass(frozen=True)
class PriceTable:
    models: dict[str, Price]
    batch_discount: float = 0.5

    def price(self, model: str) -> Price | None:
        """The price of ``model``; a name such as ``openai/gpt-4o-mini`` matches ``gpt-4o-mini``."""
        if model in self.models:
            return self.models[model]
        tail = model.rsplit("/", 1)[-1]
        return self.models.get(tail)

    def cost(self, model: str, usage: Usage, *, batch: bool = False) -> float | None:
        """Dollars for ``usage``; ``None`` when the model has no price in the table."""
        price = self.price(model)
        if price is None:
            return None
        cached = min(usage.cached_prompt_tokens, usage.prompt_tokens)
        written = min(usage.cache_write_tokens, usage.prompt_tokens - cached)
        dollars = (
            (usage.prompt_tokens - cached - written) * price.input
            + cached * price.cached_input
            + written * price.cache_write
            + usage.completion_tokens * price.output
        ) / 1_000_000
        return dollars * (self.batch_discount if batch else 1.0)


def parse_price_table(text: str, origin: str) -> PriceTable:
    try:
        data = tomllib.loads(text)
        models = {
            name: Price(
                input=float(entry["input"]),
                output=float(entry["output"]),
                cached_input=float(entry.get("cached_input", entry["input"])),
                cache_write=float(entry.get("cache_write", entry["input"])),
            )
            for name, entry in data.get("models", {}).items()
        }
        return PriceTable(models=models, batch_discount=float(data.get("batch_discount", 0.5)))
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{origin}: not a valid price table ({exc})") from exc


@lru_cache(maxsize=8)
def load_price_table(path: str | Path | None = None) -> PriceTable:
    """The price table at ``path`` (``--prices`` / ``$LLM_EXTRACT_PRICES``, through
    :class:`~llm_extract.settings.Settings`), else the bundled one."""
    if path:
        file = Path(path)
        try:
            return parse_price_table(file.read_text(encoding="utf-8"), str(file))
        except OSError as exc:
            raise UsageError(f"{file}: cannot read price table ({exc.strerror})") from exc
    text = resources.files("llm_extract").joinpath("data/prices.toml").read_text(encoding="utf-8")
    return parse_price_table(text, "bundled prices.toml")
