"""No input makes a page outside the apps answer 500: home, health, status, login, logout, API
tokens, and the viewer's timezone cookie that every page reads (property-based:
tests/hostile.py).

Each form is found on the page that shows it (login, logout on the home page, the API token
form and its revoke buttons) and posted back with the page's CSRF token by a client that
enforces CSRF. This module also checks that
every page of the URLconf (Django's admin aside) is fuzzed by one of the three suites.
"""

from __future__ import annotations

import zoneinfo
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import resolve, reverse
from hypothesis import given
from hypothesis import strategies as st

from dashboard.models import ApiToken
from tests.cachemetrics import test_hostile_pages as cache_suite
from tests.hostile import (
    KILLERS,
    PAGE_SETTINGS,
    check_form,
    check_query,
    forms_on,
    hostile_text,
    module_world,
    pages,
    path_of,
    post,
    rolled_back,
)
from tests.notifications import test_hostile_pages as notifications_suite
from tests.prices import test_hostile_pages as prices_suite
from tests.tuning import test_hostile_pages as tuning_suite
from tests.tuning.runfactory import make_run

pytestmark = pytest.mark.django_db

NAMESPACES = ("",)
#: Where the forms of these pages post to: (the page showing the form, the form's target).
FORMS = {
    "login": "login",
    "logout": "home",
    "api_tokens": "api_tokens",
    "api_token_revoke": "api_tokens",
}
PASSWORD = "correct-horse-42"


class World:
    def __init__(self):
        self.user = get_user_model().objects.create_superuser("ada", "ada@example.com", PASSWORD)
        self.run = make_run(function="tz-fn", status="PENDING", user=self.user)
        token, _key = ApiToken.issue(self.user, "ci")
        self.objects = {"pk": token.pk}
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(self.user)

    def pages_showing(self, response) -> list[str]:
        """After a login, the home page (it names the user); after a logout, the login page."""
        return ["/" if "_auth_user_id" in self.client.session else reverse("login")]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the module (each test and example is rolled back to it). Logging in
    hashes the password: with a fast hasher, as the login form is posted many times."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with override_settings(PASSWORD_HASHERS=fast), module_world(django_db_blocker):
        yield World()


def test_every_page_of_the_urlconf_is_fuzzed_by_one_of_the_suites():
    suites = {
        *NAMESPACES,
        *tuning_suite.NAMESPACES,
        *cache_suite.NAMESPACES,
        *notifications_suite.NAMESPACES,
        *prices_suite.NAMESPACES,
    }
    assert {page.namespace for page in pages()} <= suites


@pytest.mark.parametrize("page", pages(*NAMESPACES), ids=str)
def test_no_query_parameter_makes_a_page_answer_500(world, page):
    # Readiness answers 503 while the database or the broker is down: by design.
    also_ok = (503,) if page.name == "readyz" else ()
    path = path_of(page, world.objects)
    check_query(world.client, path, {"next": ["/runs/"]}, names=("next", "page"), also_ok=also_ok)


def test_every_page_that_takes_a_post_is_a_fuzzed_form_target(world):
    token = world.client.get("/").context["csrf_token"]
    for page in pages(*NAMESPACES):
        if page.name not in FORMS:
            with rolled_back(world.client):
                path = path_of(page, world.objects)
                response = post(world.client, path, {"csrfmiddlewaretoken": token})
            assert response.status_code == 405, f"{page} takes a POST: add its form to FORMS"


@pytest.mark.parametrize(("target", "shown_on"), sorted(FORMS.items()))
def test_every_form_answers_a_redirect_or_shows_its_errors(world, target, shown_on):
    page_path = reverse(shown_on)
    html = world.client.get(page_path).content.decode()
    [form] = [f for f in forms_on(html, page_path) if resolve(f.action).url_name == target]
    typed = {"username": "ada", "password": PASSWORD} if target == "login" else {}
    check_form(world.client, form, typed=typed, pages_showing=world.pages_showing)


@pytest.mark.parametrize("path", ["/", "/runs/?since=2024-01-01&until=2030-01-01"])
def test_no_timezone_cookie_makes_a_page_answer_500(world, path):
    """The cookie base.html sets from the browser: times are shown, and days filtered, in
    the viewer's timezone."""

    def answer(name: str):
        world.client.cookies["tz"] = quote(name)  # as timezone.js sets it
        try:
            with rolled_back(world.client):
                status = world.client.get(path).status_code
        finally:
            del world.client.cookies["tz"]
        assert status < 500, repr(name)

    for name in (*KILLERS, "Pacific/Kiritimati", "posixrules", "Factory", "localtime", "UTC/"):
        answer(name)
    names = st.one_of(hostile_text(), st.sampled_from(sorted(zoneinfo.available_timezones())))
    PAGE_SETTINGS(given(names)(answer))()


# --------------------------------------------------------------------------- reproduced cases


def test_the_login_page_says_why_a_username_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    token = client.get(reverse("login")).context["csrf_token"]
    data = {"username": "ada\x00", "password": PASSWORD, "csrfmiddlewaretoken": token}
    page = post(client, reverse("login"), data).content.decode()
    assert "Null characters are not allowed." in page
    assert "Your username and password didn't match" not in page


def test_the_login_page_still_says_when_the_password_is_wrong(world):
    client = Client(enforce_csrf_checks=True)
    token = client.get(reverse("login")).context["csrf_token"]
    data = {"username": "ada", "password": "wrong", "csrfmiddlewaretoken": token}
    page = post(client, reverse("login"), data).content.decode()
    assert "Your username and password didn't match" in page
