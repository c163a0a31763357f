"""The main text and metadata of a web page (a fetched page or an HTML file saved from a browser).

Navigation, menus, sidebars, footers, related links, share buttons and comments are
removed by trafilatura, the reference extractor for news pages; paragraphs come out one
per line. A first line that repeats the headline is dropped (the headline is the title; read
as text it would count the story's event twice). Metadata:

- ``title``: what trafilatura finds (``og:title``, JSON-LD ``headline``, ``<title>``...);
- ``published``: JSON-LD ``datePublished`` first, then ``article:published_time`` and the
  other publication-date meta tags, with their time and time zone when given; else the date
  trafilatura's date finder (htmldate) reads from the page's markup and URL, never a date
  guessed from the running text;
- ``url``: the page's canonical URL (``<link rel=canonical>``, ``og:url``), credentials
  masked.

A page nested :data:`MAX_DEPTH` or more elements deep is an error that says so: the HTML
parser (libxml2) stops reading there, and the text of what it read would be a cut report.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from llm_extract.errors import InputError
from llm_extract.redact import redact_url

_META_XPATHS = (
    '//meta[@property="article:published_time"]/@content',
    '//meta[@name="article:published_time"]/@content',
    '//meta[@itemprop="datePublished"]/@content',
    '//*[@itemprop="datePublished"]/@datetime',
    '//meta[@property="og:published_time"]/@content',
    '//meta[@name="pubdate"]/@content',
    '//meta[@name="publish-date"]/@content',
    '//meta[@name="publication_date"]/@content',
    '//meta[@name="dc.date.issued"]/@content',
    '//meta[@name="DC.date.issued"]/@content',
)
_EARLIEST_YEAR = 1990
#: The depth at which libxml2's HTML parser stops reading a document.
MAX_DEPTH = 255


@dataclass(frozen=True)
class HtmlPage:
    text: str
    title: str | None
    published: dt.date | dt.datetime | None
    url: str | None


def parse_html(data: bytes | str, origin: str, *, url: str | None = None) -> HtmlPage:
    """Main text and metadata of one page; :class:`InputError` when it has no main text."""
    import trafilatura

    tree = trafilatura.load_html(data)  # decodes by the page's charset, else detects it
    if tree is None:
        raise InputError(origin, "not an HTML page (it does not parse)")
    if tree.xpath(f"boolean(//*[count(ancestor::*) >= {MAX_DEPTH}])"):
        # libxml2 stops reading a document at this depth: what follows is lost, and the
        # "main text" of the rest would be a wrong report.
        raise InputError(
            origin,
            f"HTML nested {MAX_DEPTH} or more elements deep, where the HTML parser stops "
            "reading; the page cannot be read whole",
        )
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        favor_precision=True,  # a page of menus and links has no main text, not all of it
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    title = _clean(getattr(document, "title", None) or "") or None
    text = _without_headline(_clean(getattr(document, "text", None) or ""), tree, title)
    if not text:
        raise InputError(
            origin, "no main text found on the page (only menus, links or boilerplate)"
        )
    published = metadata_date(tree) or _parse_when(getattr(document, "date", None))
    canonical = getattr(document, "url", None)
    return HtmlPage(
        text=text,
        title=title,
        published=published,
        url=redact_url(canonical) if isinstance(canonical, str) and canonical else None,
    )


def metadata_date(tree: Any) -> dt.date | dt.datetime | None:
    """The publication date in the page's metadata (JSON-LD, then meta tags), or None."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text_content() or "")
        except ValueError:
            continue
        for node in _nodes(data):
            when = _parse_when(node.get("datePublished"))
            if when is not None:
                return when
    for xpath in _META_XPATHS:
        for value in tree.xpath(xpath):
            when = _parse_when(str(value))
            if when is not None:
                return when
    return None


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object of a JSON-LD document (``@graph`` and nested lists included)."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, dict | list):
                yield from _nodes(value)
    elif isinstance(data, list):
        for item in data:
            yield from _nodes(item)


def _parse_when(value: object) -> dt.date | dt.datetime | None:
    """An ISO 8601 date or date-time (time zone kept), or None for anything else."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    when: dt.date | dt.datetime
    try:
        when = dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    latest = dt.date.today().year + 1
    return when if _EARLIEST_YEAR <= when.year <= latest else None


def _without_headline(text: str, tree: Any, title: str | None) -> str:
    """``text`` without a first line that repeats the headline (kept as ``title``): a
    headline restates the story, and reading it as text would count its event twice."""
    headlines = {title} if title else set()
    headlines.update(_clean(h.text_content()) for h in tree.xpath("//h1"))
    lines = text.split("\n")
    while lines and lines[0] in headlines:
        lines.pop(0)
    return "\n".join(lines)


def _clean(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.replace("\r", "\n").split("\n")]
    return "\n".join(line for line in lines if line).strip()
