"""Offset pagination as async iterators."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from . import _constants as C
from ._errors import ValidationError

T = TypeVar("T")

# A generated list operation: takes ``paginate=OffsetInput(...)``, returns a page (or null).
PageMethod = Callable[..., Awaitable[Sequence[T | None] | None]]


def check_page_size(page_size: int) -> None:
    """Raise ValidationError unless 1 <= page_size <= 20 (Fluz's documented maximum)."""
    if not 1 <= page_size <= C.MAX_PAGE_SIZE:
        raise ValidationError(
            f"page_size must be between 1 and {C.MAX_PAGE_SIZE}",
            field="page_size",
            rule="page_size",
            code="CLIENT_VALIDATION",
        )


async def paginate(
    method: PageMethod[T], /, *, page_size: int = C.MAX_PAGE_SIZE, **kwargs: Any
) -> AsyncIterator[T]:
    """Yield the items of every page of *method*, calling it with ``paginate=`` offsets.

    Stops after a page shorter than *page_size* (including an empty or null page); null
    items are skipped. Other keyword arguments are passed to *method* unchanged.

    Raises:
        ValidationError: *page_size* is not within 1..20, or ``paginate`` was passed.
    """
    check_page_size(page_size)
    if "paginate" in kwargs:
        raise ValidationError(
            "pass page_size, not paginate: the iterator sets the offsets",
            field="paginate",
            rule="managed_by_iterator",
            code="CLIENT_VALIDATION",
        )
    offset = 0
    while True:
        page = await method(paginate=_page(page_size, offset), **kwargs)
        items = list(page or ())
        for item in items:
            if item is not None:
                yield item
        if len(items) < page_size:
            return
        offset += page_size


async def follow_has_next_page(
    method: Callable[..., Awaitable[Any]], /, *, page_size: int, items: str, **kwargs: Any
) -> AsyncIterator[Any]:
    """Yield the *items* field of each page of *method*, following ``hasNextPage``; stops
    on an empty page too (a server that always says "more" cannot loop forever)."""
    check_page_size(page_size)
    offset = 0
    while True:
        page = await method(paginate=_page(page_size, offset), **kwargs)
        found = getattr(page, items, None) or []
        for item in found:
            if item is not None:
                yield item
        if not getattr(page, "has_next_page", False) or not found:
            return
        offset += page_size


def _page(limit: int, offset: int) -> Any:
    # Imported here: the input models load with the first call, not at `import fluz`.
    from fluz_graphql.input_types import OffsetInput

    return OffsetInput(limit=limit, offset=offset)
