"""Hostile-tenant tests of the reference backend: what one VM must not reach or break."""
