"""The jinja2 sandbox prompt templates render in, with a time and a size budget.

Prompt files are data a user may have downloaded. jinja2's immutable sandbox keeps a
template away from Python (no attribute walk reaches ``os``); this module also keeps it
from hanging the tool or exhausting its memory:

- **size**: no value a template builds may exceed :data:`MAX_BUILT` characters or items
  (plus twice the length of the values given, so a long report stays usable).
  What could build a larger one is refused *before* it runs: ``*`` and ``**``, ``+`` and
  ``~`` (concatenation), every filter and method call given a number above the limit
  (``'x'|center(900000000)``, ``'x'.ljust(...)``) or a format with a huge width
  (``'%900000000s'``, ``'{:900000000}'``), ``replace``, ``join``, ``indent``, ``wordwrap``
  and ``sum`` whose result would be too long, and values stored in a ``namespace``. The
  whole rendered text may not exceed :data:`MAX_OUTPUT` characters beyond the values
  passed in;
- **time**: every loop step is counted (at most :data:`MAX_STEPS` per rendering) and checks
  a deadline (:data:`MAX_SECONDS`), as does every call, filter and piece of output.

Every breach is a :class:`jinja2.exceptions.SecurityError` naming what was refused; the
caller makes it a one-line error.
"""

from __future__ import annotations

import contextvars
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.sandbox
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.utils import Namespace

__all__ = ["MAX_BUILT", "MAX_OUTPUT", "MAX_SECONDS", "MAX_STEPS", "Sandbox", "budget"]

#: The longest string or list a template may build (a prompt is a few KB).
MAX_BUILT = 1_000_000
#: The most characters a rendering may write besides the values given to it.
MAX_OUTPUT = 4 * MAX_BUILT
#: The most loop steps of one rendering.
MAX_STEPS = 1_000_000
#: The longest a rendering may take, in seconds.
MAX_SECONDS = 2.0

_HUGE_WIDTH = re.compile(r"\d{7,}")  # a width of a million or more in a format string
_GUARD_ITER = "_llm_extract_loop_guard"
_GUARD_CONCAT = "_llm_extract_concat_guard"


@dataclass
class _Budget:
    deadline: float
    output_limit: int
    built_limit: int = MAX_BUILT
    steps: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise SecurityError(f"the template took longer than {MAX_SECONDS:g} s")


_CURRENT: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "llm_extract_template_budget", default=None
)


class budget:
    """The budget of one rendering: entered around ``template.render(**values)``."""

    def __init__(self, values: dict[str, Any]) -> None:
        given = sum(len(v) for v in values.values() if isinstance(v, str))
        self._budget = _Budget(
            time.monotonic() + MAX_SECONDS, MAX_OUTPUT + 2 * given, MAX_BUILT + 2 * given
        )
        self._token: contextvars.Token[_Budget | None] | None = None

    def __enter__(self) -> None:
        self._token = _CURRENT.set(self._budget)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _CURRENT.reset(self._token)


def _tick() -> None:
    current = _CURRENT.get()
    if current is not None:
        current.tick()


def _limit() -> int:
    """The most a value may hold: :data:`MAX_BUILT`, and room for twice the values given
    (a report longer than the limit is no template's doing)."""
    current = _CURRENT.get()
    return current.built_limit if current is not None else MAX_BUILT


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


def _check_built(value: Any) -> Any:
    if _size(value) > _limit():
        raise SecurityError(f"value too large in a prompt template (over {_limit():,})")
    return value


def _check_arguments(args: Iterable[Any]) -> None:
    """No number above the limit (a width, a count), no format with a huge width."""
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_BUILT:
            raise SecurityError(f"number too large in a prompt template ({arg:,})")
        if isinstance(arg, float) and abs(arg) > MAX_BUILT:
            raise SecurityError("number too large in a prompt template")
        _check_built(arg)


def _text_length(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value)) if value is not None else 0


def _check_growth(name: str, subject: Any, args: tuple[Any, ...]) -> None:
    """Refuse the calls whose result grows faster than their arguments."""
    if name == "replace" and len(args) >= 2 and isinstance(subject, str):
        old, new = str(args[0]), str(args[1])
        count = subject.count(old) if old else len(subject) + 1
        if len(subject) + count * max(0, len(new) - len(old)) > _limit():
            raise SecurityError("value too large in a prompt template (replace)")
    elif name in ("join", "sum") and isinstance(subject, list | tuple | str):
        separator = _text_length(args[0]) if args and name == "join" else 0
        total = sum(_size(item) or len(repr(item)) for item in subject)
        if total + separator * len(subject) > _limit():
            raise SecurityError(f"value too large in a prompt template ({name})")
    elif name == "expandtabs" and isinstance(subject, str) and args:
        width = args[0] if isinstance(args[0], int) else 8
        if len(subject) + subject.count("\t") * width > _limit():
            raise SecurityError("value too large in a prompt template (expandtabs)")
    elif name in ("indent", "wordwrap") and isinstance(subject, str):
        pieces = [a for a in args if isinstance(a, str)]
        lines = subject.count("\n") + 1 if name == "indent" else len(subject) + 1
        if len(subject) + lines * sum(len(p) for p in pieces) > _limit():
            raise SecurityError(f"value too large in a prompt template ({name})")
    elif name in ("format", "__mod__") and isinstance(subject, str) and _HUGE_WIDTH.search(subject):
        raise SecurityError("format width too large in a prompt template")


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` checked before it runs (arguments, growth) and after (the size built)."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        passed = [isinstance(a, Context | nodes.EvalContext | jinja2.Environment) for a in args]
        first = passed.index(False) if False in passed else len(args)
        plain = list(args[first:])
        _check_arguments([*plain[1:], *kwargs.values()])
        if plain and name in ("join", "sum") and _is_lazy(plain[0]):
            plain[0] = _materialise(plain[0])  # a generator is read once: check the items
        if plain:
            _check_growth(name, plain[0], (*plain[1:], *kwargs.values()))
        return _check_built(func(*args[:first], *plain, **kwargs))

    return guarded


def _is_lazy(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | list | tuple | dict)


def _materialise(items: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.append(item)
        if len(out) > MAX_BUILT:
            raise SecurityError(f"value too large in a prompt template (over {MAX_BUILT:,})")
    return out


class _CountedLoop:
    """The iterable of one ``for``: each step counted against the rendering's budget."""

    def __init__(self, iterable: Iterable[Any]) -> None:
        self._iterator = iter(iterable)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        current = _CURRENT.get()
        if current is not None:
            current.steps += 1
            if current.steps > MAX_STEPS:
                raise SecurityError(f"the template loops more than {MAX_STEPS:,} times")
            current.tick()
        return next(self._iterator)


def _loop_guard(value: Any) -> Any:
    return value if isinstance(value, jinja2.Undefined) else _CountedLoop(value)


def _concat_guard(parts: Iterable[Any]) -> str:
    """``a ~ b ~ c``: refused before joining when the result would be too long."""
    texts = [str(part) for part in parts]
    if sum(len(t) for t in texts) > _limit():
        raise SecurityError(f"value too large in a prompt template (over {_limit():,})")
    return "".join(texts)


class _GuardedNamespace(Namespace):
    """``namespace()``: values stored in it are checked like every value built."""

    def __setitem__(self, name: str, value: Any) -> None:
        _tick()
        super().__setitem__(name, _check_built(value))


class Sandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox with the budget of the module doc."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters[_GUARD_ITER] = _loop_guard
        self.filters[_GUARD_CONCAT] = _concat_guard
        self.globals["namespace"] = _GuardedNamespace

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """The template, each ``for`` counting its steps and each ``~`` checking its size."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _GUARD_ITER, [], [], None, None)
        for concat in list(tree.find_all(nodes.Concat)):
            wrapped = nodes.Filter(
                nodes.List(concat.nodes), _GUARD_CONCAT, [], [], None, None, lineno=concat.lineno
            )
            _replace(tree, concat, wrapped)
        return tree

    def concat(self, parts: Iterable[str]) -> str:
        """The output of a rendering (or of a block or macro), counted as it is written."""
        current = _CURRENT.get()
        limit = current.output_limit if current is not None else MAX_OUTPUT
        out: list[str] = []
        size = 0
        for part in parts:
            size += len(part)
            if size > limit:
                raise SecurityError(f"the template writes more than {limit:,} characters")
            if current is not None:
                current.tick()
            out.append(part)
        return "".join(out)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**" and _power_bits(left, right) > MAX_BUILT:
            raise SecurityError("number too large in a prompt template")
        if operator == "*":
            sized, times = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(times, int) and _size(sized) * max(times, 0) > _limit():
                raise SecurityError("value too large in a prompt template")
        if operator == "+" and _size(left) + _size(right) > _limit():
            raise SecurityError("value too large in a prompt template")
        if operator == "%" and isinstance(left, str):
            _check_growth("__mod__", left, ())
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        _check_arguments([*args, *kwargs.values()])
        method = getattr(__obj, "__wrapped__", __obj)  # str.format comes wrapped
        subject = getattr(method, "__self__", None)
        name = getattr(method, "__name__", "")
        if isinstance(subject, str) and name == "join" and args:
            if _is_lazy(args[0]):
                args = (_materialise(args[0]), *args[1:])
            _check_growth("join", args[0], (subject,))
        elif isinstance(subject, str):
            _check_growth(name, subject, args)
        return _check_built(super().call(__context, __obj, *args, **kwargs))


def _power_bits(base: Any, exponent: Any) -> int:
    """About how many bits ``base ** exponent`` takes (0 when it is no large integer)."""
    if not isinstance(base, int) or not isinstance(exponent, int) or exponent <= 0:
        return 0
    return abs(base).bit_length() * exponent if abs(base) > 1 else 0


def _replace(tree: nodes.Node, old: nodes.Node, new: nodes.Node) -> None:
    """Put ``new`` where ``old`` is in ``tree``."""
    for parent in tree.find_all(nodes.Node):
        for field in parent.fields:
            value = getattr(parent, field, None)
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(item is old for item in value):
                setattr(parent, field, [new if item is old else item for item in value])
                return
    if tree is old:  # pragma: no cover  (a template is never a bare concatenation)
        raise SecurityError("cannot guard the template")
