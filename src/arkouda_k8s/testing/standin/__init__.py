"""A protocol-faithful arkouda_server stand-in (console script `arkouda-server-standin`).

Launched exactly as the entrypoints launch the real `arkouda_server` (same flags, same GASNet
environment), it does what the real one does, observably: the Chapel command line and its errors
(args.py), the GASNet ssh spawner with its messages and exit statuses (spawner.py, locale.py), the
banner and the connection-info file (banner.py, server.py), both wire protocols (protocol.py).
Ground truth: ../shared/arkouda-golden/ (a copy is in tests/standin/golden/).

Test knobs are ARKOUDA_STANDIN_* environment variables (knobs.py), never flags.

What a launch received, for tests that check nothing secret leaks into it:
- each locale's argv holds the server's whole environment as `-E NAME=value` (like the real
  launcher): `ps`, or /proc/<pid>/cmdline of `python -m arkouda_k8s.testing.standin.locale`;
- with ARKOUDA_STANDIN_RECORD=<file>, the server writes there, once its locales are up, its own
  argv and environment and each locale's host, pid, argv, `-E` environment and spawn command.

pytest fixtures (fixtures.py, plugin `arkouda_k8s_standin`): `standin`, `standin_factory`, and the
helper `start_standin`. Importing this package loads neither pyzmq nor the server.
"""
