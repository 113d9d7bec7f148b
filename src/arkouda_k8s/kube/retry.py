"""How long to wait before trying a failed API call again.

Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff And Jitter"): the n-th
wait is uniform in [0, min(cap, base * 2**n)], so many clients that failed together do not come
back together. A 429 waits what Retry-After says (bounded), like client-go.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base: float = 0.1  # first wait bound, seconds: small, an API blip is usually short
    cap: float = 5.0  # longest single wait: keeps a recovering API noticed within seconds
    budget: float = 30.0  # default deadline of one call, retries included
    request_timeout: float = 10.0  # one HTTP request; a partitioned API must not hang us
    max_retry_after: float = 30.0  # never sleep longer than this on a server's Retry-After

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        bound = min(self.cap, self.base * (2 ** min(attempt, 30)))
        return (rng or random).uniform(0, bound)

    def retry_after(self, header: str | None, attempt: int) -> float:
        """Seconds to wait after a 429: Retry-After when given (seconds form), else backoff."""
        if header:
            try:
                return min(max(float(header), 0.0), self.max_retry_after)
            except ValueError:
                pass  # an HTTP-date Retry-After: fall back to our own backoff
        return self.backoff(attempt)
