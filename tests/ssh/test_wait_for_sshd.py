"""wait_for_sshd: an ssh banner within the deadline, or an error naming host:port and what was seen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from arkouda_k8s.entrypoints.ssh import SshdUnreachableError, wait_for_sshd
from arkouda_k8s.errors import ExitCode
from arkouda_k8s.testing.loopback import LoopbackHosts

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def fake_server(loopback_hosts: LoopbackHosts) -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serve a handler on a loopback address of this test's own, port 2222; returns the address."""
    servers: list[asyncio.Server] = []

    async def serve(handler: Handler) -> str:
        address = loopback_hosts.unreachable()  # reserved for this test, nothing listens there yet
        servers.append(await asyncio.start_server(handler, address, 2222))
        return address

    yield serve
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_a_real_sshd_is_recognised(loopback_hosts: LoopbackHosts) -> None:
    (host,) = await loopback_hosts(1)
    await wait_for_sshd(host.address, host.port, timeout=5)  # raises if not


async def test_an_sshd_that_starts_late_is_waited_for(loopback_hosts: LoopbackHosts) -> None:
    nowhere = loopback_hosts.unreachable()
    waiting = asyncio.create_task(wait_for_sshd(nowhere, 2222, timeout=20))

    async def banner(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n")
        await writer.drain()
        writer.close()

    await asyncio.sleep(0.3)
    assert not waiting.done()  # refused so far, still waiting
    server = await asyncio.start_server(banner, nowhere, 2222)
    try:
        await waiting
    finally:
        server.close()
        await server.wait_closed()


async def test_refused_until_the_deadline(loopback_hosts: LoopbackHosts) -> None:
    nowhere = loopback_hosts.unreachable()
    with pytest.raises(SshdUnreachableError) as caught:
        await wait_for_sshd(nowhere, 2222, timeout=0.5)
    message = str(caught.value)
    assert f"no sshd answered on {nowhere}:2222 within 0.5 s" in message
    assert "last attempt: connection refused" in message
    assert caught.value.exit_code == ExitCode.LAUNCH_FAILED


async def test_a_silent_listener_times_out(fake_server: Callable[[Handler], Awaitable[str]]) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # says nothing until the prober hangs up
        writer.close()

    address = await fake_server(silent)
    with pytest.raises(SshdUnreachableError, match=rf"on {address}:2222 within 0\.5 s: last attempt: timed out"):
        await wait_for_sshd(address, 2222, timeout=0.5)


async def test_a_listener_that_hangs_up_at_once(fake_server: Callable[[Handler], Awaitable[str]]) -> None:
    async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    address = await fake_server(hang_up)
    with pytest.raises(SshdUnreachableError, match="last attempt: connection closed before the ssh banner"):
        await wait_for_sshd(address, 2222, timeout=0.5)


async def test_something_else_on_the_port_stops_at_once(fake_server: Callable[[Handler], Awaitable[str]]) -> None:
    async def http(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    address = await fake_server(http)
    with pytest.raises(SshdUnreachableError) as caught:
        await wait_for_sshd(address, 2222, timeout=30)  # does not wait for the deadline
    message = str(caught.value)
    assert f"{address}:2222 answered but is not an ssh server (first bytes b'HTTP/1.1 400 Bad Request" in message
    assert "another program holds the port" in message
