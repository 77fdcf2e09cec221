"""Micro-batching: requests that arrive within a few milliseconds share one call of a batch function.

Requests wait on an asyncio queue; a collector takes the first, gathers more until `window_ms` has
passed or `max_size` units are reached, and hands the list to ONE worker thread, so a forward pass never
blocks the event loop and two never compete for the CPU. While the worker runs, new requests queue up
and form the next batch. With `enabled=False` each request goes through the same worker alone (the
baseline that batching is measured against).

>>> import asyncio
>>> b = Batcher(lambda items: [x * 2 for x in items])
>>> asyncio.run(b.submit(21))
42
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Callable, Sequence


class Batcher:
    def __init__(self, fn: Callable[[list], Sequence], *, window_ms: float = 5.0, max_size: int = 64,
                 enabled: bool = True, size: Callable[[Any], int] = lambda item: 1):
        # fn(items) -> one result per item; a result that is an Exception is raised to that item's caller.
        self.fn, self.window_s, self.max_size, self.enabled, self.size = fn, window_ms / 1000, max_size, enabled, size
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches: list[int] = []          # sizes of recent batches (for tests and the load bench)

    async def submit(self, item: Any) -> Any:
        if not self.enabled:
            return _unwrap((await asyncio.get_running_loop().run_in_executor(self._executor, self._call, [item]))[0])
        self._ensure_collector()
        fut = asyncio.get_running_loop().create_future()
        await self._queue.put((item, fut))
        return _unwrap(await fut)

    async def run(self, fn: Callable, *args: Any) -> Any:
        """fn(*args) on the worker thread (for work that is not batched but must not compete with it)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _ensure_collector(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._task is None or self._task.done():
            self._loop, self._queue = loop, asyncio.Queue()
            self._task = loop.create_task(self._collect())

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            units = self.size(batch[0][0])
            deadline = loop.time() + self.window_s
            while units < self.max_size:
                left = deadline - loop.time()
                try:
                    nxt = await asyncio.wait_for(self._queue.get(), left) if left > 0 else self._queue.get_nowait()
                except (asyncio.TimeoutError, asyncio.QueueEmpty):
                    break
                batch.append(nxt)
                units += self.size(nxt[0])
            live = [(item, fut) for item, fut in batch if not fut.cancelled()]
            if not live:
                continue
            try:
                results = await loop.run_in_executor(self._executor, self._call, [item for item, _ in live])
            except Exception as e:      # the batch function itself failed: every caller hears about it
                results = [e] * len(live)
            for (_, fut), result in zip(live, results):
                if not fut.done():
                    fut.set_result(result)

    def _call(self, items: list) -> list:
        self.batches = (self.batches + [len(items)])[-1000:]
        try:
            results = list(self.fn(items))
        except Exception as e:
            return [e] * len(items)
        if len(results) != len(items):
            return [RuntimeError("batch function returned the wrong number of results")] * len(items)
        return results

    @property
    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        """The one worker thread, started on first use (again after `close`: an app served, stopped and
        served again, as a test client does on every `with`, gets a worker each time)."""
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="artforge-batch")
        return self._pool

    def close(self) -> None:
        if self._task is not None and not self._task.done() and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _unwrap(result: Any) -> Any:
    if isinstance(result, BaseException):
        raise result
    return result
