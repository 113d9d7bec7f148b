"""arkouda-k8s: run arkouda_server on Kubernetes and connect to it by Service name.

    import arkouda_k8s
    arkouda_k8s.connect("arkouda")      # finds the server, waits for it, calls arkouda.connect

Importing this package is cheap: the Kubernetes client, pyzmq and arkouda load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arkouda_k8s.resolver.api import Endpoint, aconnect, aresolve, connect, resolve

__all__ = ["Endpoint", "__version__", "aconnect", "aresolve", "connect", "resolve"]

_RESOLVER_NAMES = frozenset({"Endpoint", "aconnect", "aresolve", "connect", "resolve"})


def __getattr__(name: str) -> Any:
    # PEP 562: load the resolver (and with it kubernetes_asyncio) only when it is used.
    if name in _RESOLVER_NAMES:
        from arkouda_k8s.resolver import api

        return getattr(api, name)
    if name == "__version__":
        from importlib.metadata import version

        return version("arkouda-k8s")
    raise AttributeError(f"module 'arkouda_k8s' has no attribute {name!r}")
