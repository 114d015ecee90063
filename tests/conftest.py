"""Shared pytest configuration: every module in tests/fixtures/ is a fixture plugin."""

from pathlib import Path

pytest_plugins = sorted(
    f"tests.fixtures.{path.stem}" for path in (Path(__file__).parent / "fixtures").glob("[!_]*.py")
)
