import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.test import RequestFactory

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
