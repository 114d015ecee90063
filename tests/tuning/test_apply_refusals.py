"""An apply the page does not offer is refused when posted anyway, and changes nothing."""

import pytest
from django.test import Client

from tests.tuning.runfactory import make_run
from tuning import powertuning
from tuning.models import MemoryChange
from tuning.params import parse_function

pytestmark = pytest.mark.django_db


def post_apply(client: Client, run, memory_mb: int):
    client.get(f"/runs/{run.id}/")  # the CSRF cookie, as the browser has it
    return client.post(
        f"/runs/{run.id}/apply/",
        {"target": "$LATEST", "memory_mb": memory_mb},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        follow=True,
    )


@pytest.fixture
def browser_client(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    return client


def test_an_imported_run_cannot_be_applied_by_a_crafted_post(browser_client):
    url = powertuning.encode_visualizer_url([(128, 800.0, 0.0000017), (512, 100.0, 0.0000009)])
    run = powertuning.import_run(
        powertuning.parse_source(url), function=parse_function("orders"), region="us-east-1"
    )
    page = browser_client.get(f"/runs/{run.id}/").content.decode()
    assert f"/runs/{run.id}/apply/" not in page  # the page offers no apply

    response = post_apply(browser_client, run, 512)

    assert "Only a succeeded run measured by Tuneboard can be applied." in response.content.decode()
    assert not MemoryChange.objects.exists()
    run.refresh_from_db()
    assert not run.applying


def test_a_size_that_failed_cannot_be_applied(browser_client):
    run = make_run(sizes=(128, 512, 1024), failed_sizes=(128,))

    response = post_apply(browser_client, run, 128)

    assert response.status_code == 200
    assert not MemoryChange.objects.exists()
