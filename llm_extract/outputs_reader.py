"""Read the JSON Lines output of ``extract`` for review, export and summaries."""

from __future__ import annotations

from pathlib import Path

from llm_extract.errors import InputError
from llm_extract.output import iter_results
from llm_extract.results import ExtractionResult


def read_results(path: str | Path) -> list[ExtractionResult]:
    """The results of ``path``, one per report id (the last line of each id wins).

    Order is the order in which report ids first appear. A torn last line is ignored; a
    broken complete line raises :class:`InputError` naming the file and line number.
    """
    file = Path(path)
    if not file.is_file():
        raise InputError(file, "no such output file" if not file.exists() else "not a file")
    latest: dict[str, ExtractionResult] = {}
    try:
        for _, result in iter_results(file):
            latest[result.report_id] = result
    except UnicodeDecodeError as exc:
        raise InputError(file, f"not UTF-8 text (bad byte at offset {exc.start})") from exc
    except OSError as exc:
        raise InputError(file, f"cannot read ({exc.strerror or exc})") from exc
    return list(latest.values())
