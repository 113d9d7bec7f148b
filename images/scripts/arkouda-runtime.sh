#!/bin/sh
# arkouda-runtime collect ARKOUDA_DIR STAGE_DIR   (in a build stage, after `make`)
# arkouda-runtime check                           (in the runtime stage, after COPY --from=build STAGE_DIR/ /)
#
# The server images build arkouda_server in a Chapel image (several GB: compiler, LLVM, sources) and
# run it in a slim one. `collect` copies what the server loads at run time into STAGE_DIR, each file at
# its own absolute path, so that the paths compiled into the binaries stay true in the runtime stage:
#   - arkouda_server, and arkouda_server_real when Chapel built a launcher;
#   - every shared library they load from outside the system library directories: arkouda's
#     Makefile links dep/*-install/lib (ZeroMQ, HDF5, Arrow, iconv, idn2) with an absolute -rpath;
#   - amudprun when CHPL_LAUNCHER=amudprun: Chapel's launcher runs it by the absolute path under
#     $CHPL_HOME/third-party that was compiled in.
# System libraries are not copied: the runtime stage installs their Debian packages. `check` fails the
# build, naming each library, when a collected file is missing or cannot load: a missing package, or a
# runtime image of another Debian release than the Chapel image (RUNTIME_IMAGE, images/README.md).
# collect lists the collected files in STAGE_DIR/opt/arkouda-runtime.files; check reads that list at
# /opt/arkouda-runtime.files (ARKOUDA_RUNTIME_MANIFEST overrides the path, for tests).
set -eu

manifest=${ARKOUDA_RUNTIME_MANIFEST:-/opt/arkouda-runtime.files}

die() {
  echo "arkouda-runtime: $*" >&2
  exit 1
}

is_system_path() {
  case $1 in
    /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) return 0 ;;
    *) return 1 ;;
  esac
}

# stage FILE MODE: copy FILE (its target, when it is a symbolic link) to $stage_dir/FILE.
stage() {
  install -D -m "$2" "$1" "$stage_dir$1"
  echo "$1" >>"$stage_dir$manifest"
  echo "arkouda-runtime: collected $1"
}

collect() {
  arkouda_dir=$1
  stage_dir=$2
  [ -x "$arkouda_dir/arkouda_server" ] ||
    die "$arkouda_dir/arkouda_server is missing: the arkouda build (make) did not produce it"
  mkdir -p "$stage_dir$(dirname "$manifest")"
  : >"$stage_dir$manifest"

  deps=$(mktemp)
  for name in arkouda_server arkouda_server_real; do
    [ -f "$arkouda_dir/$name" ] || continue
    stage "$arkouda_dir/$name" 0755
    ldd "$arkouda_dir/$name" >>"$deps" 2>&1 || true # a static executable loads no library
  done
  # ldd lines read "libzmq.so.5 => /opt/arkouda/dep/zeromq-install/lib/libzmq.so.5 (0x...)".
  awk '$2 == "=>" && $3 ~ /^\// { print $3 }' "$deps" | sort -u >"$deps.paths"
  while read -r library; do
    is_system_path "$library" || stage "$library" 0644
  done <"$deps.paths"
  rm -f "$deps" "$deps.paths"

  if [ "${CHPL_LAUNCHER:-}" = amudprun ]; then
    chapel_home=${CHPL_HOME:-$(chpl --print-chpl-home)}
    gasnet="$chapel_home/third-party/gasnet/install"
    launchers=$(mktemp)
    find "$gasnet" -type f -name amudprun >"$launchers" 2>/dev/null || true
    [ -s "$launchers" ] || die "CHPL_LAUNCHER=amudprun, but there is no amudprun under $gasnet"
    while read -r launcher; do
      stage "$launcher" 0755
    done <"$launchers"
    rm -f "$launchers"
  fi
}

check() {
  [ -s "$manifest" ] || die "$manifest is missing or empty: COPY --from=build the collected files first"
  report=$(mktemp)
  while read -r file; do
    if [ ! -f "$file" ]; then
      echo "$file: not found (collected in the build stage, missing here)" >>"$report"
    else
      # "not found" covers a missing library and a missing symbol version (`GLIBC_2.34' not found);
      # a static executable ("not a dynamic executable") loads nothing and passes.
      ldd "$file" >"$report.one" 2>&1 || true
      grep 'not found' "$report.one" | sed "s|^|$file: |" >>"$report" || true
    fi
  done <"$manifest"
  rm -f "$report.one"
  if [ -s "$report" ]; then
    cat "$report" >&2
    rm -f "$report"
    die "arkouda_server cannot run in this image. Install the Debian packages of the libraries above in the" \
      "runtime stage, or set RUNTIME_IMAGE to the Debian release the Chapel image is built on (images/README.md)."
  fi
  rm -f "$report"
  echo "arkouda-runtime: every collected file loads ($(wc -l <"$manifest") files)"
}

case ${1:-} in
  collect)
    [ $# -eq 3 ] || die "usage: arkouda-runtime collect ARKOUDA_DIR STAGE_DIR"
    collect "$2" "$3"
    ;;
  check)
    [ $# -eq 1 ] || die "usage: arkouda-runtime check"
    check
    ;;
  *) die "usage: arkouda-runtime collect ARKOUDA_DIR STAGE_DIR | check" ;;
esac
