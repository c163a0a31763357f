"""No credential carried by a URL reaches a file or the terminal."""

from __future__ import annotations

import pytest

from llm_extract.redact import MASK, redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/news/1.html", "https://example.org/news/1.html"),
        ("https://user:hunter22@example.org/a", f"https://{MASK}@example.org/a"),
        ("http://token@127.0.0.1:8080/a", f"http://{MASK}@127.0.0.1:8080/a"),
        ("https://h/p?id=7&api_key=s3cr3t", f"https://h/p?id=7&api_key={MASK}"),
        ("https://h/p?API-Key=s3cr3t&page=2", f"https://h/p?API-Key={MASK}&page=2"),
        ("https://h/p?access_token=abc#top", f"https://h/p?access_token={MASK}#top"),
        (
            "https://b.s3/x.pdf?X-Amz-Credential=AK&X-Amz-Signature=f00",
            f"https://b.s3/x.pdf?X-Amz-Credential={MASK}&X-Amz-Signature={MASK}",
        ),
        ("https://h/p?page=2&q=قسد", "https://h/p?page=2&q=قسد"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize("url", ["https://user:hunter22@[::1:80/x", "http://a:hunter22@h:99999/"])
def test_malformed_urls_still_lose_their_credentials(url: str) -> None:
    assert "hunter22" not in redact_url(url)
