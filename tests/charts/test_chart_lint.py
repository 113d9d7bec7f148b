"""`helm lint --strict` with helm 3 and helm 4, the umbrella packaged and installed offline, and the
NOTES a user reads after `helm install`."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from chartkit import ALL_CHARTS, CHARTS, LOCALE, MULTI, SINGLE, UMBRELLA, Helm, chart_path, parse_manifests, render


@pytest.mark.parametrize("chart", ALL_CHARTS)
def test_lint_strict(any_helm: Helm, chart: str) -> None:
    done = any_helm.run("lint", "--strict", chart_path(chart))
    assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout
    flagged = [line for line in done.stdout.splitlines() if "[WARNING]" in line or "[ERROR]" in line]
    assert not flagged, "\n".join(flagged)


@pytest.mark.parametrize("chart", [SINGLE, MULTI, UMBRELLA])
def test_lint_strict_with_values(helm3: Helm, chart: str, tmp_path: Path) -> None:
    """Lint renders the templates too: with metrics and both endpoint APIs every branch is linted."""
    values = tmp_path / "values.yaml"
    body = "server:\n  metrics:\n    collectMetrics: true\nregistrar:\n  endpointsApi: both\n"
    if chart == UMBRELLA:
        body = "arkouda-multilocale-server:\n" + "".join(f"  {line}\n" for line in body.splitlines())
    values.write_text(body)
    done = helm3.run("lint", "--strict", chart_path(chart), "--values", str(values))
    assert "0 chart(s) failed" in done.stdout


def test_umbrella_parts_are_the_charts_of_this_repository() -> None:
    for part in (LOCALE, MULTI):
        link = CHARTS / UMBRELLA / "charts" / part
        assert link.is_symlink() and link.resolve() == (CHARTS / part).resolve()


def test_umbrella_packages_and_installs_from_the_archive(any_helm: Helm, tmp_path: Path) -> None:
    done = any_helm.run("package", chart_path(UMBRELLA), "--destination", str(tmp_path))
    archive = next(tmp_path.glob("arkouda-*.tgz"))
    assert archive.name in done.stdout
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    for part in (LOCALE, MULTI):
        assert f"arkouda/charts/{part}/Chart.yaml" in names, f"{part} is not in the archive"
        assert f"arkouda/charts/{part}/templates/statefulset.yaml" in names
    from_archive = parse_manifests(any_helm.run("template", "ak", str(archive), "--namespace", "ns").stdout)
    from_tree = render(any_helm, UMBRELLA, release="ak", namespace="ns")
    for objects in (from_archive, from_tree):
        for obj in objects:
            if obj["kind"] == "Secret":
                obj["data"] = "<generated>"
    assert from_archive == from_tree


@pytest.mark.parametrize(
    ("chart", "expected"),
    [
        (UMBRELLA, ['arkouda_k8s.connect("ak", namespace="ns1")', "arkouda-k8s resolve ak -n ns1", "helm test ak"]),
        (MULTI, ['arkouda_k8s.connect("ak", namespace="ns1")', "app.kubernetes.io/instance=ak,"]),
        (SINGLE, ['arkouda_k8s.connect("ak", namespace="ns1")', "arkouda-k8s resolve ak -n ns1"]),
        (LOCALE, ["--set locale.instance=ak", "2 locale pods"]),
    ],
)
def test_notes_say_how_to_connect(helm4: Helm, chart: str, expected: list[str]) -> None:
    """helm 4 installs with --dry-run=client without a cluster (helm 3 asks the API server for its version)."""
    done = helm4.run("install", "ak", chart_path(chart), "--namespace", "ns1", "--dry-run=client")
    notes = done.stdout.split("NOTES:", 1)[1]
    for text in expected:
        assert text in notes, f"NOTES of {chart} do not say {text!r}:\n{notes}"
