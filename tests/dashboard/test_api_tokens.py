"""Managing API tokens: the user's tokens page, the admin and `manage.py create_api_token`."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dashboard.models import ApiToken

pytestmark = pytest.mark.django_db


@pytest.fixture
def dave(django_user_model):
    return django_user_model.objects.create_user("dave")


def api_get(client, key):
    return client.get("/api/runs/", headers={"Authorization": f"Bearer {key}"})


def test_the_tokens_page_is_linked_from_the_user_menu(client, dave):
    client.force_login(dave)
    assert 'href="/tokens/"' in client.get("/").content.decode()


def test_the_tokens_page_needs_a_login(client):
    response = client.get("/tokens/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/tokens/"


def test_the_page_lists_only_the_users_own_tokens(client, dave, django_user_model):
    ApiToken.issue(dave, "CI pipeline", expires_at=timezone.now() + timedelta(days=3))
    ApiToken.issue(django_user_model.objects.create_user("erin"), "erin's laptop")
    client.force_login(dave)
    page = client.get("/tokens/").content.decode()
    assert "CI pipeline" in page
    assert "erin's laptop" not in page


def test_a_created_token_is_shown_once_and_works(client, dave):
    client.force_login(dave)
    response = client.post("/tokens/", {"name": "CI pipeline", "scope": "read", "expires_in": "30"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    key = response.context["new_key"]
    assert key.startswith("tb_") and key in response.content.decode()
    token = ApiToken.objects.get(user=dave)
    assert (token.name, token.scope) == ("CI pipeline", "read")
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert key not in (token.key_hash, token.prefix)
    assert api_get(client, key).status_code == 200
    page = client.get("/tokens/").content.decode()
    assert key not in page
    assert token.prefix in page
    token.refresh_from_db()
    assert f'datetime="{token.last_used_at.isoformat()}"' in page


def test_a_token_without_a_name_is_refused(client, dave):
    client.force_login(dave)
    response = client.post("/tokens/", {"name": "", "scope": "write", "expires_in": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_an_unknown_scope_or_expiry_is_refused(client, dave):
    client.force_login(dave)
    assert client.post("/tokens/", {"name": "x", "scope": "admin"}).status_code == 400
    assert (
        client.post("/tokens/", {"name": "x", "scope": "read", "expires_in": "-5"}).status_code
        == 400
    )
    assert not ApiToken.objects.exists()


def test_revoking_a_token_stops_it_at_once(client, dave):
    token, key = ApiToken.issue(dave, "CI")
    client.force_login(dave)
    response = client.post(f"/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"] == "/tokens/"
    response = api_get(client, key)
    assert response.status_code == 401
    assert response.json() == {"error": "This API token was revoked."}
    page = client.get("/tokens/").content.decode()
    assert 'data-status="revoked"' in page


def test_another_users_token_cannot_be_revoked(client, dave, django_user_model):
    token, key = ApiToken.issue(django_user_model.objects.create_user("erin"), "CI")
    client.force_login(dave)
    assert client.post(f"/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert api_get(client, key).status_code == 200


def test_revoking_needs_a_post(client, dave):
    token, _key = ApiToken.issue(dave, "CI")
    client.force_login(dave)
    assert client.get(f"/tokens/{token.pk}/revoke/").status_code == 405
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# --------------------------------------------------------------------------- admin


def test_the_admin_cannot_give_a_token_to_another_user(admin_client, dave, django_user_model):
    erin = django_user_model.objects.create_user("erin")
    token, key = ApiToken.issue(dave, "CI")
    url = f"/admin/dashboard/apitoken/{token.pk}/change/"
    assert 'name="user"' not in admin_client.get(url).content.decode()
    response = admin_client.post(url, {"name": "renamed", "user": erin.pk, "scope": "write"})
    assert response.status_code == 302
    token.refresh_from_db()
    assert (token.name, token.user) == ("renamed", dave)
    assert api_get(admin_client, key).status_code == 200


def test_the_admin_can_revoke_tokens(admin_client, dave):
    token, key = ApiToken.issue(dave, "CI")
    response = admin_client.post(
        "/admin/dashboard/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).status == "revoked"


# --------------------------------------------------------------------------- command


def test_the_command_issues_a_read_only_expiring_token(client, dave):
    out = StringIO()
    call_command(
        "create_api_token", "dave", "--name", "CI", "--read-only", "--expires-in", "7", stdout=out
    )
    key = out.getvalue().strip()
    token = ApiToken.objects.get(user=dave)
    assert (token.name, token.scope) == ("CI", "read")
    assert timedelta(days=6) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert api_get(client, key).status_code == 200


def test_the_command_defaults_to_a_read_write_token_without_expiry(dave):
    call_command("create_api_token", "dave", stdout=StringIO())
    token = ApiToken.objects.get(user=dave)
    assert (token.scope, token.expires_at) == ("write", None)


@pytest.mark.parametrize("days", ["0", "-1", "soon"])
def test_the_command_refuses_a_bad_expiry(dave, days):
    with pytest.raises(CommandError, match="whole number of days"):
        call_command("create_api_token", "dave", "--expires-in", days, stdout=StringIO())
    assert not ApiToken.objects.exists()
