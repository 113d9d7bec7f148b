"""pytest fixtures of the Kubernetes API emulator (entry point `arkouda_k8s_kube`).

- `kube_emulator`: a running emulator over HTTP, RBAC off, loopback endpoint addresses admitted
  (the test-only switch our loopback "pods" need);
- `kube_emulator_tls_rbac`: HTTPS with a generated CA, RBAC on, loopback addresses refused as on a
  real cluster;
- `kube_api`: (the `kube_emulator`, a kubernetes_asyncio ApiClient configured for it as admin).

All are function-scoped. Imports stay inside the fixtures: this module is loaded by every pytest run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest_asyncio

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

    from arkouda_k8s.testing.kube.emulator import KubeEmulator


@pytest_asyncio.fixture
async def kube_emulator() -> AsyncIterator[KubeEmulator]:
    from arkouda_k8s.testing.kube.emulator import KubeEmulator

    async with KubeEmulator(allow_loopback_endpoints=True) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def kube_emulator_tls_rbac() -> AsyncIterator[KubeEmulator]:
    from arkouda_k8s.testing.kube.emulator import KubeEmulator

    async with KubeEmulator(tls=True, rbac=True) as emulator:
        yield emulator


@pytest_asyncio.fixture
async def kube_api(kube_emulator: KubeEmulator) -> AsyncIterator[tuple[KubeEmulator, ApiClient]]:
    from kubernetes_asyncio.client import ApiClient

    async with ApiClient(kube_emulator.configuration()) as api:
        yield kube_emulator, api
