"""Retries with exponential backoff. Scrapy's RetryMiddleware reschedules a failed request at
once; a struggling server deserves a pause, so each retry here waits base × 2^(attempt-1)
seconds (or the server's Retry-After), capped."""

from __future__ import annotations

import asyncio

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Request, Response

MAX_DELAY = 60.0


def backoff_delay(base: float, attempt: int, retry_after: str | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1, 2, ...)."""
    delay = base * 2 ** max(0, attempt - 1)
    if retry_after and retry_after.strip().isdigit():
        delay = max(delay, float(retry_after))
    return min(delay, MAX_DELAY)


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("CAREWATCH_RETRY_BACKOFF", 2.0)

    async def _wait(self, result, response: Response | None = None):
        if isinstance(result, Request) and self.base > 0:
            retry_after = response.headers.get("Retry-After") if response is not None else None
            delay = backoff_delay(
                self.base, result.meta.get("retry_times", 1), retry_after.decode("latin-1") if retry_after else None
            )
            await asyncio.sleep(delay)
        return result

    async def process_response(self, request, response, spider=None):
        return await self._wait(super().process_response(request, response), response)

    async def process_exception(self, request, exception, spider=None):
        return await self._wait(super().process_exception(request, exception))
