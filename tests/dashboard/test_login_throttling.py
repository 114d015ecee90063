"""Login throttling (django-axes) on both login pages, through the real login forms with CSRF."""

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN_PAGES = ["/login/", "/admin/login/"]


def attempt(client: Client, path: str, username: str, password: str):
    client.get(path)  # sets the CSRF cookie, as a browser would before posting
    return client.post(
        path,
        {"username": username, "password": password, "next": "/"},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        REMOTE_ADDR="203.0.113.7",
    )


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "dana", password="correct-horse-42", is_staff=True, is_superuser=True
    )


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_thirty_wrong_passwords_then_the_right_one_is_refused_with_a_clear_message(path, staff):
    client = Client(enforce_csrf_checks=True)
    for _ in range(30):
        assert attempt(client, path, "dana", "guess").status_code in (200, 429)

    response = attempt(client, path, "dana", "correct-horse-42")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert "manage.py axes_reset_username dana" in page


def test_the_lockout_starts_at_the_fifth_wrong_password(staff):
    client = Client(enforce_csrf_checks=True)
    statuses = [attempt(client, "/login/", "dana", "guess").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_fewer_wrong_passwords_still_let_the_right_one_in(staff):
    client = Client(enforce_csrf_checks=True)
    for _ in range(4):
        attempt(client, "/login/", "dana", "guess")
    response = attempt(client, "/login/", "dana", "correct-horse-42")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


def test_an_administrator_unlocks_the_account_from_the_command_line(staff):
    client = Client(enforce_csrf_checks=True)
    for _ in range(5):
        attempt(client, "/admin/login/", "dana", "guess")
    assert attempt(client, "/login/", "dana", "correct-horse-42").status_code == 429

    call_command("axes_reset_username", "dana")

    assert attempt(client, "/login/", "dana", "correct-horse-42").status_code == 302


@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_a_username_longer_than_any_account_is_a_field_error_not_a_500(path, staff):
    response = attempt(Client(enforce_csrf_checks=True), path, "a" * 300, "guess")
    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters (it has 300)." in response.content.decode()
