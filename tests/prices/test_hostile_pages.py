"""No input makes the prices pages answer 500 (property-based: tests/hostile.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import resolve, reverse

from tests.hostile import (
    check_form,
    check_query,
    forms_on,
    module_world,
    pages,
    path_of,
    post,
    rolled_back,
)

pytestmark = pytest.mark.django_db

NAMESPACES = ("prices",)
FORM_TARGETS = ("prices:refresh",)


class World:
    def __init__(self, user):
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)

    def pages_showing(self, response) -> list[str]:
        return [reverse("prices:price_list")]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with module_world(django_db_blocker):
        yield World(get_user_model().objects.create_superuser("ada", "ada@example.com", None))


@pytest.mark.parametrize("page", pages(*NAMESPACES), ids=str)
def test_no_query_parameter_makes_a_prices_page_answer_500(world, page):
    check_query(world.client, path_of(page, {}), {}, names=())


def test_every_prices_page_that_takes_a_post_is_a_fuzzed_form_target(world):
    token = world.client.get(reverse("prices:price_list")).context["csrf_token"]
    for page in pages(*NAMESPACES):
        if page.name not in FORM_TARGETS:
            with rolled_back(world.client):
                response = post(world.client, path_of(page, {}), {"csrfmiddlewaretoken": token})
            assert response.status_code == 405, f"{page} takes a POST: add it to FORM_TARGETS"


@pytest.mark.parametrize("target", FORM_TARGETS)
def test_every_prices_form_answers_a_redirect(world, target):
    path = reverse("prices:price_list")
    html = world.client.get(path).content.decode()
    [form] = [f for f in forms_on(html, path) if resolve(f.action).view_name == target]
    check_form(world.client, form, pages_showing=world.pages_showing)
