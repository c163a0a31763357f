"""The child process of :mod:`.pdf_process`: one PDF in, its text out.

Reads a JSON header line (origin, limits) and then the PDF's bytes from stdin, caps its own
address space (``RLIMIT_AS``) before pdfminer is even imported, reads the PDF
(:func:`~.pdf.read_pdf`) and writes one JSON object to stdout: ``{"kind": "ok", "text",
"title"}``, ``{"kind": "error", "reason"}`` or ``{"kind": "memory"}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from typing import Any

_MB = 1024 * 1024


def main() -> None:
    header = sys.stdin.buffer.readline()
    request = json.loads(header)
    _limit_memory(int(request["memory_mb"]))
    answer = _answer(request)
    # Bytes, never text: the locale's encoding might not hold Arabic.
    sys.stdout.buffer.write(json.dumps(answer, ensure_ascii=False).encode("utf-8"))
    sys.stdout.flush()


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    # "Could not get FontBBox from font descriptor" and the like: pdfminer's remarks on
    # ordinary PDFs (Chromium's among them), not the reader's business.
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        from llm_extract.errors import InputError
        from llm_extract.sources.pdf import read_pdf

        data = sys.stdin.buffer.read()
        try:
            document = read_pdf(
                data,
                str(request["origin"]),
                max_chars=request.get("max_chars"),
                max_pages=request.get("max_pages"),
            )
        except InputError as exc:
            return {"kind": "error", "reason": exc.reason}
        except RecursionError:
            return {"kind": "error", "reason": "broken PDF, cannot be read (nested too deep)"}
        except MemoryError:
            raise
        except Exception as exc:  # any failure of pdfminer is this input's error
            reason = str(exc).strip() or type(exc).__name__
            return {"kind": "error", "reason": f"broken PDF, cannot be read ({reason[:200]})"}
        del data
        return {"kind": "ok", "text": document.text, "title": document.title}
    except MemoryError:
        return {"kind": "memory"}


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows: the deadline still holds
        return
    limit = memory_mb * _MB
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file of a crash
