"""pytest fixtures of the arkouda_server stand-in (entry point `arkouda_k8s_standin`)."""
