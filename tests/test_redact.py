"""The one redaction of the package (``llm_extract.redact``): known secrets, key-like strings,
credentials in URLs and secret-named JSON fields all become the same mask."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm_extract.redact import MASK, is_secret_name, redact, redact_url, scrub_json, url_secrets
from llm_extract.run.logstore import to_log_text

KEY = "sk-test-REDACT-0123456789"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://user:pass@host/v1", "http://***@host/v1"),
        ("https://user@host:8443/v1", "https://***@host:8443/v1"),
        ("http://u:p%40ss@10.0.0.1:8000/v1", "http://***@10.0.0.1:8000/v1"),
        ("http://host/v1?api-key=abc&v=2", "http://host/v1?api-key=***&v=2"),
        ("http://host/v1?access_token=abc&sig=x&X-Amz-Signature=y", None),
        ("http://host/v1?max_tokens=5&model=m", "http://host/v1?max_tokens=5&model=m"),
        ("http://localhost:11434/v1", "http://localhost:11434/v1"),
    ],
)
def test_redact_url(url: str, expected: str | None) -> None:
    got = redact_url(url)
    if expected is not None:
        assert got == expected
    else:
        assert "abc" not in got and "=x" not in got and "=y" not in got
        assert got.count(MASK) == 3


def test_url_secrets_are_the_password_and_secret_query_values() -> None:
    assert url_secrets("http://analyst:p%40ss-word@h/v1?key=QK&v=2") == [
        "p%40ss-word",
        "p@ss-word",
        "QK",
    ]
    assert url_secrets("http://h/v1") == [] and url_secrets(None) == []
    # A user name alone is the credential itself (a token in the user-info part).
    assert url_secrets("https://ghp_T0KEN1234@h/v1") == ["ghp_T0KEN1234"]


def test_redact_masks_known_secrets_keys_and_url_credentials() -> None:
    text = (
        f"failed: Bearer abcdefghijklmnop; key {KEY}; 'http://u:pw-123456@h:1/v1' "
        "(see https://x.example/y?token=T0K) password pw-123456"
    )
    out = redact(text, ["pw-123456"])
    for secret in ("abcdefghijklmnop", KEY, "pw-123456", "T0K"):
        assert secret not in out
    assert "'http://***@h:1/v1'" in out and "https://x.example/y?token=***" in out
    assert "[redacted]" not in out  # one mask for the whole package


def test_short_or_empty_secrets_mask_nothing() -> None:
    assert redact("a model answer", ["", None, "a"]) == "a model answer"


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apiKey",
        "api-key",
        "Authorization",
        "access_token",
        "client_secret",
        "password",
        "X-Amz-Signature",
        "sig",
        "key",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["max_tokens", "prompt_tokens", "completion_tokens", "model", "messages", "bypass"]
)
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


def test_scrub_json_and_the_log_text_use_the_same_mask() -> None:
    body = {"api_key": KEY, "nested": [{"password": "x"}], "max_tokens": 5, "empty_token": ""}
    assert scrub_json(body) == {
        "api_key": MASK,
        "nested": [{"password": MASK}],
        "max_tokens": 5,
        "empty_token": "",
    }
    text = to_log_text({"messages": [{"content": f"key {KEY} at http://a:b-secret@h/v1"}]})
    assert text is not None and KEY not in text and "b-secret" not in text
    assert MASK in text


URL_CHARS = st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])


@given(
    user=st.text(URL_CHARS, min_size=1, max_size=12),
    password=st.text(URL_CHARS, min_size=4, max_size=20),
    host=st.sampled_from(["127.0.0.1:8000", "localhost", "api.example.org", "[::1]:9"]),
)
def test_no_url_password_survives(user: str, password: str, host: str) -> None:
    url = f"http://{quote(user, safe='')}:{quote(password, safe='')}@{host}/v1"
    masked = redact_url(url)
    assert masked == f"http://***@{host}/v1"
    message = f"connection to {url} failed (password {password})"
    out = redact(message, url_secrets(url))
    assert password not in out and quote(password, safe="") not in out
