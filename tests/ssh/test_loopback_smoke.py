"""The loopback_hosts fixture starts real sshd "pods" that a pinned ssh reaches."""

from __future__ import annotations

import subprocess

from arkouda_k8s.testing.loopback import LoopbackHosts


async def test_three_hosts_answer_a_pinned_ssh(loopback_hosts: LoopbackHosts) -> None:
    hosts = await loopback_hosts(3)
    assert len({h.address for h in hosts}) == 3
    for host in hosts:
        done = subprocess.run(
            loopback_hosts.client.ssh_command(host.address, "echo", "ok"),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert (done.returncode, done.stdout) == (0, "ok\n"), done.stderr
