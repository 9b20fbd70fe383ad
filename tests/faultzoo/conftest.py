"""The fault zoo's mutation score is printed by ``tests/conftest.py`` (so xdist prints it too)."""
