"""A protocol-faithful arkouda_server stand-in (console script `arkouda-server-standin`)."""
