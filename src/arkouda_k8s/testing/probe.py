"""SwitchProbe: arkouda_server's answers as a switch, for tests of the registrar without a server.

probe = SwitchProbe()                    # answering
registrar = Registrar(settings, kube, pod, probe=probe)
probe.answering = False                  # every check now fails: the endpoint turns not ready
"""

from __future__ import annotations

import asyncio

from arkouda_k8s.registrar.health import ServerNotAnswering


class SwitchProbe:
    """A registrar probe (`registrar.health.ServerProbe`) whose server answers while `answering` is true."""

    def __init__(self, answering: bool = True) -> None:
        self.event = asyncio.Event()
        self.answering = answering
        self.checks = 0

    @property
    def answering(self) -> bool:
        return self.event.is_set()

    @answering.setter
    def answering(self, value: bool) -> None:
        if value:
            self.event.set()
        else:
            self.event.clear()

    async def first_answer(self) -> None:
        await self.event.wait()

    async def check(self) -> float:
        self.checks += 1
        if not self.answering:
            raise ServerNotAnswering("fake server: not answering")
        return 0.001
