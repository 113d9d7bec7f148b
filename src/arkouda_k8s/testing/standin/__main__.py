"""`python -m arkouda_k8s.testing.standin`: the same as the `arkouda-server-standin` console script."""

import sys

from arkouda_k8s.testing.standin.cli import main

sys.exit(main())
