"""An in-memory Kubernetes API server for tests and the demo (kube-apiserver 1.28, golden-checked).

`KubeEmulator` is the public face; `TokenUser` declares identities (kube-apiserver's token file);
`RequestRecord` is one entry of `emulator.request_log`. See `emulator.py` for the whole API.
"""

from arkouda_k8s.testing.kube.auth import TokenUser
from arkouda_k8s.testing.kube.emulator import EmulatorError, KubeEmulator
from arkouda_k8s.testing.kube.server import RequestRecord

__all__ = ["EmulatorError", "KubeEmulator", "RequestRecord", "TokenUser"]
