"""Who is asking: bearer tokens mapped to users, groups and service accounts.

Static tokens use kube-apiserver's `--token-auth-file` format (`token,user,uid,"group1,group2"`),
so the identities of the golden recording (an admin in system:masters, user alice in group
developers) are declared the same way. Service-account tokens are JWT-shaped (signed with a key
that only the emulator knows) and name `system:serviceaccount:<namespace>:<name>`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from arkouda_k8s import logs


@dataclass(frozen=True)
class TokenUser:
    """One line of a static token file."""

    token: str = field(repr=False)
    user: str
    uid: str = ""
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Identity:
    user: str
    groups: tuple[str, ...] = ()
    uid: str = ""

    @property
    def is_master(self) -> bool:
        return "system:masters" in self.groups


ANONYMOUS = Identity("system:anonymous", ("system:unauthenticated",))


class TokenFileError(ValueError):
    """A token file line that kube-apiserver would refuse too."""


def parse_token_file(text: str, source: str = "token file") -> list[TokenUser]:
    users: list[TokenUser] = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or (len(row) == 1 and not row[0].strip()) or row[0].startswith("#"):
            continue
        if len(row) < 3:
            raise TokenFileError(
                f'{source} line {number}: needs at least 3 columns (token,user,uid[,"group1,group2"]), got {len(row)}'
            )
        token, user, uid = (c.strip() for c in row[:3])
        groups = tuple(g.strip() for g in row[3].split(",") if g.strip()) if len(row) > 3 else ()
        if not token or not user:
            raise TokenFileError(f"{source} line {number}: the token and the user name must not be empty")
        users.append(TokenUser(token, user, uid, groups))
    return users


def read_token_file(path: Path) -> list[TokenUser]:
    return parse_token_file(path.read_text(), str(path))


def token_file_line(user: TokenUser) -> str:
    groups = ",".join(user.groups)
    return f'{user.token},{user.user},{user.uid},"{groups}"'


class Authenticator:
    def __init__(self) -> None:
        self._tokens: dict[str, TokenUser] = {}
        self._signing_key = secrets.token_bytes(32)
        self._sa_tokens: dict[str, Identity] = {}

    def add(self, user: TokenUser) -> None:
        logs.register_secret(user.token)
        self._tokens[user.token] = user

    def remove(self, token: str) -> None:
        self._tokens.pop(token, None)
        self._sa_tokens.pop(token, None)

    def rotate(self, old: str) -> str:
        """A new token for the same identity; the old one answers 401 from now on."""
        new = new_token()
        logs.register_secret(new)
        if old in self._tokens:
            user = self._tokens.pop(old)
            self._tokens[new] = TokenUser(new, user.user, user.uid, user.groups)
        elif old in self._sa_tokens:
            self._sa_tokens[new] = self._sa_tokens.pop(old)
        else:
            raise KeyError("rotate_token: that token is not known to the emulator (was it already rotated?)")
        return new

    def service_account_token(self, namespace: str, name: str, uid: str = "") -> str:
        now = int(time.time())
        claims = {
            "iss": "https://kubernetes.default.svc.cluster.local",
            "sub": f"system:serviceaccount:{namespace}:{name}",
            "aud": ["https://kubernetes.default.svc.cluster.local"],
            "iat": now,
            "nbf": now,
            "exp": now + 3600 * 24 * 365,
            "jti": secrets.token_hex(8),
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
        }
        token = self._sign(claims)
        logs.register_secret(token)
        self._sa_tokens[token] = Identity(
            f"system:serviceaccount:{namespace}:{name}",
            ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"),
            uid,
        )
        return token

    def _sign(self, claims: dict[str, object]) -> str:
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).decode().rstrip("=")

        header = b64(json.dumps({"alg": "HS256", "kid": "arkouda-k8s-emulator"}).encode())
        payload = b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{b64(signature)}"

    def authenticate(self, authorization: str | None) -> Identity | None:
        """The caller's identity; anonymous without a token; None (401) for a token nobody issued."""
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if token in self._sa_tokens:
            return self._sa_tokens[token]
        user = self._tokens.get(token)
        if user is None:
            return None
        groups = user.groups if "system:authenticated" in user.groups else (*user.groups, "system:authenticated")
        return Identity(user.user, groups, user.uid)


def new_token() -> str:
    return secrets.token_urlsafe(32)
