"""Fixtures of the core's tests (resolution, validation, durations, selectors, services, commands,
checks): none of their own. The resolver tests build their input with tests/support/builders.py;
the database tests use tests/conftest.py's factories and its demo."""
