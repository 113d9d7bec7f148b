"""The value variants every chart is rendered with (each must render and validate)."""

from __future__ import annotations

from typing import Any

from chartkit import LOCALE, MULTI, SINGLE, UMBRELLA
from seed_values import SEED_LOCALE, SEED_SERVER, SEED_SINGLE

Values = dict[str, Any]

_METRICS: Values = {"server": {"metrics": {"collectMetrics": True}}}
_METRICS_OWN_SERVICE: Values = {"server": {"metrics": {"collectMetrics": True, "service": {"name": "arkouda-metrics"}}}}
_HOSTPATH: Values = {"external": {"persistence": {"enabled": True, "type": "hostPath", "hostPath": "/mnt/arkouda"}}}
_PVC: Values = {
    "external": {"persistence": {"enabled": True, "type": "pvc", "size": "50Gi", "storageClassName": "nfs"}}
}
_PVC_EXISTING: Values = {"external": {"persistence": {"enabled": True, "type": "pvc", "existingClaim": "shared-data"}}}
_EXISTING_SSH: Values = {"ssh": {"existingSecret": "my-ssh-key"}}
_ENDPOINTS_BOTH: Values = {"registrar": {"endpointsApi": "both"}}
_ENDPOINTS_ONLY: Values = {"registrar": {"endpointsApi": "endpoints"}}
_K8S_HOST: Values = {
    "external": {
        "k8sHost": "https://198.51.100.1:6443",
        "tlsSecret": "arkouda-server",
        "cacertFile": "/etc/ssl/arkouda/ca.crt",
    }
}
_OWN_SERVICE_ACCOUNT: Values = {"rbac": {"create": False}, "serviceAccount": {"create": False, "name": "arkouda-admin"}}

VARIANTS: dict[str, dict[str, Values]] = {
    SINGLE: {
        "defaults": {},
        "metrics": _METRICS,
        "metrics-own-service": _METRICS_OWN_SERVICE,
        "persistence-hostpath": _HOSTPATH,
        "persistence-pvc": _PVC,
        "persistence-existing-claim": _PVC_EXISTING,
        "endpoints-both": _ENDPOINTS_BOTH,
        "loadbalancer": {"external": {"serviceType": "LoadBalancer", "serviceAnnotations": {"a/b": "c"}}},
        "headless": {"external": {"headless": True}},
        "k8s-host": _K8S_HOST,
        "health-port-off": {"registrar": {"healthPort": 0}},
        "own-service-account": _OWN_SERVICE_ACCOUNT,
        "seed-values": SEED_SINGLE,
    },
    LOCALE: {
        "defaults": {},
        "persistence-hostpath": _HOSTPATH,
        "persistence-pvc": _PVC,
        "persistence-existing-claim": _PVC_EXISTING,
        "existing-ssh-secret": _EXISTING_SSH,
        "one-locale": {"server": {"numLocales": 1}},
        "eight-locales-hard-spread": {"server": {"numLocales": 8}, "podAntiAffinity": "hard"},
        "seed-values": SEED_LOCALE,
    },
    MULTI: {
        "defaults": {},
        "metrics": _METRICS,
        "metrics-own-service": _METRICS_OWN_SERVICE,
        "persistence-hostpath": _HOSTPATH,
        "persistence-pvc": _PVC,
        "existing-ssh-secret": _EXISTING_SSH,
        "endpoints-both": _ENDPOINTS_BOTH,
        "endpoints-only": _ENDPOINTS_ONLY,
        "k8s-host": _K8S_HOST,
        "separate-locale-release": {"locale": {"instance": "arkouda-locales"}},
        "image-and-extras": {
            "image": {"repository": "registry.example/arkouda-udp", "tag": "v2024.04.19", "pullPolicy": "Always"},
            "imagePullSecrets": [{"name": "regcred"}],
            "extraEnv": [{"name": "CHPL_RT_OVERSUBSCRIBED", "value": "yes"}],
            "nodeSelector": {"arkouda": "yes"},
            "tolerations": [{"key": "arkouda", "operator": "Exists", "effect": "NoSchedule"}],
            "priorityClassName": "high",
            "podAnnotations": {"example.com/note": "z"},
            "server": {"threadsPerLocale": None, "verbose": True},
        },
        "seed-values": SEED_SERVER,
    },
    UMBRELLA: {
        "defaults": {},
        "five-locales": {"global": {"numLocales": 5}},
        "one-locale": {"global": {"numLocales": 1}},
        "metrics-endpoints-both": {
            "arkouda-multilocale-server": {**_METRICS, **_ENDPOINTS_BOTH},
        },
        "persistence-hostpath": {"global": {"persistence": {"enabled": True, "hostPath": "/mnt/arkouda"}}},
        "persistence-pvc": {"global": {"persistence": {"enabled": True, "type": "pvc", "size": "1Ti"}}},
        "existing-ssh-secret": {"arkouda-locale": _EXISTING_SSH, "arkouda-multilocale-server": _EXISTING_SSH},
        "global-image-and-user": {
            "global": {
                "image": {"repository": "registry.example/arkouda-udp", "tag": "v1"},
                "podSecurityContext": {"runAsUser": 2000, "runAsGroup": 2000, "fsGroup": 2000},
                "imagePullSecrets": [{"name": "regcred"}],
            }
        },
        "service-name": {"arkouda-multilocale-server": {"external": {"externalServiceName": "analytics"}}},
    },
}

CASES = [(chart, name) for chart, variants in VARIANTS.items() for name in variants]
