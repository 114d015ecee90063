import pytest


@pytest.fixture
def worker(shared_worker):
    """The module's shared Celery worker (``WORKER_CONCURRENCY`` processes, default 2), for
    modules whose tests neither kill nor reconfigure it; a module that needs its own workers
    defines ``worker`` itself."""
    return shared_worker
