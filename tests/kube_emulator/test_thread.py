"""The emulator from synchronous code: its own loop in a background thread."""

from __future__ import annotations

import json
import urllib.request

from arkouda_k8s.testing.kube import KubeEmulator


def test_start_in_thread_serves_synchronous_callers() -> None:
    emulator = KubeEmulator().start_in_thread()
    try:
        emulator.run(emulator.create_pod("default", "p", labels={"app": "x"}))
        emulator.run(emulator.set_pod_ready("default", "p", ip="198.51.100.9"))
        assert emulator.url.startswith("http://127.0.0.1:")
        request = urllib.request.Request(  # noqa: S310 - the loopback emulator's http URL
            emulator.url + "/api/v1/namespaces/default/pods?labelSelector=app%3Dx",
            headers={"Authorization": f"Bearer {emulator.admin_token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback emulator URL
            pods = json.load(response)
        assert [p["status"]["podIP"] for p in pods["items"]] == ["198.51.100.9"]
    finally:
        emulator.stop_in_thread()
