"""What every async hook in one event loop shares: an HTTP client per API host, and connection lookups.

The triggerer runs thousands of triggers in one loop. A client per trigger (or per poll) would open
as many TCP and TLS connections; so each loop keeps one ``httpx.AsyncClient`` per host, bound to that
loop (httpx connections cannot cross loops), and the registry forgets a loop once it is gone.

Requests wait for a free connection *here*, on a semaphore, not inside httpx: httpx's pool rescans
its whole queue of waiting requests against every connection on each request and release, which is
quadratic in the backlog (measured: 2.9 of 3.3 ms CPU per poll at 1,000 waiting triggers, and no
progress at all at 10,000; see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from airflow_provider_qwenasr.protocol import ApiSettings

__all__ = [
    "CONNECTION_CACHE_SECONDS",
    "MAX_CONNECTIONS_PER_HOST",
    "HostPool",
    "close_shared_clients",
    "host_pool",
    "shared_settings",
]

#: Connections one process keeps to one API host: the query budget (<= 20/s) needs only a few.
MAX_CONNECTIONS_PER_HOST = 8
#: How long a looked-up connection is reused by the triggers of one loop.
CONNECTION_CACHE_SECONDS = 60.0


@dataclass
class HostPool:
    """One loop's client for one API host, and the slots that keep requests out of httpx's queue."""

    client: httpx.AsyncClient
    slots: asyncio.Semaphore

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[httpx.AsyncClient]:
        """Hold one of the host's connections for one request."""
        async with self.slots:
            yield self.client


@dataclass
class _LoopShared:
    pools: dict[str, HostPool] = field(default_factory=dict)
    settings: dict[str, tuple[float, asyncio.Future[ApiSettings]]] = field(default_factory=dict)


_shared: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopShared] = weakref.WeakKeyDictionary()


def _for_running_loop() -> _LoopShared:
    return _shared.setdefault(asyncio.get_running_loop(), _LoopShared())


def host_pool(host: str, timeout: tuple[float, float]) -> HostPool:
    """Return the running loop's pool for ``host`` (``scheme://netloc``), creating it once."""
    shared = _for_running_loop()
    pool = shared.pools.get(host)
    if pool is None or pool.client.is_closed:
        connect, read = timeout
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(read, connect=connect),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS_PER_HOST,
                max_keepalive_connections=MAX_CONNECTIONS_PER_HOST,
            ),
            follow_redirects=False,
        )
        pool = shared.pools[host] = HostPool(client, asyncio.Semaphore(MAX_CONNECTIONS_PER_HOST))
    return pool


async def shared_settings(conn_id: str, lookup: Callable[[], Awaitable[ApiSettings]]) -> ApiSettings:
    """The connection's settings, looked up once per loop and reused for a minute.

    Each lookup costs the loop about a millisecond on Airflow 3.3 (secrets backends, a thread hop),
    so a thousand triggers starting together would block it for a second; concurrent callers share
    the one lookup in flight. A failed lookup is not cached.
    """
    shared = _for_running_loop()
    cached = shared.settings.get(conn_id)
    if cached is not None and cached[0] > time.monotonic():
        return await asyncio.shield(cached[1])
    future: asyncio.Future[ApiSettings] = asyncio.get_running_loop().create_future()
    shared.settings[conn_id] = (time.monotonic() + CONNECTION_CACHE_SECONDS, future)
    try:
        future.set_result(await lookup())
    except BaseException as error:
        shared.settings.pop(conn_id, None)
        future.set_exception(error)
        future.exception()  # retrieved here, so an unawaited failure is not reported as lost
        raise
    return future.result()


async def close_shared_clients() -> None:
    """Close the running loop's clients (tests and benchmarks; the triggerer keeps them for life)."""
    shared = _shared.pop(asyncio.get_running_loop(), None)
    for pool in (shared.pools if shared else {}).values():
        await pool.client.aclose()
