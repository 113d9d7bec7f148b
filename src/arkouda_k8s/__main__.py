"""`python -m arkouda_k8s` is the `arkouda-k8s` command."""

from arkouda_k8s.cli import main

raise SystemExit(main())
