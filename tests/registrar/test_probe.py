"""The registrar's real probe (ZmqProbe) waiting for a server that is not there yet."""

from __future__ import annotations

import asyncio

import pytest
import zmq
import zmq.asyncio

from arkouda_k8s.registrar import health
from arkouda_k8s.registrar.health import ZmqProbe
from arkouda_k8s.testing.pods import free_port


class Rep:
    """A server on 127.0.0.1:port that counts requests and answers like a 2021+ server, or swallows them
    (a ROUTER socket: it may leave a request unanswered and still receive the next one)."""

    def __init__(self, port: int, *, answer: bool) -> None:
        self.context = zmq.asyncio.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(f"tcp://127.0.0.1:{port}")
        self.answer = answer
        self.requests = 0
        self.task = asyncio.create_task(self._serve())

    async def _serve(self) -> None:
        while True:
            peer, empty, _request = await self.socket.recv_multipart()
            self.requests += 1
            if self.answer:
                await self.socket.send_multipart([peer, empty, b'{"msg": "{}", "msgType": "NORMAL", "user": "a"}'])

    async def close(self) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task
        self.socket.close(linger=0)
        self.context.term()


async def test_the_first_answer_comes_from_a_server_that_binds_later() -> None:
    port = free_port()
    probe = ZmqProbe("127.0.0.1", port, timeout=1.0)
    waiting = asyncio.create_task(probe.first_answer())
    await asyncio.sleep(0.3)
    assert not waiting.done()  # nothing listens: the request waits queued
    server = Rep(port, answer=True)
    try:
        await asyncio.wait_for(waiting, 10)
        assert server.requests == 1  # the queued request, delivered once the port was bound
    finally:
        await server.close()


async def test_an_unanswered_request_is_sent_again_on_a_fresh_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(health, "FIRST_ANSWER_ATTEMPT", 0.2)
    port = free_port()
    server = Rep(port, answer=False)
    probe = ZmqProbe("127.0.0.1", port, timeout=0.1)
    waiting = asyncio.create_task(probe.first_answer())
    try:
        for _ in range(100):
            if server.requests >= 2:
                break
            await asyncio.sleep(0.05)
        assert server.requests >= 2 and not waiting.done()
        server.answer = True
        await asyncio.wait_for(waiting, 10)
    finally:
        waiting.cancel()
        await server.close()
