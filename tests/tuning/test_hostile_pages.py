"""No input makes a tuning page answer 500 (property-based, with Hypothesis: tests/hostile.py).

Every page of the ``tuning`` and ``tuning_api`` namespaces is taken from the URLconf. Its path
parameters are real objects: ``pk`` a succeeded run, ``link_id`` and ``token`` a live share
link of that run; then made-up values. Its query parameters get hostile values. Every POST
form of the run pages is found in the page's HTML and posted back, with the page's CSRF token,
by a client that enforces CSRF; it answers a redirect or a page showing its errors, and after
a post that saved something the pages showing it open. AWS answers nothing (a closed port).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import resolve, reverse
from hypothesis import example, given
from hypothesis import strategies as st

from aws.models import AwsAccount
from tests.hostile import (
    NESTED,
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
from tests.tuning.runfactory import make_run
from tests.tuning.test_powertuning import OUTPUT as POWER_TUNING_OUTPUT
from tuning import history, sharing
from tuning.models import RunStatus, TuningRun

pytestmark = pytest.mark.django_db

NAMESPACES = ("tuning", "tuning_api")
#: Query parameters sent to every page besides the ones its view reads (which are recorded).
PARAMETERS = ("page", "q", "sort", "ids", "from", "fragment", "format", "range")
#: JSON API endpoints taking POST bodies, validated by SweepParams (tuning.params) and tested
#: with it: no HTML form posts to them.
JSON_POSTS = {"tuning_api:run_list", "tuning_api:run_cancel"}
#: Where the run pages' POST forms post to; each form is found in its page's HTML.
FORM_TARGETS = (
    "run_new",
    "run_new_from_powertuning",
    "run_import",
    "run_rerun",
    "run_cancel",
    "run_resolve_cleanup",
    "run_apply",
    "share_create",
    "share_revoke",
)


class World:
    """What the pages show: runs in every state a form depends on, an account, a share link,
    and a logged-in client that enforces CSRF like a browser."""

    def __init__(self, user):
        self.user = user
        self.account = AwsAccount.objects.create(name="prod", default_region="eu-west-1")
        self.run = make_run(user=user)
        self.running = make_run(function="busy-fn", status="RUNNING", user=user)
        self.stuck = make_run(function="stuck-fn", status="PENDING", user=user)
        TuningRun.objects.filter(pk=self.stuck.pk).update(cleanup_pending="alias tb-1 of stuck-fn")
        self.link, token = sharing.create_link(self.run, user)
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)
        self.objects = {"pk": self.run.id, "link_id": self.link.id, "token": token}
        self.runs = set(TuningRun.objects.values_list("pk", flat=True))
        self.links = {self.link.pk}

    def plausible(self) -> dict[str, list[str]]:
        """Query values the pages understand (the first ones all set at once)."""
        return {
            "page": ["1", "2"],
            "before": [history.cursor_of(self.run)],
            "after": [history.cursor_of(self.run)],
            "q": ["tuneboard", str(self.run.id)],
            "function": [
                "tuneboard-cpu",
                "arn:aws:lambda:eu-west-1:123456789012:function:tuneboard-cpu",
            ],
            "status": RunStatus.values,
            "account": ["", str(self.account.pk)],
            "who": [self.user.username],
            "since": ["2024-01-01"],
            "until": ["2030-01-01"],
            "ids": [f"{self.run.id},{self.running.id}"],
            "from": [str(self.run.id)],
            "region": ["us-east-1", "eu-west-1"],
            "memory_sizes": ["128, 512, 1024"],
            "invocations_per_size": ["10"],
            "concurrency": ["5"],
            "parallel": ["on", ""],
            "cold_starts_only": ["", "on"],
            "fragment": ["results"],
            "strategy": ["cost", "speed", "balanced"],
        }

    def pages_showing(self, response) -> list[str]:
        """What to open after a post saved something: where it led (the run's page shows its
        applies and links), the lists, and the pages of new runs and links."""
        paths = ["/", reverse("tuning:run_list"), reverse("tuning_api:run_list")]
        location = urlsplit(response.get("Location", "")).path
        if location:
            paths.append(location)
        for run in TuningRun.objects.exclude(pk__in=self.runs):
            paths.append(reverse("tuning:run_detail", args=[run.id]))
            paths.append(reverse("tuning_api:run_detail", args=[run.id]))
            paths.append(reverse("tuning:run_compare") + f"?ids={self.run.id},{run.id}")
        for link in sharing.live_links().exclude(pk__in=self.links):
            # Only the link's creator saw its token; its run's page lists it.
            paths.append(reverse("tuning:run_detail", args=[link.run_id]))
        return paths


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the module (each test and example is rolled back to it)."""
    with module_world(django_db_blocker):
        # No password: nothing to hash (force_login)
        user = get_user_model().objects.create_superuser("ada", "ada@example.com", None)
        yield World(user)


# --------------------------------------------------------------------------- query parameters


@pytest.mark.parametrize("page", pages(*NAMESPACES), ids=str)
def test_no_query_parameter_makes_a_tuning_page_answer_500(world, page):
    check_query(world.client, path_of(page, world.objects), world.plausible(), names=PARAMETERS)


# --------------------------------------------------------------------------- path parameters


@pytest.mark.parametrize(
    "page", [pytest.param(page, id=page.name) for page in pages(*NAMESPACES) if page.converters]
)
def test_no_path_parameter_makes_a_tuning_page_answer_500(world, page):
    values = st.fixed_dictionaries(
        {name: converter_values(converter) for name, converter in page.converters.items()}
    )

    @PAGE_SETTINGS
    @given(values)
    def check(kwargs):
        path = reverse(page.name, kwargs=kwargs)
        with rolled_back(world.client):
            assert world.client.get(path).status_code < 500, path

    for kwargs in edge_path_values(page, world.objects):  # every run, not only by chance
        check = example(kwargs)(check)
    check()


# --------------------------------------------------------------------------- forms


def _form_posting_to(world, target: str):
    pages_with_forms = [
        reverse("tuning:run_new"),
        reverse("tuning:run_import"),
        reverse("tuning:run_detail", args=[world.run.id]),  # re-run, share, revoke
        reverse("tuning:run_detail", args=[world.running.id]),  # cancel
        reverse("tuning:run_detail", args=[world.stuck.id]),  # cleanup resolved
        reverse("tuning:run_apply", args=[world.run.id]),
    ]
    for page_path in pages_with_forms:
        response = world.client.get(page_path)
        assert response.status_code == 200, page_path
        for form in forms_on(response.content.decode(), page_path):
            if resolve(form.action).view_name == f"tuning:{target}":
                return form
    raise AssertionError(f"no page has a form posting to tuning:{target}")


def test_every_tuning_page_that_takes_a_post_is_a_fuzzed_form_target(world):
    token = world.client.get(reverse("tuning:run_new")).context["csrf_token"]
    targets = {f"tuning:{target}" for target in FORM_TARGETS} | JSON_POSTS
    for page in pages(*NAMESPACES):
        if page.name not in targets:
            with rolled_back(world.client):
                path = path_of(page, world.objects)
                response = post(world.client, path, {"csrfmiddlewaretoken": token})
            assert response.status_code == 405, f"{page} takes a POST: add it to FORM_TARGETS"


#: What a user types where the page leaves a field empty (the rest is as the page fills it).
TYPED = {
    "run_new": {"function": "tuneboard-cpu"},
    "run_new_from_powertuning": {"powertuning_input": '{"lambdaARN": "tuneboard-cpu"}'},
    "run_import": {"function": "tuneboard-cpu", "source": json.dumps(POWER_TUNING_OUTPUT)},
    "run_apply": {"confirm": "on"},
}


@pytest.mark.parametrize("target", FORM_TARGETS)
def test_every_tuning_form_answers_a_redirect_or_shows_its_errors(world, target):
    form = _form_posting_to(world, target)
    check_form(world.client, form, typed=TYPED.get(target), pages_showing=world.pages_showing)


# --------------------------------------------------------------------------- reproduced cases


def _run_list(client, query: str):
    response = client.get(reverse("tuning:run_list") + query)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"page": "1e30"},  # links from before keyset pages: the newest runs
        {"page": "-1"},
        {"before": "1e30"},
        {"after": "-1"},
        {"before": "9" * 5000},
        {"after": "\x00"},
        {"before": "١"},
        {"before": "MjAyNi0xMS0yOFQxMDowMDowMCswMDowMHx4"},  # a time, then no id
        {"after": "OTk5OTktMTItMzFUMDA6MDA6MDArMDA6MDB8MA"},  # year 99999
    ],
    ids=str,
)
def test_any_page_link_shows_a_page_of_the_run_list(world, query):
    for number in range(24):  # 27 runs with the world's: two pages of 25
        make_run(function=f"fn-{number}", status="PENDING")
    page = _run_list(world.client, "?" + urlencode(query))
    assert page.count('name="ids"') == 25 and 'rel="next"' in page


@pytest.mark.parametrize("query", ["?until=9999-12-31", "?since=0001-01-01", "?since=9999-12-31"])
@pytest.mark.parametrize("viewer_tz", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_first_and_last_day_of_the_calendar_filter_the_run_list(world, query, viewer_tz):
    world.client.cookies["tz"] = viewer_tz  # times (and days) are the viewer's
    try:
        page = _run_list(world.client, query)
    finally:
        del world.client.cookies["tz"]
    if "9999" in query and "since" in query:
        assert "No run matches these filters" in page
    else:
        assert ">tuneboard-cpu</a>" in page


def test_the_run_list_filters_days_in_the_viewers_timezone(world):
    late = make_run(function="late-fn", status="PENDING")
    TuningRun.objects.filter(pk=late.pk).update(
        created_at=datetime(2024, 5, 1, 23, 30, tzinfo=UTC)  # 2 May 13:30 at UTC+14
    )
    world.client.cookies["tz"] = "Pacific/Kiritimati"
    try:
        assert ">late-fn</a>" in _run_list(world.client, "?since=2024-05-02&until=2024-05-02")
        assert ">late-fn</a>" not in _run_list(world.client, "?until=2024-05-01")
    finally:
        del world.client.cookies["tz"]


def test_the_function_picker_without_a_region_asks_aws_in_the_default_region(world):
    response = world.client.get(reverse("tuning:function_list"))
    assert response.status_code == 200
    assert response.json()["error"].startswith("Could not list functions")  # AWS is offline


@pytest.mark.parametrize("region", [" ", "foo bar", "\x00", "us-east-1" * 10, "mars-north-1"])
def test_the_function_picker_refuses_a_region_it_does_not_know(world, region):
    response = world.client.get(reverse("tuning:function_list"), {"region": region})
    assert response.status_code == 400
    assert response.json() == {
        "functions": [],
        "error": f"{region[:40]!r} is not an AWS region where Lambda runs. Use a region code "
        "such as us-east-1 or eu-west-2 (the form's Region menu lists them all).",
    }


@pytest.mark.parametrize("account", ["999999", "9" * 30, "abc", "\x00"])
def test_the_function_picker_refuses_an_account_that_does_not_exist(world, account):
    response = world.client.get(
        reverse("tuning:function_list"), {"region": "us-east-1", "account": account}
    )
    assert response.status_code == 400
    assert response.json()["error"] == (f"There is no account {account!r}: pick one from the list.")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"region": "foo bar"}, "'foo bar' is not an AWS region where Lambda runs"),
        ({"region": "\x00"}, "'\\x00' is not an AWS region where Lambda runs"),
        ({"account": "999999"}, "There is no account '999999'"),
    ],
)
def test_the_estimate_explains_an_unknown_region_or_account(world, params, message):
    query = {"function": "tuneboard-cpu", "memory_sizes": "128", **params}
    response = world.client.get(reverse("tuning:estimate"), query)
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] is False
    assert data["message"].startswith(message)


# ------------------------------------------------------------------ sweep and import values


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("payload", "NaN"),
        ("payload", "[" * NESTED + "]" * NESTED),
        ("weighted_payloads", "[" * NESTED + "]" * NESTED),
        ("payload", '{"a": Infinity}'),
        ("payload", '{"a": "\\u0000"}'),  # PostgreSQL's jsonb refuses \u0000
        ("payload", '{"\\ud800": 1}'),  # a lone surrogate: refused by jsonb too
        ("memory_sizes", "9" * 400),  # float() overflows to inf: int() raises OverflowError
    ],
    ids=["nan", "nested-payload", "nested-weighted", "infinity", "nul", "surrogate", "huge"],
)
def test_the_new_run_form_shows_a_field_error_for_json_or_sizes_the_database_refuses(
    world, field, value
):
    form = _form_posting_to(world, "run_new")
    data = {**form.submitted, **TYPED["run_new"], field: value, **form.hidden}
    with rolled_back(world.client):
        response = post(world.client, form.action, data)
        assert response.status_code == 400
        assert response.context["form"].errors[field]


def test_the_import_form_shows_a_field_error_for_output_nested_too_deep(world):
    form = _form_posting_to(world, "run_import")
    data = {**form.submitted, **TYPED["run_import"], "source": "[" * NESTED + "]" * NESTED}
    with rolled_back(world.client):
        response = post(world.client, form.action, {**data, **form.hidden})
        assert response.status_code == 400
        assert response.context["form"].errors["source"]


def test_the_api_run_list_refuses_a_nul_and_answers_an_empty_page_past_the_end(world):
    with rolled_back(world.client):
        nul = world.client.get(reverse("tuning_api:run_list"), {"function": "\x00"})
        far = world.client.get(reverse("tuning_api:run_list"), {"page": "9" * 20})
    assert nul.status_code == 400
    assert far.status_code == 200 and far.json()["results"] == []


@pytest.mark.parametrize("name", ["shared_run", "shared_monthly", "shared_export_csv"])
def test_a_share_token_with_a_nul_is_not_found(world, name):
    with rolled_back(world.client):
        response = world.client.get(reverse(f"tuning:{name}", args=["\x00"]))
    assert response.status_code == 404
