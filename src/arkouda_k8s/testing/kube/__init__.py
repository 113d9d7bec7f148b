"""An in-memory Kubernetes API server for tests and the demo: kube-apiserver 1.28, golden-checked.

    from arkouda_k8s.testing.kube import KubeEmulator

    async with KubeEmulator(tls=True, rbac=True) as emu:          # 127.0.0.1, a free port
        async with ApiClient(emu.configuration()) as api: ...      # admin (system:masters)
        emu.write_kubeconfig(path)                                 # for kubectl / helm / subprocesses
        await emu.create_pod("ns", "locale-0", labels={...})
        await emu.set_pod_ready("ns", "locale-0", ip="198.51.100.5")
        emu.faults.fail_next(2, verb="create", resource="endpointslices", status=503)
        emu.permissions_used("system:serviceaccount:ns:registrar")  # {(group, resource, verb)}

pytest fixtures (plugin `arkouda_k8s_kube`): `kube_emulator`, `kube_emulator_tls_rbac`, `kube_api`.
Standalone: `arkouda-k8s kube-emulator [--tls] [--rbac] [--token-auth-file F] [--kubeconfig-out F]`.

What it does like the real server (each checked by tests/kube_emulator, 57 exchanges replayed from a
real 1.28 server): discovery, OpenAPI v3 for kubectl, CRUD with defaulting, validation (422 causes),
generateName, one global resourceVersion, AlreadyExists vs Conflict, label/field selectors,
limit/continue, watch (resourceVersion, timeoutSeconds, bookmarks, ERROR 410 after compaction), merge /
JSON / strategic merge patch, server-side apply with conflicts, unknown fields by fieldValidation,
managedFields, graceful pod deletion, finalizers, ownerReferences garbage collection, namespace
lifecycle, endpoints/endpointslice controllers for Services with selectors, RBAC (including
escalation checks and impersonation), static tokens and service-account tokens, TLS.

Where it departs, on purpose or by scope:
- `allow_loopback_endpoints=True` (test only, off by default) admits 127.0.0.0/8 and ::1 endpoint
  addresses, which a real server rejects;
- v1 Endpoints requests carry the deprecation Warning of Kubernetes >= 1.33 (1.28 sends none);
- no scheduler, kubelet or workload controllers: Deployments and StatefulSets are stored, not run;
  pods change state through the helpers (`set_pod_ready`, `set_pod_phase`, `finish_pod_termination`);
- protobuf request bodies are read for the kinds kubectl's typed commands send (see protobuf.py);
  responses are always JSON; OpenAPI documents carry no schemas (`kubectl explain` does not work);
- unknown-field detection needs kubernetes-validate (a dev dependency); without it nothing is pruned.
"""

from arkouda_k8s.testing.kube.auth import TokenUser
from arkouda_k8s.testing.kube.emulator import EmulatorError, KubeEmulator
from arkouda_k8s.testing.kube.server import RequestRecord

__all__ = ["EmulatorError", "KubeEmulator", "RequestRecord", "TokenUser"]
