"""Cloudflare's page-number pagination: ``?page=&per_page=`` in, ``result_info`` out.

``result_info`` is ``{"page", "per_page", "count", "total_count", "total_pages"}``; ``count`` is the
number of results on this page. A page past the end is empty (200), which is how Cloudflare's SDKs
know auto-pagination is over. ``per_page`` is bounded, so one page costs bounded time and memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import envelope
from .envelope import ApiError

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 1000
MAX_PAGE = 10**6


@dataclass(frozen=True)
class Page:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def slice(self, queryset):
        return queryset[self.offset:self.offset + self.per_page]

    def result_info(self, count: int, total: int) -> dict:
        return {"page": self.page, "per_page": self.per_page, "count": count, "total_count": total,
                "total_pages": math.ceil(total / self.per_page)}


def _number(request, name: str, default: int, maximum: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[:12]) <= maximum:
        raise ApiError(400, [(envelope.INVALID, f"{name} must be a whole number from 1 to {maximum}; "
                                                f"“{raw[:50]}” is not.")])
    return int(raw)


def page_of(request) -> Page:
    return Page(page=_number(request, "page", 1, MAX_PAGE),
                per_page=_number(request, "per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE))
