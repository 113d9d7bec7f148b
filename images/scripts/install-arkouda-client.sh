#!/bin/sh
# install-arkouda-client.sh TARBALL FOLDER
#
# pip-install the arkouda Python client from the arkouda dist tarball (images/build.sh puts it in
# dist/arkouda.tar.gz; FOLDER is its top folder, the build-arg ARKOUDA_DIST_FOLDER), so that the
# client matches the server built from the same tarball.
#
# arkouda up to 2022 (2020.7.7 included) replaced setuptools' build_py with a hook that builds the
# Chapel server, so a plain `pip install` fails without Chapel: drop the hook and install only the
# Python package. Those clients also `import pkg_resources`, gone from setuptools 82 on, hence the
# setuptools<82 pin (research/tooling.md §1). A newer arkouda has no hook and the sed changes nothing.
# PYTHON names the interpreter (default: python3).
set -eu

[ $# -eq 2 ] || {
  echo "usage: install-arkouda-client.sh TARBALL FOLDER" >&2
  exit 2
}
tarball=$1
folder=${2%/}
[ -n "$folder" ] || {
  echo "install-arkouda-client: FOLDER (build-arg ARKOUDA_DIST_FOLDER) is empty: images/build.sh sets it" >&2
  exit 2
}

work=$(mktemp -d)
tar -xzf "$tarball" -C "$work"
source_dir="$work/$folder"
[ -d "$source_dir" ] || {
  echo "install-arkouda-client: $tarball has no top folder '$folder' (ARKOUDA_DIST_FOLDER); it holds: $(ls "$work")" >&2
  exit 1
}
if [ -f "$source_dir/setup.py" ]; then
  sed -i -E 's/"build_py": *installers\.ArkoudaInstall *,?//' "$source_dir/setup.py"
fi
"${PYTHON:-python3}" -m pip install --no-cache-dir --root-user-action=ignore "$source_dir" 'setuptools<82'
rm -rf "$work"
