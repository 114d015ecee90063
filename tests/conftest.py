"""Shared pytest configuration: every module in tests/fixtures/ is a fixture plugin; every
Hypothesis test replays the same examples on every run (CI must never fail by chance), unless
HYPOTHESIS_PROFILE=explore asks for new ones; passwords are hashed with a fast hasher."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from hypothesis import settings as hypothesis_settings

pytest_plugins = sorted(
    f"tests.fixtures.{path.stem}" for path in (Path(__file__).parent / "fixtures").glob("[!_]*.py")
)

hypothesis_settings.register_profile("suite", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Passwords hashed with MD5 in the test process: Django's PBKDF2 costs ~0.4 s of CPU per
    hash here, paid by every fixture that creates a user with a password and every login.
    The default hashers stay listed, so hashes made by child processes (manage.py) verify."""
    fast = "django.contrib.auth.hashers.MD5PasswordHasher"
    with override_settings(PASSWORD_HASHERS=[fast, *settings.PASSWORD_HASHERS]):
        yield
