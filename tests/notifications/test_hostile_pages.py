"""No input makes a notifications page answer 500 (property-based, with Hypothesis:
tests/hostile.py).

Every page of the ``notifications`` namespace is taken from the URLconf, with a real team in
its path, then made-up values. The forms (the user's preference, the team's settings and the
test button) are found in their pages' HTML and posted back with the page's CSRF token by a
client that enforces CSRF: each answers a redirect or the page showing its errors, and after a
save the pages showing the settings open.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import resolve, reverse
from hypothesis import example, given
from hypothesis import strategies as st

from notifications.models import TeamNotifications
from tests.hostile import (
    PAGE_SETTINGS,
    check_form,
    check_query,
    converter_values,
    edge_path_values,
    forms_on,
    module_world,
    pages,
    path_of,
    post,
    rolled_back,
)

pytestmark = pytest.mark.django_db

NAMESPACES = ("notifications",)
#: Each form's target: the page that shows it.
FORMS = {"settings": "settings", "team": "team", "team_test": "team"}


class World:
    def __init__(self, user):
        self.group = Group.objects.create(name="payments")
        user.groups.add(self.group)
        TeamNotifications.objects.create(
            team=self.group,
            webhook_url="https://hooks.slack.com/services/T1/B2/secret1234",
            emails=["team@example.com"],
        )
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)

    def objects(self, page=None) -> dict:
        return {"group_id": self.group.pk}

    def pages_showing(self, response) -> list[str]:
        return [
            reverse("notifications:settings"),
            reverse("notifications:team", args=[self.group.pk]),
        ]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker):
        user = get_user_model().objects.create_superuser("ada", "ada@example.com", None)
        yield World(user)


@pytest.mark.parametrize("page", pages(*NAMESPACES), ids=str)
def test_no_query_parameter_makes_a_notifications_page_answer_500(world, page):
    path = path_of(page, world.objects(page))
    check_query(world.client, path, {}, names=("team", "next", "page"))


@pytest.mark.parametrize("page", [page for page in pages(*NAMESPACES) if page.converters], ids=str)
def test_no_path_parameter_makes_a_notifications_page_answer_500(world, page):
    values = st.fixed_dictionaries(
        {name: converter_values(converter) for name, converter in page.converters.items()}
    )

    @PAGE_SETTINGS
    @given(values)
    def check(kwargs):
        path = reverse(page.name, kwargs=kwargs)
        with rolled_back(world.client):
            assert world.client.get(path).status_code < 500, path

    for kwargs in edge_path_values(page, world.objects(page)):
        check = example(kwargs)(check)
    check()


def test_every_notifications_page_that_takes_a_post_is_a_fuzzed_form_target(world):
    token = world.client.get(reverse("notifications:settings")).context["csrf_token"]
    for page in pages(*NAMESPACES):
        if page.name.split(":")[1] not in FORMS:
            with rolled_back(world.client):
                path = path_of(page, world.objects(page))
                response = post(world.client, path, {"csrfmiddlewaretoken": token})
            assert response.status_code == 405, f"{page} takes a POST: add it to FORMS"


@pytest.mark.parametrize(("target", "shown_on"), sorted(FORMS.items()))
def test_every_notifications_form_answers_a_redirect_or_shows_its_errors(world, target, shown_on):
    page_path = reverse(
        f"notifications:{shown_on}", kwargs=world.objects() if shown_on == "team" else {}
    )
    html = world.client.get(page_path).content.decode()
    [form] = [
        f
        for f in forms_on(html, page_path)
        if resolve(f.action).view_name == f"notifications:{target}"
    ]
    check_form(world.client, form, pages_showing=world.pages_showing)
