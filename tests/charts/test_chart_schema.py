"""values.schema.json refuses bad values before anything renders, with helm's own schema error
(helm 3 and helm 4 word it differently; both name the chart, the value and the rule)."""

from __future__ import annotations

from typing import Any

import pytest
from chartkit import LOCALE, MULTI, SINGLE, UMBRELLA, Helm, HelmFailed, render

SCHEMA_ERROR = "values don't meet the specifications of the schema(s)"
# The rule as each helm says it: helm 3 (gojsonschema) and helm 4 (santhosh-tekuri/jsonschema).
RULE_WORDS = {
    "minimum": ("greater than or equal to", "minimum:"),
    "maximum": ("less than or equal to", "maximum:"),
    "maxLength": ("length must be less than or equal to", "maxlength:"),
    "pattern": ("does not match pattern", "does not match pattern"),
    "enum": ("must be one of", "value must be one of"),
    "type": ("invalid type", "got "),
    "additional": ("additional property", "additional properties"),
}

BAD_VALUES: list[tuple[str, dict[str, Any], str, str, str]] = [
    # (chart, values, chart named in the error, the value's path, rule)
    (MULTI, {"server": {"numLocales": -1}}, MULTI, "server.numLocales", "minimum"),
    (MULTI, {"server": {"numLocales": 0}}, MULTI, "server.numLocales", "minimum"),
    (MULTI, {"server": {"port": 70000}}, MULTI, "server.port", "maximum"),
    (MULTI, {"external": {"externalServicePort": 0}}, MULTI, "external.externalServicePort", "minimum"),
    (MULTI, {"external": {"externalServiceName": "Bad_Name"}}, MULTI, "external.externalServiceName", "pattern"),
    (MULTI, {"external": {"externalServiceName": "9lives"}}, MULTI, "external.externalServiceName", "pattern"),
    (MULTI, {"external": {"externalServiceName": "a" * 64}}, MULTI, "external.externalServiceName", "maxLength"),
    (MULTI, {"server": {"metrics": {"service": {"port": 65536}}}}, MULTI, "server.metrics.service.port", "maximum"),
    (MULTI, {"registrar": {"endpointsApi": "slices"}}, MULTI, "registrar.endpointsApi", "enum"),
    (MULTI, {"server": {"numLocale": 4}}, MULTI, "server", "additional"),
    (MULTI, {"podAnnotations": {"team": True}}, MULTI, "podAnnotations.team", "type"),
    (LOCALE, {"server": {"numLocales": -3}}, LOCALE, "server.numLocales", "minimum"),
    (LOCALE, {"ssh": {"port": 0}}, LOCALE, "ssh.port", "minimum"),
    (LOCALE, {"external": {"persistence": {"type": "nfs"}}}, LOCALE, "external.persistence.type", "enum"),
    (SINGLE, {"server": {"numLocales": 2}}, SINGLE, "server.numLocales", "maximum"),
    (SINGLE, {"server": {"numLocales": -1}}, SINGLE, "server.numLocales", "minimum"),
    (SINGLE, {"server": {"port": -5}}, SINGLE, "server.port", "minimum"),
    (SINGLE, {"numServers": 2}, SINGLE, "numServers", "maximum"),
    (SINGLE, {"external": {"externalServiceName": "arkouda.svc"}}, SINGLE, "external.externalServiceName", "pattern"),
    (SINGLE, {"deployment": {"serviceName": "Arkouda"}}, SINGLE, "deployment.serviceName", "pattern"),
    (UMBRELLA, {"global": {"numLocales": -1}}, UMBRELLA, "global.numLocales", "minimum"),
    (UMBRELLA, {"arkouda-multilocale-server": {"server": {"port": 0}}}, MULTI, "server.port", "minimum"),
    (
        UMBRELLA,
        {"arkouda-multilocale-server": {"external": {"externalServiceName": "x_y"}}},
        MULTI,
        "external.externalServiceName",
        "pattern",
    ),
    (UMBRELLA, {"arkouda-locale": {"ssh": {"port": 99999}}}, LOCALE, "ssh.port", "maximum"),
]


@pytest.mark.parametrize(
    ("chart", "values", "named", "path", "rule"),
    BAD_VALUES,
    ids=[f"{c}:{p}:{r}" for c, _v, _n, p, r in BAD_VALUES],
)
def test_bad_value_refused_by_the_schema(
    any_helm: Helm, chart: str, values: dict[str, Any], named: str, path: str, rule: str
) -> None:
    with pytest.raises(HelmFailed) as failed:
        render(any_helm, chart, values=values)
    stderr = failed.value.stderr
    assert SCHEMA_ERROR in stderr
    assert f"\n{named}:\n" in stderr, f"the error does not name chart {named}"
    pointer = "/" + path.replace(".", "/")
    assert path in stderr or f"'{pointer}'" in stderr, f"the error does not name {path}"
    helm3_words, helm4_words = RULE_WORDS[rule]
    assert helm3_words in stderr.lower() or helm4_words in stderr.lower(), f"the error does not say the rule {rule}"
