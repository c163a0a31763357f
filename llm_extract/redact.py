"""Keep secrets out of every message, log and output the package writes."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "***"
_MIN_SECRET = 4  # shorter strings would mask ordinary text


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each secret (an API key...) replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            text = text.replace(secret, MASK)
    return text


# Query parameters whose value is a credential, compared case-insensitively after removing
# "-" and "_" (so "api_key", "API-Key" and "apikey" are one name).
_SECRET_PARAMS = frozenset(
    {
        "key",
        "apikey",
        "accesskey",
        "token",
        "accesstoken",
        "authtoken",
        "idtoken",
        "refreshtoken",
        "secret",
        "clientsecret",
        "password",
        "passwd",
        "pwd",
        "auth",
        "authorization",
        "sig",
        "signature",
        "session",
        "sessionid",
        "sid",
        "credential",
        "credentials",
        "xamzcredential",
        "xamzsignature",
        "xamzsecuritytoken",
    }
)


def _secret_param(name: str) -> bool:
    folded = name.lower().replace("-", "").replace("_", "")
    return folded in _SECRET_PARAMS or folded.endswith(("token", "secret", "password", "apikey"))


def redact_url(url: str) -> str:
    """``url`` fit to print or store: user name and password, and the values of query
    parameters that carry credentials (``api_key``, ``token``, ``sig``...), become ``***``.

    Anything that does not parse as a URL comes back with everything after a ``://``'s
    ``@`` masked, so no credential survives a malformed input either.
    """
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        head, sep, tail = url.partition("://")
        return f"{head}{sep}{MASK}@{tail.rsplit('@', 1)[1]}" if "@" in tail else url
    netloc = parts.netloc
    if "@" in netloc:
        shown = f"[{host}]" if ":" in host else host
        netloc = f"{MASK}@{shown}" + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_param(name) for name, _ in pairs):
            masked = [(name, MASK if _secret_param(name) else value) for name, value in pairs]
            query = urlencode(masked, safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
