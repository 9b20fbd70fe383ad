"""Sandbox: the process a run executes in and its bounds (bubblewrap, limits, cgroups,
egress, DNS filter, signals, preflight). Imports ``storage`` and ``common``."""
