"""Memory of the per-identity token cache as a service acts for ever more users.

``python -m tests.bench_token_cache [identities]`` mints one token per ``for_user()``
identity through an in-process MockTransport and prints the traced memory held after
every tenth of the run, for the default cap (10,000 identities) and for a cap above the
run (what an unbounded cache costs). Figures, not asserts.
"""

from __future__ import annotations

import sys
import tracemalloc
import uuid

import anyio
import anyio.lowlevel
import httpx

from fluz import FluzClient

sys.path.insert(0, "tests")
from client.fakes import ACCOUNT_ID, API_KEY, URL, USER_ID, FakeFluz


async def run(identities: int, cap: int) -> list[tuple[int, float]]:
    fake = FakeFluz()
    fake.issued = _Discard()  # keep only the client's memory in the figures
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    figures: list[tuple[int, float]] = []
    async with FluzClient(
        api_key=API_KEY,
        user_id=USER_ID,
        account_id=ACCOUNT_ID,
        url=URL,
        http_client=http,
        token_cache_size=cap,
    ) as fluz:
        fake.requests = _Discard()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        step = max(identities // 10, 1)
        for n in range(1, identities + 1):
            await fluz.for_user(uuid.uuid4(), uuid.uuid4()).token_info()
            # A service's event loop turns between calls (here nothing suspends: the
            # transport is in-process), which is when asyncio sweeps cancelled timers.
            await anyio.lowlevel.checkpoint()
            if n % step == 0:
                figures.append((n, (tracemalloc.get_traced_memory()[0] - base) / 2**20))
        tracemalloc.stop()
    await http.aclose()
    return figures


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: object) -> None:
        pass


def main() -> None:
    identities = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    for cap in (10_000, identities + 1):
        figures = anyio.run(run, identities, cap)
        label = "default cap 10,000" if cap == 10_000 else f"cap {cap:,} (unbounded here)"
        print(f"{label}:")
        for n, mib in figures:
            print(f"  {n:>7,} identities: {mib:7.1f} MiB")


if __name__ == "__main__":
    main()
