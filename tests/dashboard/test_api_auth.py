import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.test import RequestFactory
from django.utils import timezone

from dashboard.api import api_view
from dashboard.models import ApiToken

pytestmark = pytest.mark.django_db


@api_view
def whoami(request):
    return JsonResponse({"user": request.user.username})


def call(headers=None, user=None):
    request = RequestFactory().get("/api/whoami/", headers=headers or {})
    request.user = user or AnonymousUser()
    return whoami(request)


def test_an_anonymous_api_call_gets_a_json_401():
    response = call()
    assert response.status_code == 401
    assert b"Authentication required." in response.content


def test_a_valid_token_authenticates_and_only_its_hash_is_stored(django_user_model):
    dave = django_user_model.objects.create_user("dave")
    token, key = ApiToken.issue(dave, "CI")
    response = call({"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert b'"dave"' in response.content
    stored = ApiToken.objects.get(pk=token.pk)
    assert key not in (stored.key_hash, stored.prefix)
    assert stored.last_used_at is not None


def test_a_wrong_token_is_refused(django_user_model):
    ApiToken.issue(django_user_model.objects.create_user("dave"), "CI")
    response = call({"Authorization": "Bearer tb_not-the-key"})
    assert response.status_code == 401
    assert b"Invalid API token." in response.content


def test_a_token_of_a_deactivated_user_is_refused(django_user_model):
    dave = django_user_model.objects.create_user("dave", is_active=False)
    _token, key = ApiToken.issue(dave, "CI")
    assert call({"Authorization": f"Bearer {key}"}).status_code == 401


def test_an_expired_token_is_refused_saying_it_expired(django_user_model):
    dave = django_user_model.objects.create_user("dave")
    token, key = ApiToken.issue(dave, "CI", expires_at=timezone.now() + timedelta(days=1))
    assert call({"Authorization": f"Bearer {key}"}).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = call({"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert "expired" in json.loads(response.content)["error"]


def test_a_token_cannot_be_issued_already_expired(django_user_model):
    dave = django_user_model.objects.create_user("dave")
    with pytest.raises(ValueError, match="future"):
        ApiToken.issue(dave, "CI", expires_at=timezone.now())


def test_a_revoked_token_is_refused_saying_it_was_revoked(django_user_model):
    token, key = ApiToken.issue(django_user_model.objects.create_user("dave"), "CI")
    token.revoke()
    response = call({"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert json.loads(response.content) == {"error": "This API token was revoked."}
    assert ApiToken.objects.get(pk=token.pk).status == "revoked"


def test_a_read_only_token_reads_but_may_not_post(django_user_model):
    dave = django_user_model.objects.create_user("dave")
    _token, key = ApiToken.issue(dave, "dashboards", scope=ApiToken.Scope.READ)
    assert call({"Authorization": f"Bearer {key}"}).status_code == 200
    request = RequestFactory().post("/api/whoami/", headers={"Authorization": f"Bearer {key}"})
    request.user = AnonymousUser()
    response = whoami(request)
    assert response.status_code == 403
    assert "read-only" in json.loads(response.content)["error"]
