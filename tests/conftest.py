"""Suite-wide guards."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_system_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test traffic stays on loopback: the resolver's cluster-DNS step must never reach the machine's
    nameserver from a test. Tests of that step inject a resolver (dns_resolver=...)."""

    async def refuse(host: str) -> list[str]:
        raise AssertionError(f"a test asked the system DNS for {host!r}: inject dns_resolver= instead")

    monkeypatch.setattr("arkouda_k8s.resolver.lookup.system_dns", refuse)
