import pytest

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
