"""The resolver: finds a published arkouda_server by Service name and connects the arkouda client."""
