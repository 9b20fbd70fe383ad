"""Unit tests of the package: spec, client, redaction, checks, profiles and friends."""
