"""The seed charts' values files (hokiegeek2/arkouda@k8s-enterprise, research/arkouda-seed.md §1),
rebuilt key for key, helm-create scaffolding included: a user's old values file must still install."""

from __future__ import annotations

from typing import Any

_SCAFFOLDING: dict[str, Any] = {
    "replicaCount": 1,
    "imagePullSecrets": [],
    "nameOverride": "",
    "fullnameOverride": "",
    "serviceAccount": {"create": True, "annotations": {}, "name": ""},
    "podAnnotations": {},
    "podSecurityContext": {},
    "securityContext": {},
    "service": {"type": "ClusterIP", "port": 80},
    "ingress": {"enabled": False, "className": "", "annotations": {}, "hosts": [], "tls": []},
    "resources": {},
    "autoscaling": {"enabled": False, "minReplicas": 1, "maxReplicas": 100, "targetCPUUtilizationPercentage": 80},
    "nodeSelector": {},
    "tolerations": [],
    "affinity": {},
}
# The scaffolding's `image: {repository: nginx}` is left out: the charts refuse it with a message
# (test_chart_values.py), since it would run nginx instead of arkouda.
_SCAFFOLDING.pop("resources")  # top-level resources is not a seed name the charts keep

_RESOURCES = {"limits": {"cpu": "2000m", "memory": "2048Mi"}, "requests": {"cpu": "2000m", "memory": "2048Mi"}}

_EXTERNAL: dict[str, Any] = {
    "persistence": {"enabled": False, "path": "/opt/locale", "hostPath": "/mnt/data/arkouda"},
    "certFile": "/etc/ssl/arkouda/tls.crt",
    "keyFile": "/etc/ssl/arkouda/tls.key",
    "k8sHost": None,  # `k8sHost:` with nothing after it
    "namespace": "arkouda",
    "externalServiceName": "arkouda",
    "externalServicePort": 5555,
    "externalServiceTargetPort": 5555,
}

# multilocale-dynamic-arkouda-locale-chart: server.numLocales was the number of locale pods there.
SEED_LOCALE: dict[str, Any] = {
    **_SCAFFOLDING,
    "releaseVersion": "0.4.5",
    "imagePullPolicy": "IfNotPresent",
    "server": {
        "port": 5555,
        "numLocales": 2,
        "authenticate": False,
        "verbose": False,
        "memTrack": True,
        "resources": _RESOURCES,
        "threadsPerLocale": 4,
        "metrics": {"collectMetrics": False, "service": {"name": "arkouda-metrics", "port": 5556, "targetPort": 5556}},
    },
    "external": _EXTERNAL,
}

# multilocale-dynamic-arkouda-server-chart: server.numLocales = locale pods + 1.
SEED_SERVER: dict[str, Any] = {
    **_SCAFFOLDING,
    "releaseVersion": "0.4.5",
    "imagePullPolicy": "IfNotPresent",
    "server": {
        "port": 5555,
        "numLocales": 3,
        "authenticate": False,
        "verbose": False,
        "memTrack": True,
        "resources": _RESOURCES,
        "threadsPerLocale": 4,
        "logLevel": "LogLevel.DEBUG",
        "metrics": {"collectMetrics": True, "service": {"name": "arkouda-metrics", "port": 5556, "targetPort": 5556}},
    },
    "external": {**_EXTERNAL, "persistence": {**_EXTERNAL["persistence"], "enabled": True}},
    "metricsServer": {
        "port": 5080,
        "arkoudaServerName": "arkouda-metrics",
        "pollingIntervalSeconds": 5,
        "dynamicScrapeTarget": True,
    },
}

# arkouda-server-chart (single locale).
SEED_SINGLE: dict[str, Any] = {
    "releaseVersion": "0.0.7",
    "imagePullPolicy": "IfNotPresent",
    "numServers": 1,
    "deployment": {"appName": "arkouda-server-smp", "serviceName": "arkouda-single-locale"},
    "server": {
        "host": "0.0.0.0",
        "port": 5555,
        "numLocales": 1,
        "authenticate": False,
        "verbose": False,
        "memTrack": True,
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}, "requests": {"cpu": "250m", "memory": "256Mi"}},
    },
}
