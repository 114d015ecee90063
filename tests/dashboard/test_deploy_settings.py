import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "DJANGO_SECRET_KEY": "k7Jq9vX2mP4wZ8rT1yB6nC3dF5gH0jL-secret-for-the-check-only-x9",
    "ALLOWED_HOSTS": "tuneboard.example.com",
    "DATABASE_URL": "postgres://tuneboard@db.example.com:5432/tuneboard",
    "CELERY_BROKER_URL": "redis://redis.example.com:6379/0",
    "TUNEBOARD_BASE_URL": "https://tuneboard.example.com",
}


def run_check(env_overrides, tmp_path):
    # The test session's own DJANGO_ALLOW_ASYNC_UNSAFE (for Playwright) is not production.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in PRODUCTION and k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "SESSION_CACHE_URL")
    }
    env.update(env_overrides, TUNEBOARD_DATA_DIR=str(tmp_path))
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_settings_pass_the_deploy_check_without_warnings(tmp_path):
    result = run_check(PRODUCTION, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_redis_session_cache_passes_the_deploy_check_without_warnings(tmp_path):
    result = run_check(
        {**PRODUCTION, "SESSION_CACHE_URL": "redis://redis.example.com:6379/1"}, tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_missing_secret_key_in_production_is_a_system_check_error(tmp_path):
    result = run_check({**PRODUCTION, "DJANGO_SECRET_KEY": ""}, tmp_path)
    assert result.returncode != 0
    assert "dashboard.E001" in result.stderr
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_the_embedded_database_in_production_is_flagged(tmp_path):
    result = run_check({**PRODUCTION, "DATABASE_URL": ""}, tmp_path)
    assert "dashboard.W001" in result.stderr
