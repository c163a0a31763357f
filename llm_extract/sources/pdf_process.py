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

The child is a fresh interpreter (``python -c``, the parent's ``sys.path``) that runs
:mod:`.pdf_worker`: it shares no thread, lock or main module with the parent, reads the PDF
from its stdin and writes the text back as JSON; a start costs about 0.1 s.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llm_extract.errors import InputError
from llm_extract.settings import (
    DEFAULT_PDF_MAX_PAGES,
    DEFAULT_PDF_MEMORY_MB,
    DEFAULT_PDF_TIMEOUT_S,
)

if TYPE_CHECKING:
    from llm_extract.sources.pdf import PdfText

#: The child's program: the parent's import path, then the worker.
_PROGRAM = (
    "import sys; sys.path[:] = {path!r}; from llm_extract.sources.pdf_worker import main; main()"
)


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
    request = {
        "origin": origin,
        "max_chars": max_chars,
        "max_pages": chosen.max_pages,
        "memory_mb": chosen.memory_mb,
    }
    header = json.dumps(request).encode("utf-8") + b"\n"
    command = [sys.executable, "-c", _PROGRAM.format(path=list(sys.path))]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # pdfminer's remarks and a crash's traceback: not ours
    ) as child:
        try:
            out, _ = child.communicate(header + data, timeout=chosen.timeout_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise InputError(
                origin,
                f"reading the PDF took longer than {chosen.timeout_s:g} s "
                "(the limit, LLM_EXTRACT_PDF_TIMEOUT); skipped",
            ) from None
    try:
        answer = json.loads(out)
    except ValueError:
        raise InputError(origin, _crash(child.returncode, chosen)) from None
    if answer.get("kind") == "ok":
        return PdfText(text=str(answer["text"]), title=answer.get("title"))
    if answer.get("kind") == "memory":
        raise InputError(origin, _out_of_memory(chosen))
    raise InputError(origin, str(answer.get("reason")))


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
    if exitcode == 0 or exitcode == 1:
        # Python gives up with status 1 when even its last message needs memory.
        return _out_of_memory(limits)
    return f"the PDF reader stopped (exit status {exitcode}); skipped"
