#!/usr/bin/env bash
# Build the arkouda-k8s container images: the seed's build flow as one command (images/README.md).
#
#   images/build.sh [OPTIONS] [IMAGE...] [-- DOCKER_BUILD_OPTION...]
#
# 1. python -m build --wheel: the arkouda-k8s wheel, dist/arkouda_k8s-<version>-py3-none-any.whl;
# 2. the arkouda dist tarball, dist/arkouda.tar.gz: copied from --arkouda FILE, or built from an arkouda
#    checkout with python -m build --sdist (--arkouda DIR), or already there (or ./arkouda.tar.gz);
# 3. ARKOUDA_DIST_FOLDER, the tarball's top folder, as the seed took it: tar --exclude="*/*" -tf;
# 4. docker build of each IMAGE, tagged PREFIX/arkouda-IMAGE:VERSION, in dependency order:
#    server client full-stack (FROM server) udp-base udp-server (FROM udp-base).
#
# Options:
#   --arkouda PATH  the arkouda sdist (.tar.gz) or an arkouda source checkout
#   --version V     image tag (default: $VERSION, else this repository's version in pyproject.toml)
#   --prefix P      image name prefix (default: $IMAGE_PREFIX, else ghcr.io/arkouda-k8s, the charts' default)
#   --dry-run       print the commands, as a shell script, instead of running them (no Docker needed)
#   -h, --help      this help
# After --, the remaining arguments go to every docker build (e.g. --build-arg CHAPEL_IMAGE=...).
# Environment: PYTHON (default: the repository's .venv/bin/python, else python3), DOCKER (default: docker).
set -euo pipefail

readonly ALL_IMAGES=(server client full-stack udp-base udp-server)

die() {
  echo "build.sh: $*" >&2
  exit 2
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

dry_run=false
arkouda=""
version=${VERSION:-}
prefix=${IMAGE_PREFIX:-ghcr.io/arkouda-k8s}
selected=()
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --dry-run) dry_run=true ;;
    --arkouda) arkouda=${2:?--arkouda needs a PATH}; shift ;;
    --arkouda=*) arkouda=${1#*=} ;;
    --version) version=${2:?--version needs a value}; shift ;;
    --version=*) version=${1#*=} ;;
    --prefix) prefix=${2:?--prefix needs a value}; shift ;;
    --prefix=*) prefix=${1#*=} ;;
    -h | --help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
      [[ " ${ALL_IMAGES[*]} " == *" $1 "* ]] || die "unknown image '$1': choose from ${ALL_IMAGES[*]}"
      selected+=("$1")
      ;;
  esac
  shift
done

if [ -n "${PYTHON:-}" ]; then
  python=$PYTHON
elif [ -x "$root/.venv/bin/python" ]; then
  python=$root/.venv/bin/python
else
  python=python3
fi
docker=${DOCKER:-docker}

# The images to build, always in dependency order whatever order they were named in.
images=()
for image in "${ALL_IMAGES[@]}"; do
  if [ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]} " == *" $image "* ]]; then
    images+=("$image")
  fi
done
needs_wheel=false
needs_arkouda=false
for image in "${images[@]}"; do
  case $image in
    server | client | udp-server) needs_wheel=true; needs_arkouda=true ;;
    full-stack) needs_arkouda=true ;;
  esac
done

if ! $dry_run; then
  command -v "$docker" >/dev/null || die "no '$docker' command (set DOCKER); --dry-run prints the commands instead"
  "$docker" info >/dev/null 2>&1 ||
    die "'$docker info' failed: no Docker engine answers here; --dry-run prints the commands instead"
fi

# run COMMAND...: print it (dry run) or show and run it.
run() {
  if $dry_run; then
    local line
    line=$(printf '%q ' "$@")
    echo "${line% }"
  else
    printf '+ %s\n' "$*" >&2
    "$@"
  fi
}

project_version=$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])') ||
  die "cannot read the project version from $root/pyproject.toml with $python"
version=${version:-$project_version}
wheel=dist/arkouda_k8s-$project_version-py3-none-any.whl
tarball=dist/arkouda.tar.gz

# The top folder of an arkouda tarball, as the seed took it: `tar --exclude="*/*" -tf` lists the
# folder's own entry (a tarball without directory entries lists none: then the first path component).
# Every member must lie in that one folder, which the Dockerfiles move to /opt/arkouda.
dist_folder() {
  local folder members
  folder=$(tar --exclude='*/*' -tzf "$1") || die "cannot read $1 as a .tar.gz"
  members=$(tar -tzf "$1")
  [ -n "$folder" ] || folder=$(printf '%s\n' "$members" | cut -d/ -f1 | sort -u)
  folder=${folder%/}
  if [ -z "$folder" ] || [[ $folder == *$'\n'* ]] ||
    ! printf '%s\n' "$members" | awk -v top="$folder" '
        index($0, top "/") == 1 { inside++; next }
        $0 != top { outside++ }
        END { exit !(inside > 0 && outside == 0) }'; then
    die "$1 must hold exactly one top folder (an arkouda sdist: arkouda-<version>/...); its top level:" \
      "$(printf '%s\n' "$members" | cut -d/ -f1 | sort -u | tr '\n' ' ')"
  fi
  printf '%s\n' "$folder"
}

$dry_run && echo "cd $(printf '%q' "$root")"
$dry_run || export DOCKER_BUILDKIT=1 # BuildKit reads images/<image>/Dockerfile.dockerignore
$dry_run && echo "export DOCKER_BUILDKIT=1"

folder=""
if $needs_arkouda; then
  if [ -z "$arkouda" ]; then
    if [ -f "$tarball" ]; then
      arkouda=$tarball
    elif [ -f arkouda.tar.gz ]; then
      arkouda=arkouda.tar.gz # where the seed's instructions leave it
    else
      die "no arkouda dist tarball: pass --arkouda PATH (an arkouda sdist .tar.gz or an arkouda checkout)"
    fi
  fi
  if [ -d "$arkouda" ]; then
    sdist_dir=dist/arkouda-sdist
    run rm -rf "$sdist_dir"
    run "$python" -m build --sdist --outdir "$sdist_dir" "$arkouda"
    if $dry_run; then
      echo "cp $sdist_dir/*.tar.gz $tarball"
      folder="<the top folder of $tarball>"
      echo "build.sh: dry run: ARKOUDA_DIST_FOLDER is known once the sdist is built" >&2
    else
      sdists=("$sdist_dir"/*.tar.gz)
      [ ${#sdists[@]} -eq 1 ] && [ -f "${sdists[0]}" ] ||
        die "python -m build --sdist $arkouda did not leave exactly one .tar.gz in $sdist_dir"
      run cp "${sdists[0]}" "$tarball"
      folder=$(dist_folder "$tarball")
    fi
  elif [ -f "$arkouda" ]; then
    folder=$(dist_folder "$arkouda")
    if [ "$(realpath "$arkouda")" != "$(realpath -m "$tarball")" ]; then
      $dry_run || mkdir -p dist
      run cp "$arkouda" "$tarball"
    fi
  else
    die "--arkouda $arkouda: no such file or directory"
  fi
  echo "build.sh: ARKOUDA_DIST_FOLDER=$folder" >&2
fi

if $needs_wheel; then
  run "$python" -m build --wheel --outdir dist .
  $dry_run || [ -f "$wheel" ] || die "python -m build did not produce $wheel (the images install that file)"
fi

for image in "${images[@]}"; do
  args=(build --file "images/$image/Dockerfile" --tag "$prefix/arkouda-$image:$version")
  case $image in
    full-stack) args+=(--build-arg "SERVER_IMAGE=$prefix/arkouda-server:$version") ;;
    udp-server) args+=(--build-arg "UDP_BASE_IMAGE=$prefix/arkouda-udp-base:$version") ;;
  esac
  case $image in
    server | client | full-stack | udp-server) args+=(--build-arg "ARKOUDA_DIST_FOLDER=$folder") ;;
  esac
  case $image in
    server | client | udp-server) args+=(--build-arg "ARKOUDA_K8S_VERSION=$project_version") ;;
  esac
  run "$docker" "${args[@]}" ${extra[@]+"${extra[@]}"} .
done
