import pytest

from dashboard.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/runs/", "/runs/new/", "/cache/"])
def test_anonymous_page_requests_redirect_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_a_logged_in_user_sees_the_home_page_with_navigation(client, django_user_model):
    user = django_user_model.objects.create_user("carol", password="correct-horse-42")
    client.force_login(user)
    page = client.get("/").content.decode()
    for label in ("Runs", "New sweep", "Cache"):
        assert f">{label}</a>" in page


def test_times_follow_the_viewer_timezone_cookie(client, django_user_model):
    user = django_user_model.objects.create_user("carol", password="correct-horse-42")
    client.force_login(user)
    client.cookies["tz"] = "Asia%2FTokyo"
    assert "JST" in client.get("/").content.decode()
    client.cookies["tz"] = "Not%2FAZone"
    assert "UTC" in client.get("/").content.decode()


def test_logout_needs_a_post_with_csrf(django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_user("carol", password="correct-horse-42")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/logout/").status_code == 403


def test_the_login_page_and_share_links_are_public(client):
    assert client.get("/login/").status_code == 200
    # An unknown token reaches the share view (404), not the login redirect.
    assert client.get("/share/not-a-token/").status_code == 404


def test_an_anonymous_api_call_gets_a_json_401_not_a_redirect(client):
    response = client.get("/api/runs/")
    assert response.status_code == 401
    assert response.json() == {"error": "Authentication required."}


def test_an_api_token_is_enough_without_a_session(client, django_user_model):
    _token, key = ApiToken.issue(django_user_model.objects.create_user("dave"), "CI")
    response = client.get("/api/runs/", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


def test_the_admin_keeps_its_own_login_page(client, django_user_model):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"
    assert client.get("/admin/login/").status_code == 200
    client.force_login(django_user_model.objects.create_user("carol"))
    response = client.get("/admin/tuning/tuningrun/")
    assert response["Location"] == "/admin/login/?next=/admin/tuning/tuningrun/"


def test_a_login_lasts_twelve_hours(django_user_model):
    from django.test import Client

    django_user_model.objects.create_user("carol", password="correct-horse-42")
    client = Client(enforce_csrf_checks=True)
    client.get("/login/")
    response = client.post(
        "/login/",
        {"username": "carol", "password": "correct-horse-42"},
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == 12 * 3600
