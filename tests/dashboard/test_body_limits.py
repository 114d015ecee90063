"""A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused with a 413 that names the limit, even
when Django's CSRF check reads it before any of our views runs."""

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

TOO_BIG = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)


@pytest.fixture
def browser_client(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    client.get("/runs/new/")  # the CSRF cookie
    return client


def test_an_oversized_form_post_to_the_api_gets_json_naming_the_limit(browser_client):
    response = browser_client.post(
        "/api/runs/",
        {"payload": TOO_BIG},
        HTTP_X_CSRFTOKEN=browser_client.cookies["csrftoken"].value,
    )
    assert response.status_code == 413
    assert response.json()["limit"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in response.json()["error"]


def test_an_oversized_form_gets_a_page_that_says_nothing_was_saved(browser_client):
    from tuning.models import TuningRun

    response = browser_client.post(
        "/runs/import/",
        {"source": TOO_BIG, "csrfmiddlewaretoken": browser_client.cookies["csrftoken"].value},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "at most 2 MiB" in page and "Nothing was saved" in page
    assert not TuningRun.objects.exists()
