"""One ``httpx.AsyncClient`` per API host per event loop, shared by every async hook.

The triggerer runs thousands of triggers in one loop; a client per trigger (or per poll) would open
as many TCP and TLS connections. Clients are bound to the loop that made them (httpx connections
cannot cross loops), so the registry is keyed by loop, and forgets a loop once it is closed.
"""

from __future__ import annotations

import asyncio
import weakref

import httpx

__all__ = ["MAX_CONNECTIONS_PER_HOST", "close_shared_clients", "shared_async_client"]

#: Connections one process keeps to one API host: the query budget (<= 20/s) needs only a few.
MAX_CONNECTIONS_PER_HOST = 8

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def shared_async_client(host: str, timeout: tuple[float, float]) -> httpx.AsyncClient:
    """Return the running loop's client for ``host`` (``scheme://netloc``), creating it once."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get(host)
    if client is None or client.is_closed:
        connect, read = timeout
        client = per_loop[host] = httpx.AsyncClient(
            timeout=httpx.Timeout(read, connect=connect),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS_PER_HOST,
                max_keepalive_connections=MAX_CONNECTIONS_PER_HOST,
            ),
            # Pool waits count against the read timeout's budget, not an error of their own.
            follow_redirects=False,
        )
    return client


async def close_shared_clients() -> None:
    """Close the running loop's clients (tests and benchmarks; the triggerer keeps them for life)."""
    loop = asyncio.get_running_loop()
    for client in _clients.pop(loop, {}).values():
        await client.aclose()
