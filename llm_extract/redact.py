"""Keep secrets out of every message, log and output the package writes.

The one place that knows what a secret looks like. Everything that writes text a user, a file
or a terminal will see passes it through :func:`redact` (messages, errors, request-log rows)
or :func:`redact_url` (a server address); each secret becomes :data:`MASK`:

- the secrets the caller knows (the API key, the password of ``OPENAI_BASE_URL``...);
- strings that look like provider keys (``sk-...``) or bearer tokens, wherever they hide;
- in every URL, the user information (``user:password@``) and the value of every query
  parameter whose name says it holds a key, token, secret, password or signature;
- in JSON values (:func:`scrub_json`), every field whose name says it holds a secret.

A mistyped URL (``https//user:PW@host/v1``, ``//user:PW@host``) keeps no credentials either.
:func:`printable` makes text safe for a terminal line: control characters and the bidi
overrides that reorder what a terminal shows (U+202E...) become visible escapes; URLs get
them percent-encoded (:func:`redact_url`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

MASK = "***"
_MIN_SECRET = 4  # shorter strings would mask ordinary text

# Things that look like provider keys or bearer tokens, whatever field they hide in.
_KEY_LIKE = re.compile(r"\b(?:sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9_\-.=+/]{8,})")
# A field or query parameter whose name (camelCase and separators made ``_``) ends with a
# word that says it holds a secret: ``api_key``, ``access_token``, ``X-Amz-Signature``, ``sig``;
# but not ``max_tokens`` or ``prompt_tokens``.
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:api_?key|key|secret|password|passwd|pwd|pass|token|auth|authorization|"
    r"signature|sig|credentials?|session_?id|private_?key)$"
)
# A URL inside free text: a scheme, then everything up to white space or a quote.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>`]+")
# User information however the start of the URL is mistyped (``https//u:p@h``,
# ``https:/u:p@h``, ``//u:p@h``).
_USERINFO = re.compile(r"((?i:\b(?:https?|wss?|ftps?)):?/{1,3}|(?<![\w:/])//)([^/@\s\"'<>`]+)@")
# Characters a terminal must not receive raw: C0 and C1 controls but tab, newline and CR,
# DEL, and the marks and overrides of the bidi algorithm (Trojan Source).
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def is_secret_name(name: str) -> bool:
    """True for a field or parameter name such as ``api_key``, ``access_token``, ``sig``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return _SECRET_NAME.search(re.sub(r"[^a-z0-9]+", "_", words)) is not None


def _mask_query(query: str) -> str:
    if not query:
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret_name(name) for name, _ in pairs):
        return query
    masked = [(name, MASK if is_secret_name(name) and value else value) for name, value in pairs]
    return urlencode(masked, safe="*")


def redact_url(url: str) -> str:
    """``url`` without its user information and with secret-looking query values masked.

    ``http://user:pass@host:8000/v1?api-key=abc&v=2`` becomes
    ``http://***@host:8000/v1?api-key=***&v=2``. Text that does not parse as a URL is
    returned with the same masks applied by pattern, never as it was.
    """
    url = _UNPRINTABLE.sub(lambda m: quote(m.group(0)), url)
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return _redact_userinfo_by_pattern(url)
    if not netloc:  # not a URL as written (``https//user:pw@host``): mask by pattern
        return _redact_userinfo_by_pattern(url)
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = _mask_query(parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _redact_userinfo_by_pattern(text: str) -> str:
    return _USERINFO.sub(lambda m: f"{m.group(1)}{MASK}@", text)


def _malformed_userinfo(url: str) -> str | None:
    """The user information of a URL that does not parse as one (``https//u:p@host``)."""
    match = _USERINFO.search(url)
    return match.group(2) if match else None


def url_secrets(url: str | None) -> list[str]:
    """The secrets a URL carries, raw and percent-decoded, so that :func:`redact` can mask
    them wherever else they appear: its password (or, when it has none, its user name, which
    is then the credential itself, as in ``https://TOKEN@host``) and its secret query values.
    A user name beside a password is masked inside URLs only: masking a name such as
    ``analyst`` everywhere would garble ordinary text."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        found = [parts.password if parts.password is not None else parts.username]
        found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if is_secret_name(k)]
    except ValueError:
        found = []
    userinfo = _malformed_userinfo(url) if not found or found == [None] else None
    if userinfo is not None:
        name, colon, password = userinfo.partition(":")
        found.append(password if colon else name)
    out: list[str] = []
    for value in found:
        for form in (value, unquote(value) if value else value):
            if form and form not in out:
                out.append(form)
    return out


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every known secret, every key-like string and the credentials of every
    URL in it replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len)[::-1]:
        text = text.replace(secret, MASK)
    text = _KEY_LIKE.sub(MASK, text)
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    return _redact_userinfo_by_pattern(text)


def printable(text: str) -> str:
    """``text`` for a terminal: each control character (but tab, newline and CR) and each bidi
    mark or override (U+202E...) written as a visible escape (``\\u202e``)."""
    return _UNPRINTABLE.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def scrub_json(value: Any) -> Any:
    """A copy of a JSON value whose fields named like secrets (``api_key``, ``password``...)
    are masked."""
    if isinstance(value, dict):
        return {
            key: (
                MASK if isinstance(key, str) and is_secret_name(key) and item else scrub_json(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub_json(item) for item in value]
    return value
