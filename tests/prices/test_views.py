"""/prices/: what the Price List gave, per region; a refresh for staff (CSRF-checked)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from aws import clients
from prices.models import PriceRefresh, RefreshStatus
from prices.refresh import refresh_prices

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user("mia", password="correct-horse-42")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("sue", password="correct-horse-42", is_staff=True)


def logged_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_post(client, path):
    client.get("/prices/")
    return client.post(path, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def test_the_page_needs_a_login():
    response = Client().get("/prices/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_before_any_refresh_the_page_says_costs_use_the_offline_table(member):
    page = logged_in(member).get("/prices/").content.decode()
    assert 'id="never-refreshed"' in page
    assert "No Lambda prices from the Price List yet." in page
    assert "Refresh from the AWS Price List" not in page  # not staff


def test_the_page_lists_each_regions_prices_with_their_date(sandbox, member):
    clients.clear()
    refresh_prices("command")
    page = logged_in(member).get("/prices/").content.decode()
    for region in ("us-east-1", "eu-west-1", "eu-west-2", "ap-southeast-2"):
        assert f'data-region="{region}"' in page
    assert "ap-south-1" not in page
    assert "$0.0000166667" in page and "$0.0000133334" in page  # x86 and arm64, first tier
    assert "$0.2</td>" in page  # requests per million
    assert "dax.r5.large" in page and "$0.34" in page
    assert "2026-11-01" in page


def test_a_failed_refresh_is_shown_with_its_reason(sandbox, member):
    clients.clear()
    refresh_prices()
    sandbox.inject_fault("GetProducts", times=None)
    refresh_prices()
    page = logged_in(member).get("/prices/").content.decode()
    assert 'id="refresh-error"' in page
    assert "the prices below are the last good ones" in page
    assert "InternalErrorException" in page
    assert 'data-region="eu-west-2"' in page  # still listed


def test_a_member_cannot_refresh(member, django_capture_on_commit_callbacks):
    client = logged_in(member)
    with django_capture_on_commit_callbacks() as enqueued:
        response = csrf_post(client, "/prices/refresh/")
    assert response.status_code == 403 and not enqueued


def test_refresh_needs_the_csrf_token(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        response = logged_in(staff).post("/prices/refresh/")
    assert response.status_code == 403 and not enqueued


@pytest.mark.parametrize("who", ["staff", "permitted"])
def test_staff_or_the_permission_queue_a_refresh(
    who, staff, member, django_capture_on_commit_callbacks
):
    user = staff
    if who == "permitted":
        member.user_permissions.add(Permission.objects.get(codename="add_pricerefresh"))
        user = member
    client = logged_in(user)
    assert "Refresh from the AWS Price List" in client.get("/prices/").content.decode()
    with django_capture_on_commit_callbacks() as enqueued:
        response = csrf_post(client, "/prices/refresh/")
    assert response.status_code == 302 and response["Location"] == "/prices/"
    assert len(enqueued) == 1
    assert "Price refresh queued" in client.get("/prices/").content.decode()


def test_refresh_only_answers_post(staff):
    assert logged_in(staff).get("/prices/refresh/").status_code == 405


def test_the_admin_shows_prices_read_only(sandbox, django_user_model):
    clients.clear()
    refresh_prices()
    admin = django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")
    client = logged_in(admin)
    assert client.get("/admin/prices/price/").status_code == 200
    assert client.get("/admin/prices/price/add/").status_code == 403
    refresh = PriceRefresh.objects.get()
    assert refresh.status == RefreshStatus.SUCCEEDED
    assert client.get(f"/admin/prices/pricerefresh/{refresh.pk}/delete/").status_code == 403


def test_the_status_page_shows_a_failed_price_refresh(sandbox, member):
    clients.clear()
    sandbox.inject_fault("GetProducts", times=None)
    refresh_prices()
    page = logged_in(member).get("/status/").content.decode()
    row = page[page.index('id="health-prices"') :]
    assert "last refresh failed" in row and "the last good prices are used" in row
