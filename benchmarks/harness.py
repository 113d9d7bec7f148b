"""What every benchmark gets: the cluster, the run sizes, the RTT of this run, a work directory.

Sizes: `--runs N` (default 20) for every figure, except where fewer are enough and said so (the
N = 1000 discovery, the seed's 5-second polls, the idle window). `--smoke` shrinks everything so the
whole run takes well under a minute (for the test): the figures it gives mean nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arkouda_k8s.kube import KubeClient
from benchmarks.cluster import Cluster
from benchmarks.stats import Summary

NAMESPACE = "arkouda-bench"
SERVER_POD = "arkouda-bench-server-0"
SERVER_POD_IP = "10.244.200.1"  # data only: what the registrar publishes; nothing dials it
# The server pod carries the seed chart's label too: the seed's Service selects `app: arkouda-server`.
SERVER_LABELS = {"app": "arkouda-server", "app.kubernetes.io/name": "arkouda", "app.kubernetes.io/component": "server"}


@dataclass
class Session:
    cluster: Cluster
    runs: int
    smoke: bool
    workdir: Path
    namespace: str = NAMESPACE
    rtt_ms: float | None = None  # the median write round trip of this run: every ratio divides by it
    server_uid: str = ""
    _clients: list[KubeClient] = field(default_factory=list)

    @classmethod
    async def open(cls, cluster: Cluster, *, runs: int, smoke: bool, workdir: Path) -> Session:
        session = cls(cluster, runs, smoke, workdir)
        session.namespace = await cluster.namespace(NAMESPACE)
        uids = await cluster.create_pods(session.namespace, [SERVER_POD], SERVER_LABELS)
        session.server_uid = uids[SERVER_POD]
        await cluster.set_ready(session.namespace, [(SERVER_POD, SERVER_POD_IP)], 0)
        return session

    def fewer(self, full: int) -> int:
        """Runs of a slow figure: `full` (said in its module), never more than --runs, 2 at most in a smoke run."""
        return min(self.runs, 2 if self.smoke else full)

    async def client(self, user: str) -> KubeClient:
        kube = await self.cluster.client(user)
        self._clients.append(kube)
        return kube

    async def close(self) -> None:
        for kube in self._clients:
            await kube.close()
        self._clients.clear()

    def timing(self, summary: Summary) -> dict[str, Any]:
        """A Summary as results.json writes it, with its ratio to this run's RTT."""
        return summary.as_json(self.rtt_ms)
