"""The stand-in's test knobs: environment variables named ARKOUDA_STANDIN_*, never flags.

They are environment variables on purpose: the command line stays exactly the real one (a flag the
real arkouda_server does not know would be an "Unexpected flag" error), and tests reach a stand-in
launched by an entrypoint through the launch environment, which passes ARKOUDA_* on.

- ARKOUDA_STANDIN_PROTOCOL: the era imitated. `2020`: plain strings only, exactly the real 2020.7.7
  server (a JSON request is an unrecognized command); `2021`: JSON only; `both` (default): a JSON
  request gets a 2021 reply, anything else a 2020 one.
- ARKOUDA_STANDIN_HOSTNAME: the host name the server reports (banner, connection-info file,
  getconfig's serverHostname and locale 0's name); default: this machine's.
- ARKOUDA_STANDIN_BIND_DELAY: seconds to wait, once the locales are up, before binding (default 0).
- ARKOUDA_STANDIN_CRASH_AFTER: seconds after the banner at which the server crashes: it dies of
  ARKOUDA_STANDIN_CRASH_SIGNAL (default SEGV, exit status 139, like a crashing Chapel program;
  KILL, ABRT… also work) and cleans nothing up (the connection-info file stays).
- ARKOUDA_STANDIN_FREEZE_AFTER: seconds after the banner at which the server stops answering (still
  running, still bound: a hung server).
- ARKOUDA_STANDIN_VERSION: the arkoudaVersion it reports (default 2020.07.07 on the plain wire, like
  the recorded server, and 2021.07.29 on JSON).
- ARKOUDA_STANDIN_BIND: more loopback addresses to listen on besides 127.0.0.1 and a loopback
  GASNET_MASTERIP (comma- or space-separated; `*` = every interface like the real server, which
  tests here must not use).
- ARKOUDA_STANDIN_RECORD: a file where the server writes, once its locales are up, what it and each
  locale received: argv and environment (server.write_record).
"""

from __future__ import annotations

import ipaddress
import math
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Era(StrEnum):
    PLAIN = "2020"
    JSON = "2021"
    BOTH = "both"


class KnobError(ValueError):
    """A test knob has a bad value; the message names the variable and the rule."""


PREFIX = "ARKOUDA_STANDIN_"
VERSION_2020 = "2020.07.07"
VERSION_2021 = "2021.07.29"


@dataclass(frozen=True)
class Knobs:
    era: Era = Era.BOTH
    hostname: str | None = None
    bind_delay: float = 0.0
    crash_after: float | None = None
    crash_signal: signal.Signals = signal.SIGSEGV
    freeze_after: float | None = None
    version: str | None = None
    bind: tuple[str, ...] = ()
    record: str | None = None

    def arkouda_version(self, era: Era) -> str:
        if self.version:
            return self.version
        return VERSION_2021 if era is Era.JSON else VERSION_2020


def _seconds(name: str, raw: str, *, allow_zero: bool) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if math.isnan(value) or math.isinf(value) or value < 0 or (value == 0 and not allow_zero):
        rule = "a number of seconds of at least 0" if allow_zero else "a number of seconds greater than 0"
        raise KnobError(f"invalid {name}={raw!r}: must be {rule}")
    return value


def _signal(name: str, raw: str) -> signal.Signals:
    text = raw.strip().upper().removeprefix("SIG")
    try:
        return signal.Signals[f"SIG{text}"] if not text.isdigit() else signal.Signals(int(text))
    except (KeyError, ValueError):
        raise KnobError(f"invalid {name}={raw!r}: must be a signal name such as SEGV, KILL or ABRT") from None


def _addresses(name: str, raw: str) -> tuple[str, ...]:
    found: list[str] = []
    for word in raw.replace(",", " ").split():
        if word == "*":
            found.append(word)
            continue
        try:
            address = ipaddress.ip_address(word.strip("[]"))
        except ValueError:
            raise KnobError(f"invalid {name}: {word!r} is not an IP address (or '*')") from None
        if not address.is_loopback:
            raise KnobError(
                f"invalid {name}: {word!r} is not a loopback address; the stand-in listens on loopback only"
            )
        found.append(str(address))
    return tuple(found)


def load(environ: Mapping[str, str] | None = None) -> Knobs:
    env = os.environ if environ is None else environ

    def get(short: str) -> str | None:
        value = env.get(PREFIX + short, "").strip()
        return value or None

    raw_era = get("PROTOCOL") or Era.BOTH.value
    try:
        era = Era(raw_era.lower())
    except ValueError:
        raise KnobError(f"invalid {PREFIX}PROTOCOL={raw_era!r}: must be 2020, 2021 or both") from None
    delay = get("BIND_DELAY")
    crash = get("CRASH_AFTER")
    crash_signal = get("CRASH_SIGNAL")
    freeze = get("FREEZE_AFTER")
    bind = get("BIND")
    return Knobs(
        era=era,
        hostname=get("HOSTNAME"),
        bind_delay=_seconds(PREFIX + "BIND_DELAY", delay, allow_zero=True) if delay else 0.0,
        crash_after=_seconds(PREFIX + "CRASH_AFTER", crash, allow_zero=True) if crash else None,
        crash_signal=_signal(PREFIX + "CRASH_SIGNAL", crash_signal) if crash_signal else signal.SIGSEGV,
        freeze_after=_seconds(PREFIX + "FREEZE_AFTER", freeze, allow_zero=True) if freeze else None,
        version=get("VERSION"),
        bind=_addresses(PREFIX + "BIND", bind) if bind else (),
        record=get("RECORD"),
    )
