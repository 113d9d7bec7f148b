#!/bin/sh
# arkouda-full-stack [COMMAND [ARG...]]
#
# The full-stack image's entrypoint: start a one-locale arkouda_server (`arkouda-k8s single
# --no-register`: no Kubernetes here), wait until it answers, run COMMAND (default: ipython) in the
# foreground, and when COMMAND ends stop the server in order (SIGTERM to arkouda-k8s, which asks
# arkouda_server to shut down) and exit with COMMAND's status.
#
# The server runs in a session of its own (setsid): a Ctrl-C in ipython, or the SIGTERM that
# `tini -g` sends to this process group on `docker stop`, reaches COMMAND but not the server, which
# is then stopped in order here. The traps keep this shell alive through those signals.
#
# ARKOUDA_SERVER_LOG     where the server's output goes (default: ~/arkouda_server.log)
# ARKOUDA_START_TIMEOUT  seconds to wait for the server to answer (default: 300)
set -u

log=${ARKOUDA_SERVER_LOG:-$HOME/arkouda_server.log}
timeout=${ARKOUDA_START_TIMEOUT:-300}
[ $# -gt 0 ] || set -- ipython

trap ':' INT TERM

setsid arkouda-k8s single --no-register >"$log" 2>&1 &
server=$!
echo "arkouda-full-stack: starting arkouda_server (pid $server, log $log)" >&2

stop_server() {
  kill -TERM "$server" 2>/dev/null
  wait "$server"
}

started=$(date +%s)
until arkouda-healthcheck >/dev/null 2>&1; do
  if ! kill -0 "$server" 2>/dev/null; then
    wait "$server"
    echo "arkouda-full-stack: the server exited (status $?) before it answered; the end of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  if [ $(($(date +%s) - started)) -ge "$timeout" ]; then
    echo "arkouda-full-stack: the server did not answer within $timeout s (ARKOUDA_START_TIMEOUT); see $log" >&2
    stop_server
    exit 1
  fi
  sleep 1
done
echo "arkouda-full-stack: arkouda_server is ready: import arkouda as ak; ak.connect()" >&2

"$@"
status=$?
stop_server
exit "$status"
