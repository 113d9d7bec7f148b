"""What the container images run: the locale, multi-locale server and single-locale entrypoints."""
