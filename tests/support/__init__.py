"""Helpers shared by the test folders that are not fixtures (builders, fakes, the test IdP, sign-in
and API drivers); import them by name. Fixtures live in the conftest.py of the folder using them."""
