"""Reading the portal's pages in tests: counts, transaction links, pager links and dashboard numbers."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

_COUNT = re.compile(r'<strong id="match-count">(\d+)</strong>')
_TX = re.compile(r'<a class="tx" href="/portal/messages/([^"]+)"[ >]')
_NUMBER = re.compile(r'<a class="num[^"]*" href="([^"]+)">(\d+)</a>')


def match_count(page: str) -> int:
    found = _COUNT.search(page)
    assert found, "no match count on the page"
    return int(found.group(1))


def transactions(page: str) -> list[str]:
    return [unquote(html.unescape(t)) for t in _TX.findall(page)]


def pager(page: str, rel: str) -> str | None:
    found = re.search(rf'<a rel="{rel}" href="([^"]+)">', page)
    return html.unescape(found.group(1)) if found else None


def numbers(page: str) -> list[tuple[int, str]]:
    """Every linked number on a page: (count, link)."""
    return [(int(count), html.unescape(link)) for link, count in _NUMBER.findall(page)]


def params(link: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link).query))


def walk(client: httpx.Client, link: str) -> tuple[list[str], int]:
    """Every transaction across all pages of a list, following Older links; and the page count."""
    seen: list[str] = []
    pages = 0
    next_link: str | None = link
    while next_link:
        response = client.get(next_link)
        assert response.status_code == 200, response.text[:2000]
        seen += transactions(response.text)
        pages += 1
        next_link = pager(response.text, "next")
    return seen, pages


_BAR = re.compile(r'<a href="([^"]+)" class="bar"><title>([^<]*)</title>')


def chart_bars(page: str, chart_id: str) -> list[tuple[str, str]]:
    """(link, text alternative) of every bar in the chart whose caption has this id."""
    start = page.index(f'id="{chart_id}-title"')
    end = page.index("</figure>", start)
    return [(html.unescape(link), html.unescape(title)) for link, title in _BAR.findall(page[start:end])]
