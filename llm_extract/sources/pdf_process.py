"""PDFs read in a child process with a memory limit and a deadline.

pdfminer trusts the file: a font's ``/W`` widths array naming a range of a billion
characters, a 1 MB Flate stream that inflates to 1 GB, a page tree of thousands of pages
each take all the memory or time there is. So every PDF is read (:func:`~.pdf.read_pdf`) in
a child process of its own:

- its address space is capped (``RLIMIT_AS``, :attr:`PdfLimits.memory_mb`): an allocation
  past it is a ``MemoryError`` in the child, never the machine's memory;
- it has a deadline (:attr:`PdfLimits.timeout_s`), after which it is killed;
- pages are laid out one at a time, and reading stops at the first page past
  :attr:`PdfLimits.max_pages` or once the text is past ``max_chars``;
- whatever goes wrong in it (a pdfminer exception, ``MemoryError``, a crash, a kill)
  becomes an :class:`~llm_extract.errors.InputError` naming the file or URL: the other
  inputs of the run go on.

The children fork from a server process that has pdfminer loaded already (multiprocessing's
``forkserver``; ``spawn`` where there is none), so a child starts in milliseconds and
shares nothing with the threads of the parent.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING

from llm_extract.errors import InputError
from llm_extract.settings import (
    DEFAULT_PDF_MAX_PAGES,
    DEFAULT_PDF_MEMORY_MB,
    DEFAULT_PDF_TIMEOUT_S,
)

if TYPE_CHECKING:
    from llm_extract.sources.pdf import PdfText

_PRELOAD = [
    "llm_extract.sources.pdf_process",
    "llm_extract.sources.pdf",
    "pdfminer.converter",
    "pdfminer.layout",
    "pdfminer.pdfdocument",
    "pdfminer.pdfinterp",
    "pdfminer.pdfpage",
    "pdfminer.pdfparser",
    "bidi.algorithm",
]
_MB = 1024 * 1024


@dataclass(frozen=True)
class PdfLimits:
    """What reading one PDF may take (the ``pdf_*`` settings)."""

    max_pages: int = DEFAULT_PDF_MAX_PAGES
    timeout_s: float = DEFAULT_PDF_TIMEOUT_S
    memory_mb: int = DEFAULT_PDF_MEMORY_MB


def read_pdf_bounded(
    data: bytes, origin: str, *, max_chars: int | None = None, limits: PdfLimits | None = None
) -> PdfText:
    """:func:`~.pdf.read_pdf` in a child process within ``limits`` (see the module doc)."""
    from llm_extract.sources.pdf import PdfText

    chosen = limits or PdfLimits()
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(  # type: ignore[attr-defined]
        target=_child,
        args=(sender, data, origin, max_chars, chosen.max_pages, chosen.memory_mb),
        name="llm-extract-pdf",
        daemon=True,
    )
    try:
        process.start()
        sender.close()
        if not receiver.poll(chosen.timeout_s):
            raise InputError(
                origin,
                f"reading the PDF took longer than {chosen.timeout_s:g} s "
                "(the limit, LLM_EXTRACT_PDF_TIMEOUT); skipped",
            )
        try:
            message = receiver.recv()
        except (EOFError, OSError):
            message = None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
        sender.close()
    if message is None:
        raise InputError(origin, _crash(process.exitcode, chosen))
    kind, first, second = message
    if kind == "ok":
        return PdfText(text=first, title=second)
    if kind == "memory":
        raise InputError(origin, _out_of_memory(chosen))
    raise InputError(origin, first)


def _context() -> BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _out_of_memory(limits: PdfLimits) -> str:
    return (
        f"reading the PDF needs more than {limits.memory_mb} MB of memory "
        "(the limit, LLM_EXTRACT_PDF_MEMORY_MB); skipped"
    )


def _crash(exitcode: int | None, limits: PdfLimits) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if name == "SIGKILL":
            return _out_of_memory(limits) + " (the reader was killed)"
        return f"the PDF reader stopped on {name}; skipped"
    return f"the PDF reader stopped (exit status {exitcode}); skipped"


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows: the deadline still holds
        return
    limit = memory_mb * _MB
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        which = getattr(resource, name, None)
        if which is None:
            continue
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        try:
            resource.setrlimit(which, (limit, hard))
        except (ValueError, OSError):
            continue
        break
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file of a crash


def _child(
    conn: Connection,
    data: bytes,
    origin: str,
    max_chars: int | None,
    max_pages: int,
    memory_mb: int,
) -> None:
    """The child: read the PDF, send ``(kind, text or reason, title)`` back."""
    _limit_memory(memory_mb)
    # "Could not get FontBBox from font descriptor" and the like: pdfminer's remarks on
    # ordinary PDFs (Chromium's among them), not the reader's business.
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        from llm_extract.sources.pdf import read_pdf

        try:
            document = read_pdf(data, origin, max_chars=max_chars, max_pages=max_pages)
        except InputError as exc:
            conn.send(("error", exc.reason, None))
            return
        except MemoryError:
            conn.send(("memory", "", None))
            return
        except RecursionError:
            conn.send(("error", "broken PDF, cannot be read (objects nested too deep)", None))
            return
        except Exception as exc:  # any failure of pdfminer is this input's error
            reason = str(exc).strip() or type(exc).__name__
            conn.send(("error", f"broken PDF, cannot be read ({reason[:200]})", None))
            return
        del data
        conn.send(("ok", document.text, document.title))
    except MemoryError:
        conn.send(("memory", "", None))
    finally:
        conn.close()
