"""The endpoints controller's one duty that shows without selectors: a deleted Service takes its Endpoints.

kube-controller-manager deletes the Endpoints object named like a Service when that Service goes, even a
selector-less one whose Endpoints someone else wrote (kube-golden/053-054).
"""

from __future__ import annotations

import asyncio
import contextlib

from arkouda_k8s.testing.kube.api import Api
from arkouda_k8s.testing.kube.status import ApiError
from arkouda_k8s.testing.kube.store import Event


class EndpointsController:
    def __init__(self, api: Api) -> None:
        self.api = api
        api.store.on_change.append(self._changed)

    def _changed(self, event: Event) -> None:
        if event.store == ("", "services") and event.type == "DELETED":
            try:
                asyncio.get_running_loop().call_soon(self._delete_endpoints, event.key)
            except RuntimeError:
                self._delete_endpoints(event.key)

    def _delete_endpoints(self, key: tuple[str, str]) -> None:
        rt = self.api.registry.lookup("", "v1", "endpoints")
        assert rt is not None
        with contextlib.suppress(ApiError):  # nothing to delete
            self.api.delete(rt, key[0], key[1], {})
