"""Fixtures for the unit tests: a small contract document and a scripted HTTP server."""
