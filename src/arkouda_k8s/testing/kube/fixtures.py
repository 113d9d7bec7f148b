"""pytest fixtures of the Kubernetes API emulator (entry point `arkouda_k8s_kube`)."""
