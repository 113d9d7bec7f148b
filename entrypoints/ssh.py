"""ssh for the locales: key pair checks, sshd configuration, the host-key pin and the GASNet ssh wrapper."""
