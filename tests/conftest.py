"""Shared pytest configuration: every module in tests/fixtures/ is a fixture plugin; every
Hypothesis test replays the same examples on every run (CI must never fail by chance), unless
HYPOTHESIS_PROFILE=explore asks for new ones."""

import os
from pathlib import Path

from hypothesis import settings

pytest_plugins = sorted(
    f"tests.fixtures.{path.stem}" for path in (Path(__file__).parent / "fixtures").glob("[!_]*.py")
)

settings.register_profile("suite", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))
