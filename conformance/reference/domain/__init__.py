"""Domain: the backend object and its resources (VMs, runs, sessions, forks, files,
filesystems, bindings, tunnels). Imports the layers below, never ``routes``."""
