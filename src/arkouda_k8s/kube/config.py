"""Where the API is and who we are to it: in-cluster, kubeconfig, or K8S_HOST with a token or certificate.

Order, first that applies: K8S_HOST (the seed's explicit host with SSL_TOKEN / TOKEN_FILE or
CERT_FILE + KEY_FILE, CA from CACERT_FILE) → KUBECONFIG / --kubeconfig → the pod's service account
(in-cluster is detected from the service-account files, never from a DNS timeout) → ~/.kube/config.
TLS is always verified: a kubeconfig that asks to skip verification is refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from arkouda_k8s import logs
from arkouda_k8s.errors import SettingsError
from arkouda_k8s.kube.errors import NoCredentials
from arkouda_k8s.settings import bearer_token, dns1123_label

if TYPE_CHECKING:
    from kubernetes_asyncio.client import Configuration

    from arkouda_k8s.settings import Settings

SERVICEACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_KUBECONFIG = Path("~/.kube/config")


@dataclass
class ApiConfig:
    """How to reach the API; `configuration()` gives the kubernetes_asyncio Configuration."""

    host: str
    namespace: str  # the default namespace: ours in a pod, else the kubeconfig context's, else "default"
    source: str  # said in logs and errors: which credentials are in use
    in_cluster: bool = False
    ca_file: Path | None = None
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    user: str | None = None  # who we are, when known (service account), for error messages
    _loaded: Configuration | None = field(default=None, repr=False)

    def configuration(self) -> Configuration:
        from kubernetes_asyncio.client import Configuration

        if self._loaded is not None:
            cfg = self._loaded
        else:
            cfg = Configuration(host=self.host)
            cfg.ssl_ca_cert = str(self.ca_file) if self.ca_file else None
            if self.cert_file:
                cfg.cert_file = str(self.cert_file)
                cfg.key_file = str(self.key_file) if self.key_file else None
            if self.token:
                cfg.api_key = {"BearerToken": self.token}
                cfg.api_key_prefix = {"BearerToken": "Bearer"}
        cfg.verify_ssl = True
        if self.token_file is not None:
            cfg.refresh_api_key_hook = _TokenFileWatcher(self.token_file)
        return cfg


class _TokenFileWatcher:
    """Re-reads a token file when it changes (kubelet rotates projected service-account tokens)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seen: tuple[int, int] | None = None

    def __call__(self, cfg: Configuration) -> None:
        try:
            st = self.path.stat()
        except OSError:
            return  # keep the token we have; a 401 will say it is no longer good
        stamp = (st.st_mtime_ns, st.st_ino)
        if stamp != self.seen:
            self.seen = stamp
            token = read_token(self.path)
            cfg.api_key = {"BearerToken": token}
            cfg.api_key_prefix = {"BearerToken": "Bearer"}

    def force(self) -> None:
        self.seen = None


def read_token(path: Path) -> str:
    """A bearer token from its file; SettingsError when the file holds something else."""
    token = path.read_text().strip()
    logs.register_secret(token)
    try:
        return bearer_token(token)
    except ValueError as rule:
        raise SettingsError(f"invalid token file {str(path)!r}: {rule}") from None


async def load_api_config(
    settings: Settings,
    *,
    serviceaccount_dir: Path = SERVICEACCOUNT_DIR,
    environ: Mapping[str, str] | None = None,
) -> ApiConfig:
    """The API configuration these settings describe; NoCredentials when there is none."""
    environ = os.environ if environ is None else environ
    sa = _ServiceAccount(serviceaccount_dir, environ)
    if settings.k8s_host:
        config = _explicit_host(settings, sa)
    elif settings.kubeconfig:
        config = await _kubeconfig(
            Path(settings.kubeconfig),
            settings.context,
            sa,
            settings.source.get("kubeconfig"),
            settings.source.get("context"),
        )
    elif sa.available:
        config = sa.config()
    elif (default := DEFAULT_KUBECONFIG.expanduser()).is_file():  # noqa: ASYNC240  (one stat, at start)
        config = await _kubeconfig(default, settings.context, sa, "~/.kube/config")
    else:
        raise NoCredentials(
            "no Kubernetes API credentials: not in a pod with a service account "
            f"({serviceaccount_dir}/token), no KUBECONFIG, no ~/.kube/config and no K8S_HOST"
        )
    if settings.namespace:
        config.namespace = settings.namespace
    return config


class _ServiceAccount:
    def __init__(self, directory: Path, environ: Mapping[str, str]) -> None:
        self.directory = directory
        self.host = environ.get("KUBERNETES_SERVICE_HOST", "")
        self.port = environ.get("KUBERNETES_SERVICE_PORT", "443")
        self.token_file = directory / "token"
        self.namespace_file = directory / "namespace"
        self.ca_file = directory / "ca.crt"

    @property
    def available(self) -> bool:
        return bool(self.host) and self.token_file.is_file()

    @property
    def namespace(self) -> str | None:
        try:
            return self.namespace_file.read_text().strip() or None
        except OSError:
            return None

    def config(self) -> ApiConfig:
        host = self.host if ":" not in self.host else f"[{self.host}]"  # IPv6 service host
        namespace = self.namespace or "default"
        return ApiConfig(
            host=f"https://{host}:{self.port}",
            namespace=namespace,
            source=f"in-cluster service account ({self.directory})",
            in_cluster=True,
            ca_file=self.ca_file if self.ca_file.is_file() else None,
            token=read_token(self.token_file),
            token_file=self.token_file,
        )


def _explicit_host(settings: Settings, sa: _ServiceAccount) -> ApiConfig:
    token_file = settings.token_file
    token = settings.ssl_token
    if token:
        logs.register_secret(token)
    if token_file:
        token = read_token(Path(token_file))
    if not token and not settings.cert_file:
        raise SettingsError(
            f"K8S_HOST={settings.k8s_host!r} needs credentials: set TOKEN_FILE (or SSL_TOKEN), "
            "or CERT_FILE and KEY_FILE"
        )
    if settings.cert_file and not settings.key_file:
        raise SettingsError("CERT_FILE is set without KEY_FILE: give the client certificate's private key too")
    return ApiConfig(
        host=str(settings.k8s_host),
        namespace=sa.namespace or "default",
        source=f"K8S_HOST {settings.k8s_host}",
        in_cluster=sa.available,
        ca_file=settings.cacert_file,
        token=token,
        token_file=Path(token_file) if token_file else None,
        cert_file=settings.cert_file,
        key_file=settings.key_file,
    )


async def _kubeconfig(
    path: Path, context: str | None, sa: _ServiceAccount, named_by: str | None, context_named_by: str | None = None
) -> ApiConfig:
    import yaml
    from kubernetes_asyncio.client import Configuration
    from kubernetes_asyncio.config import ConfigException, kube_config

    where = f"{named_by or 'kubeconfig'}={str(path)!r}"
    cfg = Configuration()
    try:
        # Parsed once, with libyaml when it is there: the resolver reads it on every call.
        text = path.read_text()  # noqa: ASYNC240  (a small local file, read once at start)
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
        if not isinstance(document, dict):
            raise ConfigException("not a YAML mapping")
        listed = [c for c in document.get("contexts") or [] if isinstance(c, dict)]
        if context and not any(c.get("name") == context for c in listed):
            names = ", ".join(str(c.get("name")) for c in listed) or "none"
            raise SettingsError(
                f"invalid {context_named_by or 'KUBE_CONTEXT'}={context!r}: {path} has no such context "
                f"(it has: {names})"
            )
        loader = kube_config.KubeConfigLoader(
            config_dict=document, active_context=context, config_base_path=str(path.parent)
        )
        contexts, active = loader.list_contexts(), loader.current_context
        await loader.load_and_set(cfg)
    except SettingsError:
        raise
    except ConfigException as bad:
        raise SettingsError(f"invalid {where}: {bad}") from None
    except Exception as bad:  # yaml errors, wrong shapes: a kubeconfig we cannot use
        raise SettingsError(f"invalid {where}: not a usable kubeconfig ({type(bad).__name__}: {bad})") from None
    if not cfg.verify_ssl:
        raise SettingsError(
            f"invalid {where}: its cluster sets insecure-skip-tls-verify; arkouda-k8s always verifies the API "
            "server's certificate: give certificate-authority or certificate-authority-data instead"
        )
    if not str(cfg.host or "").startswith(("https://", "http://")):
        raise SettingsError(
            f"invalid {where}: its cluster's server is {cfg.host!r}, not the API server's URL "
            "(like https://10.0.0.1:6443)"
        )
    chosen: dict[str, Any] = active or {}
    if context:
        chosen = next((c for c in contexts if c.get("name") == context), {})
    context_ns = (chosen.get("context") or {}).get("namespace")
    if context_ns:
        try:
            dns1123_label(str(context_ns))
        except ValueError as rule:
            raise SettingsError(
                f"invalid {where}: context {chosen.get('name')!r} has namespace {context_ns!r}, which {rule}"
            ) from None
    ns = sa.namespace or context_ns or "default"
    token = (cfg.api_key or {}).get("BearerToken") or (cfg.api_key or {}).get("authorization")
    if token:
        logs.register_secret(str(token).removeprefix("Bearer "))
    user = (chosen.get("context") or {}).get("user")
    return ApiConfig(
        host=str(cfg.host),
        namespace=ns,
        source=f"kubeconfig {path} (context {chosen.get('name', '?')})",
        in_cluster=sa.available,
        user=str(user) if user else None,
        _loaded=cfg,
    )
