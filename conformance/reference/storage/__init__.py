"""Storage: the SQLite store and VM disks as overlay layers, opened without following
symlinks. Imports only ``common``."""
