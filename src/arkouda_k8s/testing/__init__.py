"""The test bed, shipped so users can test their own notebooks and tools the same way:

- `arkouda_k8s.testing.kube`: an in-memory Kubernetes API server (HTTP/HTTPS, RBAC, fault injection);
- `arkouda_k8s.testing.standin`: a protocol-faithful arkouda_server stand-in (`arkouda-server-standin`);
- `arkouda_k8s.testing.loopback`: real sshd "pods" on loopback addresses.

Only tests, the demo and the benchmarks import this package.
"""
