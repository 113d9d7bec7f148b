"""Work around a leaked event loop (to be fixed for the whole suite in arkouda_k8s.testing.pytest_plugin).

looptime's pytest_pyfunc_call hook asks the event-loop policy for the current loop in every test,
sync ones included. Before anything has set a loop, Python 3.11's policy then *creates* one, which
nobody closes: once a later async test replaces it, it is collected with "ResourceWarning: unclosed
event loop", and with -W error the session ends with exit code 1 although every test passed.
Saying "no current loop" once makes the policy raise instead, which looptime expects and ignores.
"""

from __future__ import annotations

import asyncio

import pytest


def pytest_configure(config: pytest.Config) -> None:
    asyncio.set_event_loop(None)
