"""No input makes a cache page answer 500 (property-based, with Hypothesis: tests/hostile.py).

Every page of the ``cachemetrics`` and ``cachemetrics_api`` namespaces is taken from the
URLconf. Its path parameter ``pk`` is a real object: the table on the table page, the cluster
on every other page (both with half an hour of metrics); then made-up values. Its query
parameters (the ranges, custom from/to ranges and anything else its view reads) get hostile
values. The table page's mapping form is found in its HTML and posted back with the page's
CSRF token by a client that enforces CSRF; it answers a redirect or the page showing its
errors, and after a save the pages showing the table open.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import resolve, reverse
from hypothesis import example, given
from hypothesis import strategies as st

from aws.models import AwsAccount
from cachemetrics import catalog
from cachemetrics.models import CachedTable, DaxCluster, MetricPoint, MetricSeries
from cachemetrics.ranges import RANGES
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

NAMESPACES = ("cachemetrics", "cachemetrics_api")
#: Query parameters sent to every page besides the ones its view reads (which are recorded).
PARAMETERS = ("range", "from", "to", "table", "cluster", "region", "account", "page", "sort", "q")
#: Where the cache pages' POST forms post to; each form is found in its page's HTML.
FORM_TARGETS = ("table_detail",)
END = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # the last collected minute


def _series(key: str, metric: str, statistic: str, values, **owner) -> None:
    namespace = catalog.DYNAMODB_NAMESPACE if "table" in owner else catalog.DAX_NAMESPACE
    series = MetricSeries.objects.create(
        key=key,
        namespace=namespace,
        metric=metric,
        statistic=statistic,
        collected_until=END,
        **owner,
    )
    MetricPoint.objects.bulk_create(
        MetricPoint(series=series, ts=END - timedelta(minutes=minute + 1), value=value)
        for minute, value in enumerate(values)
    )


class World:
    """A cluster of two burstable nodes (CPU credits too) in front of a table, half an hour of
    metrics, and a logged-in client that enforces CSRF like a browser."""

    def __init__(self, user):
        self.account = AwsAccount.objects.create(name="prod", default_region="us-east-1")
        nodes = [
            {"id": f"orders-cache-{n}", "az": "us-east-1a", "status": "available"} for n in "ab"
        ]
        self.cluster = DaxCluster.objects.create(
            account=self.account,
            region="us-east-1",
            name="orders-cache",
            arn="arn:aws:dax:us-east-1:123456789012:cache/orders-cache",
            node_type="dax.t3.medium",
            node_count=2,
            nodes=nodes,
            status="available",
        )
        self.table = CachedTable.objects.create(
            account=self.account, region="us-east-1", name="Orders", avg_item_kb=1.5
        )
        self.table.clusters.add(self.cluster)
        self.vanished = DaxCluster.objects.create(
            account=self.account,
            region="us-east-1",
            name="old-cache",
            arn="arn:aws:dax:us-east-1:123456789012:cache/old-cache",
            node_type="dax.t3.small",
            vanished_at=END,
        )
        for metric, statistic in catalog.CLUSTER_METRICS:
            key = MetricSeries.cluster_key(self.cluster.pk, "", metric, statistic)
            _series(key, metric, statistic, [40.0, 0.0, 7.5] * 10, cluster=self.cluster)
        for metric, statistic in catalog.node_metrics(self.cluster.node_type):
            for node in nodes:
                key = MetricSeries.cluster_key(self.cluster.pk, node["id"], metric, statistic)
                owner = {"cluster": self.cluster, "node_id": node["id"]}
                _series(key, metric, statistic, [20.0, 3.0] * 15, **owner)
        key = MetricSeries.table_key(self.table.pk, catalog.CONSUMED_READS, catalog.SUM)
        _series(key, catalog.CONSUMED_READS, catalog.SUM, [12.0] * 30, table=self.table)
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)

    def objects(self, page) -> dict:
        """Path values: the table's pk on the table page, the cluster's on any other."""
        return {"pk": self.table.pk if page.name.endswith("table_detail") else self.cluster.pk}

    def plausible(self) -> dict[str, list[str]]:
        return {
            "range": list(RANGES),
            # custom ranges: valid, reversed, in the future, too old, one minute long
            "from": [
                "2026-03-02T11:00",
                "2026-03-02T11:59",
                "2026-03-01T00:00",
                "1999-01-01T00:00",
            ],
            "to": ["2026-03-02T12:00", "2026-03-02T10:00", "2999-12-31T23:59", "2026-03-02T11:01"],
            "table": [self.table.name],
            "cluster": [self.cluster.name],
            "region": ["us-east-1"],
            "account": [str(self.account.pk)],
        }

    def pages_showing(self, response) -> list[str]:
        """After the mapping was saved: where the form led (the table's page), the pages of the
        clusters now in front of it, the overview and the JSON list of tables."""
        paths = [
            urlsplit(response["Location"]).path,
            reverse("cachemetrics:overview"),
            reverse("cachemetrics_api:table_list"),
        ]
        for cluster in self.table.clusters.all():
            paths.append(reverse("cachemetrics:cluster_detail", args=[cluster.pk]))
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
def test_no_query_parameter_makes_a_cache_page_answer_500(world, page):
    path = path_of(page, world.objects(page))
    check_query(world.client, path, world.plausible(), names=PARAMETERS)


# --------------------------------------------------------------------------- path parameters


@pytest.mark.parametrize("page", [page for page in pages(*NAMESPACES) if page.converters], ids=str)
def test_no_path_parameter_makes_a_cache_page_answer_500(world, page):
    values = st.fixed_dictionaries(
        {name: converter_values(converter) for name, converter in page.converters.items()}
    )

    @PAGE_SETTINGS
    @given(values)
    def check(kwargs):
        path = reverse(page.name, kwargs=kwargs)
        with rolled_back(world.client):
            assert world.client.get(path).status_code < 500, path

    for kwargs in edge_path_values(page, world.objects(page)):  # every run, not only by chance
        check = example(kwargs)(check)
    check()


# --------------------------------------------------------------------------- forms


def _form_posting_to(world, target: str):
    page_path = reverse("cachemetrics:table_detail", args=[world.table.pk])
    response = world.client.get(page_path)
    assert response.status_code == 200
    for form in forms_on(response.content.decode(), page_path):
        if resolve(form.action).view_name == f"cachemetrics:{target}":
            return form
    raise AssertionError(f"no page has a form posting to cachemetrics:{target}")


def test_every_cache_page_that_takes_a_post_is_a_fuzzed_form_target(world):
    token = world.client.get(reverse("cachemetrics:overview")).context["csrf_token"]
    targets = {f"cachemetrics:{target}" for target in FORM_TARGETS}
    for page in pages(*NAMESPACES):
        if page.name not in targets:
            with rolled_back(world.client):
                path = path_of(page, world.objects(page))
                response = post(world.client, path, {"csrfmiddlewaretoken": token})
            assert response.status_code == 405, f"{page} takes a POST: add it to FORM_TARGETS"


@pytest.mark.parametrize("target", FORM_TARGETS)
def test_every_cache_form_answers_a_redirect_or_shows_its_errors(world, target):
    form = _form_posting_to(world, target)
    check_form(world.client, form, pages_showing=world.pages_showing)
