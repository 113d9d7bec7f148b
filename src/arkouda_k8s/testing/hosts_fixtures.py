"""pytest fixtures of the loopback test hosts and the arkouda_server stand-in (entry point `arkouda_k8s_hosts`)."""
