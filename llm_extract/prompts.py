"""Prompt files: load ``prompts/<name>.toml`` and render it into chat messages for one report.

A prompt file holds ``name``, ``description``, a ``system`` template, a ``user`` template
(jinja2; it gets ``text`` and ``report_id``), optional few-shot ``[[examples]]`` (``report``
and ``answer``, the answer being the JSON of a :class:`ReportExtraction`) and ``[params]``
(``temperature``, ``max_tokens``, ``max_reasks``, ``mode``).

Rendered messages put the static part first (system, then the examples as user/assistant
pairs), identical for every report, and the report last, so that providers' prompt caches
apply. The JSON schema is not part of the prompt: the backend sends it (tools,
response_format or md_json).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import ValidationError

from llm_extract.errors import PromptError
from llm_extract.report import Report
from llm_extract.sandbox import Sandbox, budget
from llm_extract.schemas import ReportExtraction
from llm_extract.settings import MODES

#: Model parameters a prompt file may set; command-line options override them.
PARAM_TYPES: dict[str, tuple[type, ...]] = {
    "temperature": (int, float),
    "max_tokens": (int,),
    "max_reasks": (int,),
    "mode": (str,),
}
EXAMPLE_ID = "example-{n}"

_ENV = Sandbox(
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # plain text for a language model, not HTML
    keep_trailing_newline=False,
)


@lru_cache(maxsize=64)
def _template(source: str) -> jinja2.Template:
    """Compile a template once: rendering runs for every report, compiling need not."""
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateError:
        raise
    except Exception as exc:  # what a hostile template can raise besides template errors
        raise jinja2.TemplateError(f"{type(exc).__name__}: {exc}") from exc


def _render(template: str, **values: str) -> str:
    """Render an untrusted template; any failure is a :class:`jinja2.TemplateError`."""
    try:
        with budget(dict(values)):
            return _template(template).render(**values)
    except jinja2.TemplateError:
        raise
    except MemoryError as exc:
        raise jinja2.TemplateError("the template ran out of memory") from exc
    except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as exc:
        raise jinja2.TemplateError(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Example:
    """One worked example: a report written for the project and its full answer (JSON)."""

    report: str
    answer: str


@dataclass(frozen=True)
class Prompt:
    """A loaded prompt: ``system`` is rendered, ``user`` is the template of the last message."""

    name: str
    description: str
    system: str
    user: str
    examples: tuple[Example, ...] = ()
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    hash: str = ""
    path: str = ""

    def render_user(self, text: str, report_id: str) -> str:
        try:
            return _render(self.user, text=text, report_id=report_id).strip()
        except jinja2.TemplateError as exc:
            raise PromptError(f"{self.path or self.name}: user template: {exc}") from exc

    def render(self, report: Report) -> list[dict[str, str]]:
        """Chat messages for ``report``: system, examples, then the report. The static part
        is rendered once per prompt: every report's messages share its strings."""
        messages = [dict(m) for m in self._static_messages]
        last = self.render_user(report.text, report.report_id)
        messages.append({"role": "user", "content": last})
        return messages

    @functools.cached_property
    def _static_messages(self) -> tuple[dict[str, str], ...]:
        """System, then each example's user and assistant messages (not the report's)."""
        messages = [{"role": "system", "content": self.system}]
        for n, example in enumerate(self.examples, start=1):
            messages.append(
                {
                    "role": "user",
                    "content": self.render_user(example.report, EXAMPLE_ID.format(n=n)),
                }
            )
            messages.append({"role": "assistant", "content": example.answer})
        return tuple(messages)


def packaged_prompts_dir() -> Path | None:
    """The prompt files that ship with the package.

    A wheel carries them in ``llm_extract/bundled_prompts/`` (copied from the repository's
    ``prompts/`` at build time); an editable install from a checkout reads the checkout's
    ``prompts/``, the same files.
    """
    package = Path(__file__).resolve().parent
    bundled = package / "bundled_prompts"
    if bundled.is_dir():
        return bundled
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "prompts").is_dir():
        return checkout / "prompts"
    return None


def prompt_dirs(first: str | Path | None = None) -> list[Path]:
    """The folders prompts are looked up in, first match wins: ``first`` (``--prompts-dir``,
    else ``$LLM_EXTRACT_PROMPTS_DIR``, as :class:`~llm_extract.settings.Settings` gives it),
    ``./prompts``, then the prompts that ship with the package.

    A ``first`` folder that does not exist is an error (a typo must not go unnoticed); the
    others are left out when absent.
    """
    dirs: list[Path] = []
    if first:
        chosen = Path(first)
        if not chosen.is_dir():
            raise PromptError(f"{chosen}: prompt folder not found")
        dirs.append(chosen)
    local = Path.cwd() / "prompts"
    if local.is_dir():
        dirs.append(local)
    packaged = packaged_prompts_dir()
    if packaged is not None:
        dirs.append(packaged)
    unique: list[Path] = []
    for path in dirs:
        if all(path.resolve() != seen.resolve() for seen in unique):
            unique.append(path)
    return unique


def _available(directory: Path) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml")) if directory.is_dir() else []


def load_prompt(name_or_path: str | Path, prompts_dir: str | Path | None = None) -> Prompt:
    """Load a prompt by name (``<name>.toml`` in the first of :func:`prompt_dirs` that has
    it) or by the path of a ``.toml`` file."""
    text = str(name_or_path)
    candidate = Path(text)
    if text.endswith(".toml") or os.sep in text or "/" in text:
        if not candidate.is_file():
            raise PromptError(f"{candidate}: prompt file not found")
        return parse_prompt_file(candidate)
    dirs = prompt_dirs(prompts_dir)
    for directory in dirs:
        path = directory / f"{text}.toml"
        if path.is_file():
            return parse_prompt_file(path)
    available = sorted({name for d in dirs for name in _available(d)})
    searched = ", ".join(str(d) for d in dirs) or "no prompt folder"
    raise PromptError(
        f"unknown prompt {text!r} (searched {searched}); available: "
        + (", ".join(available) or "none")
    )


def list_prompts(prompts_dir: str | Path | None = None) -> list[Prompt]:
    """Every prompt that :func:`load_prompt` can find by name, sorted by name (a prompt of an
    earlier folder hides one of the same name in a later folder)."""
    found: dict[str, Path] = {}
    for directory in prompt_dirs(prompts_dir):
        for name in _available(directory):
            found.setdefault(name, directory / f"{name}.toml")
    return [parse_prompt_file(found[name]) for name in sorted(found)]


def parse_prompt_file(path: Path) -> Prompt:
    """Read and check one prompt file; any problem is a :class:`PromptError` naming it."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PromptError(f"{path}: cannot read prompt file ({exc.strerror})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: not a valid TOML file ({exc})") from exc
    return build_prompt(data, str(path), default_name=path.stem)


def build_prompt(data: dict[str, Any], origin: str, *, default_name: str) -> Prompt:
    unknown = set(data) - {"name", "description", "system", "user", "examples", "params"}
    if unknown:
        raise PromptError(f"{origin}: unknown keys {sorted(unknown)}")
    name = _string(data, "name", origin, default=default_name)
    description = _string(data, "description", origin, default="")
    system = _render_static(_string(data, "system", origin), origin)
    user = _string(data, "user", origin)
    _check_user_template(user, origin)
    examples = tuple(_example(item, i, origin) for i, item in enumerate(data.get("examples", [])))
    params = _params(data.get("params", {}), origin)
    digest = hashlib.sha256()
    for part in (system, *(f"{e.report}\n{e.answer}" for e in examples), user):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    return Prompt(
        name=name,
        description=description,
        system=system,
        user=user,
        examples=examples,
        params=params,
        hash=digest.hexdigest(),
        path=origin,
    )


def _string(data: dict[str, Any], key: str, origin: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise PromptError(f"{origin}: '{key}' must be a non-empty string")
    return value


def _render_static(template: str, origin: str) -> str:
    try:
        return _render(template).strip()
    except jinja2.TemplateError as exc:
        raise PromptError(f"{origin}: system template: {exc}") from exc


def _check_user_template(template: str, origin: str) -> None:
    try:
        rendered = _render(template, text="\x00REPORT\x00", report_id="id")
    except jinja2.TemplateError as exc:
        raise PromptError(f"{origin}: user template: {exc}") from exc
    if "\x00REPORT\x00" not in rendered:
        raise PromptError(f"{origin}: the user template must contain {{{{ text }}}}")


def _example(item: Any, index: int, origin: str) -> Example:
    where = f"{origin}: examples[{index}]"
    if not isinstance(item, dict) or set(item) != {"report", "answer"}:
        raise PromptError(f"{where}: needs exactly 'report' and 'answer'")
    report, answer = item["report"], item["answer"]
    if not isinstance(report, str) or not isinstance(answer, str):
        raise PromptError(f"{where}: 'report' and 'answer' must be strings")
    report = report.strip()
    try:
        parsed = json.loads(answer)
        ReportExtraction.model_validate(parsed, context={"source": report})
    except json.JSONDecodeError as exc:
        raise PromptError(f"{where}.answer: not JSON ({exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"])
        raise PromptError(f"{where}.answer.{loc}: {first['msg']}") from exc
    # Compact, stable JSON: the same bytes whatever the file's layout.
    return Example(report=report, answer=json.dumps(parsed, ensure_ascii=False))


def _params(value: Any, origin: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PromptError(f"{origin}: [params] must be a table")
    for key, item in value.items():
        types = PARAM_TYPES.get(key)
        if types is None:
            raise PromptError(f"{origin}: unknown parameter {key!r}; known: {sorted(PARAM_TYPES)}")
        if isinstance(item, bool) or not isinstance(item, types):
            raise PromptError(f"{origin}: parameter {key!r} has the wrong type")
        if key == "mode" and item not in MODES:
            raise PromptError(f"{origin}: mode must be one of {', '.join(MODES)}")
    return dict(value)
