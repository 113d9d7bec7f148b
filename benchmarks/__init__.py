"""Benchmarks of arkouda-k8s, each figure also as a ratio to one API write round trip (issue 11).

    .venv/bin/python -m benchmarks                  # everything, against the built-in API emulator
    .venv/bin/python -m benchmarks --only discovery --runs 30
    .venv/bin/python -m benchmarks --kubeconfig ~/.kube/config   # against another API server
    .venv/bin/python -m benchmarks --smoke --out /tmp/r.json     # tiny sizes, few runs (the test)

It prints a table (figure, median, p95, ratio to RTT, goal, met?) and writes benchmarks/results.json.
One module per benchmark: rtt, registration (+ withdrawal), discovery, resolution, footprint, seed
(the seed deployment's way, side by side) and import_time. The harness: stats, table, cluster (the API
under test: the emulator in a process of its own, or a kubeconfig), processes (stand-in, registrar),
watcher (the separate watcher that sees what is published).
"""
