"""What makes two reports one report: the sha256 of the normalised text, or the canonical URL.

Normalisation is :func:`llm_extract.normalize.normalize` (tatweel, diacritics, alef and hamza
forms, Arabic-Indic digits, whitespace), so the same text saved twice with different spacing or
diacritics is one report. A report whose text is not at hand (a results file keeps only the
sha256 of the exact text) is known by that sha256 until its text is seen.

Note for the lead: ``report_identity`` is meant to be the one rule; the run layer's duplicate
skipping can import it (or it can move down to a lower layer) when the branches are merged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from llm_extract.normalize import normalize

# Query parameters that only say where a reader came from.
_TRACKING_PREFIXES = ("utm_", "fbclid", "gclid", "mc_", "ref", "igshid")


def normalised_sha256(text: str) -> str:
    """The sha256 of the text after Arabic normalisation and whitespace folding."""
    folded = " ".join(normalize(text).split())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def canonical_url(url: str) -> str:
    """The URL in one spelling: lower-case scheme and host, no default port, no fragment,
    no tracking parameters, sorted query, no trailing slash (except the root)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if scheme == "http":
        scheme = "https"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith(_TRACKING_PREFIXES)
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((scheme, host, path, urlencode(query), ""))


@dataclass(frozen=True)
class ReportIdentity:
    """The keys a report is known by. ``primary`` is its id in the dataset."""

    primary: str
    keys: tuple[str, ...]


def report_identity(
    *, text: str | None = None, sha256: str | None = None, url: str | None = None
) -> ReportIdentity:
    """The identity of a report: ``norm:<sha256 of the normalised text>`` when the text is
    known, else ``sha:<sha256 of the exact text>``; every key it can be found by (the
    normalised hash, the exact hash, the canonical URL)."""
    keys: list[str] = []
    if text is not None:
        keys.append(f"norm:{normalised_sha256(text)}")
        keys.append(f"sha:{hashlib.sha256(text.encode('utf-8')).hexdigest()}")
    elif sha256:
        keys.append(f"sha:{sha256}")
    if url and urlsplit(url).scheme in ("http", "https"):
        keys.append(f"url:{canonical_url(url)}")
    if not keys:
        raise ValueError("a report needs its text, its sha256 or its URL")
    return ReportIdentity(primary=keys[0], keys=tuple(dict.fromkeys(keys)))
