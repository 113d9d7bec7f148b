"""The registrar: publishes a running arkouda_server under a Service name and withdraws it."""
