"""The startup banner of each era, line for line.

2020.7.7 (recorded: ../arkouda-golden/server-2020.json): five plain lines ending with
`server listening on <hostname>:<port>` — no `tcp://`.
2021+: the boxed splash of arkouda_server.chpl's printServerSplashMessage, whose centre line is
`server listening on tcp://<hostname>:<port>` or `…?token=<token>` with --authenticate.
"""

from __future__ import annotations


def banner_2020(*, version: str, hostname: str, port: int, mem_track: bool, mem_limit: int, mem_used: int) -> list[str]:
    lines = [f"arkouda server version = {version}", f"memory tracking = {str(mem_track).lower()}"]
    if mem_track:
        lines += [f"getMemLimit() = {mem_limit}", f"bytes of memoryUsed() = {mem_used}"]
    return [*lines, f"server listening on {hostname}:{port}"]


def connect_url(hostname: str, port: int, token: str | None) -> str:
    return f"tcp://{hostname}:{port}?token={token}" if token else f"tcp://{hostname}:{port}"


def banner_2021(
    *, version: str, hostname: str, port: int, token: str | None, mem_track: bool, mem_limit: int, mem_used: int
) -> list[str]:
    def even(text: str) -> str:
        return text + " " if len(text) % 2 else text

    def padding(longer: str, shorter: str) -> str:
        return " " * ((len(longer) - len(shorter)) // 2 - 1)

    pad = " " * 25
    server = f"{pad} {even('server listening on ' + connect_url(hostname, port, token))} {pad}"

    def boxed(text: str) -> str:
        space = padding(server, text)
        return f"*{space} {even(text)} {space}*"

    tag = "*" * (len(server) + 2)
    blank = "*" + " " * len(server) + "*"
    lines = ["", "", tag, tag, blank, f"*{server}*", boxed(f"arkouda server version = {version}")]
    if mem_track:
        lines += [boxed(f"memory limit = {mem_limit}"), boxed(f"bytes of memory used = {mem_used}")]
    return [*lines, blank, tag, tag, "", ""]
