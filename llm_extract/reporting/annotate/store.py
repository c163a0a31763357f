"""Files of an annotation: gold files, drafts and the audit log, in and under the gold folder.

    <gold-dir>/<report_id>.json                 gold files (what ``eval`` scores against)
    <gold-dir>/corrections.jsonl                the audit log of corrections
    <gold-dir>/.annotate/drafts/<report_id>.json  drafts, resumed when the app starts again

Every file is written atomically: a temporary file in the same folder, flushed and fsynced,
then renamed over the target (``os.replace``), and the folder fsynced, so a crash leaves the
old file or the new one, never a part. A process killed between writing its temporary file
and renaming it leaves that file behind; :meth:`GoldStore.check_writable` (run when the app
starts) removes such leftovers, under the folder's lock (:mod:`.lock`: every write happens
under it, so no temporary file of a live process is ever removed). A report id becomes a
file name only when it is a plain name (letters, digits, ``_``, ``-``, ``.``; no path
separator, no ``..``) that stays inside its folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from llm_extract.errors import InputError
from llm_extract.reporting.annotate.audit import AUDIT_FILE
from llm_extract.reporting.annotate.drafts import Draft
from llm_extract.reporting.annotate.lock import LOCK_FILE, FolderLock

STATE = Path(".annotate")
DRAFTS = STATE / "drafts"
_SAFE_ID = re.compile(r"\w[\w.\-]{0,199}")
_TEMP_SUFFIX = ".tmp"
#: the temporary files this module makes (``mkstemp``: 8 random letters, digits or ``_``)
_TEMP_NAME = re.compile(r"\.(?:[\w.\-]+\.json|write-test)\.[a-z0-9_]{8}\.tmp")


def unsafe_id_reason(report_id: str) -> str | None:
    """Why ``report_id`` cannot be a file name, or ``None`` when it can."""
    if not _SAFE_ID.fullmatch(report_id) or ".." in report_id:
        return (
            f"report id {report_id!r} cannot be a gold file name (use letters, digits, "
            "'_', '-' and '.', no path separator)"
        )
    return None


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class GoldStore:
    """The gold folder of an annotation session."""

    def __init__(self, gold_dir: str | Path) -> None:
        self.root = Path(gold_dir)
        self.drafts_dir = self.root / DRAFTS
        self.audit_path = self.root / AUDIT_FILE
        self.lock = FolderLock(self.root / STATE / LOCK_FILE)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """The folder to this process for a ``with`` block (see :mod:`.lock`)."""
        return self.lock.held()

    def check_writable(self) -> None:
        """Create the folders, prove that files can be written there (at start, not at the
        first save) and remove the temporary files of killed processes. Raises
        :class:`InputError` naming the folder."""
        for folder in (self.root, self.drafts_dir):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(
                    folder, f"the gold folder cannot be written ({exc.strerror or exc})"
                ) from exc
        with self.locked():
            for folder in (self.root, self.drafts_dir):
                try:
                    fd, probe = tempfile.mkstemp(
                        dir=folder, prefix=".write-test.", suffix=_TEMP_SUFFIX
                    )
                    os.close(fd)
                    os.unlink(probe)
                except OSError as exc:
                    raise InputError(
                        folder, f"the gold folder cannot be written ({exc.strerror or exc})"
                    ) from exc
            self.remove_stale_temporaries()
        if self.audit_path.exists() and not os.access(self.audit_path, os.W_OK):
            raise InputError(self.audit_path, "the audit log cannot be written")

    def stale_temporaries(self) -> Iterator[Path]:
        """The temporary files of this module's writes in the gold and drafts folders."""
        for folder in (self.root, self.drafts_dir):
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            for name in names:
                path = folder / name
                if _TEMP_NAME.fullmatch(name) and path.is_file() and not path.is_symlink():
                    yield path

    def remove_stale_temporaries(self) -> list[Path]:
        """Remove what killed writers left (call with the lock held: a live writer's
        temporary file exists only while it holds the lock). Returns what was removed."""
        removed = []
        for path in list(self.stale_temporaries()):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
        return removed

    def _inside(self, folder: Path, report_id: str) -> Path:
        reason = unsafe_id_reason(report_id)
        if reason is not None:
            raise InputError(folder, reason)
        path = folder / f"{report_id}.json"
        if path.resolve().parent != folder.resolve():
            raise InputError(folder, f"report id {report_id!r} leaves the folder")
        return path

    def gold_path(self, report_id: str) -> Path:
        return self._inside(self.root, report_id)

    def draft_path(self, report_id: str) -> Path:
        return self._inside(self.drafts_dir, report_id)

    # --- drafts ---------------------------------------------------------------------------

    def read_draft(self, report_id: str) -> Draft | None:
        """The saved draft, ``None`` when there is none; a broken one raises InputError."""
        path = self.draft_path(report_id)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(path, f"cannot read the draft ({exc.strerror or exc})") from exc
        try:
            return Draft.model_validate_json(raw)
        except ValidationError as exc:
            raise InputError(path, f"the draft is broken ({exc.errors()[0]['msg']})") from exc

    def write_draft(self, draft: Draft) -> None:
        path = self.draft_path(draft.report_id)
        try:
            atomic_write_text(path, draft.model_dump_json(indent=1) + "\n")
        except OSError as exc:
            raise InputError(path, f"cannot save the draft ({exc.strerror or exc})") from exc

    def delete_draft(self, report_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.draft_path(report_id).unlink()

    # --- gold -----------------------------------------------------------------------------

    def read_gold(self, report_id: str) -> bytes | None:
        path = self.gold_path(report_id)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InputError(path, f"cannot read the gold file ({exc.strerror or exc})") from exc

    def gold_sha256(self, report_id: str) -> str | None:
        data = self.read_gold(report_id)
        return sha256_bytes(data) if data is not None else None

    def write_gold(self, report_id: str, text: str) -> Path:
        path = self.gold_path(report_id)
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            raise InputError(path, f"cannot write the gold file ({exc.strerror or exc})") from exc
        return path
