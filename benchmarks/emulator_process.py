"""The API emulator in a process of its own, as a real API server is: `python -m benchmarks.emulator_process`.

Sharing the benchmark's process (or its GIL) would charge the server's work to the client figures. The
parent drives it over stdin/stdout, one JSON line per command and one per answer:

    {"op": "set_ready", "args": {...}}   →   {"ok": <result>}  or  {"error": "<what went wrong>"}

The emulator serves HTTPS with a generated CA and RBAC on (as a real cluster does), and admits
loopback endpoint addresses (its one test-only switch) so the resolver can connect to a loopback
stand-in. The kubelet's side (pods turning Running and Ready) runs here, in the emulator's loop: "all
at once" is then one loop tick, and the time of the last write is taken where the write happens
(CLOCK_MONOTONIC is system-wide, so the parent compares it with its own time.monotonic()).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from arkouda_k8s import logs
from arkouda_k8s.testing.kube import KubeEmulator

Op = Callable[[KubeEmulator, dict[str, Any]], Coroutine[Any, Any, Any]]
SYSTEM_MASTERS = ("system:masters",)


async def _url(emu: KubeEmulator, _args: dict[str, Any]) -> str:
    return emu.url


async def _identity(emu: KubeEmulator, args: dict[str, Any]) -> str:
    """A kubeconfig for a user of its own (an admin: RBAC is not what is measured), to count its requests."""
    token = f"bench-{args['user']}-{random.getrandbits(64):016x}"
    emu.add_token(token, args["user"], groups=SYSTEM_MASTERS)
    return str(emu.write_kubeconfig(Path(args["path"]), token=token, namespace=args.get("namespace")))


async def _namespace(emu: KubeEmulator, args: dict[str, Any]) -> None:
    await emu.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args["name"]}})


async def _create_pods(emu: KubeEmulator, args: dict[str, Any]) -> dict[str, str]:
    uids = {}
    for name in args["names"]:
        pod = await emu.create_pod(args["namespace"], name, labels=args["labels"])
        uids[name] = pod["metadata"]["uid"]
    return uids


async def _set_ready(emu: KubeEmulator, args: dict[str, Any]) -> float:
    """Pods turn Running + Ready with their IP; all in one tick (spread 0) or at random times over `spread` s."""
    namespace, pods, spread = args["namespace"], args["pods"], float(args["spread"])
    if spread <= 0:
        for name, ip in pods:
            await emu.set_pod_ready(namespace, name, ip=ip)  # never suspends: every write lands in this tick
        return time.monotonic()
    loop = asyncio.get_running_loop()
    start = loop.time()
    for at, (name, ip) in sorted(zip((random.uniform(0, spread) for _ in pods), pods, strict=True)):
        await asyncio.sleep(max(0.0, start + at - loop.time()))
        await emu.set_pod_ready(namespace, name, ip=ip)
    return time.monotonic()


async def _delete_pods(emu: KubeEmulator, args: dict[str, Any]) -> None:
    for name in args["names"]:
        await emu.delete_pod(args["namespace"], name, grace_period_seconds=0)


async def _mark(emu: KubeEmulator, _args: dict[str, Any]) -> int:
    return len(emu.request_log)


async def _requests(emu: KubeEmulator, args: dict[str, Any]) -> list[dict[str, Any]]:
    """Requests of one user since a mark. A watch is logged when it ends (the log is written after the answer)."""
    return [
        {
            "verb": r.verb,
            "resource": r.resource + (f"/{r.subresource}" if r.subresource else ""),
            "status": r.status,
            "time": r.time,
            "path": r.path,
        }
        for r in emu.request_log[int(args["since"]) :]
        if r.user == args["user"]
    ]


OPS: dict[str, Op] = {
    "url": _url,
    "identity": _identity,
    "namespace": _namespace,
    "create_pods": _create_pods,
    "set_ready": _set_ready,
    "delete_pods": _delete_pods,
    "mark": _mark,
    "requests": _requests,
}


def main() -> int:
    logs.configure("warning", "json", stream=sys.stderr)
    emu = KubeEmulator(tls=True, rbac=True, allow_loopback_endpoints=True)
    emu.start_in_thread()
    try:
        print(json.dumps({"ok": emu.url}), flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            command = json.loads(line)
            try:
                result: Any = emu.run(OPS[command["op"]](emu, command.get("args") or {}), timeout=600)
            except Exception as failed:  # the parent raises it, naming the command
                answer = {"error": f"{type(failed).__name__}: {failed}"}
            else:
                answer = {"ok": result}
            print(json.dumps(answer), flush=True)
    finally:
        emu.stop_in_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
