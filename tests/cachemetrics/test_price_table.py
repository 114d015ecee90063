"""DAX node-hours and DynamoDB read prices per region from the stored AWS Price List; the
offline figures (DaxNodePrice rows, cachemetrics.pricing) only as a labelled fallback."""

import pytest
from django.test import Client

from aws import clients
from cachemetrics import price_table
from cachemetrics.models import DaxCluster
from prices.refresh import refresh_prices

pytestmark = pytest.mark.django_db


@pytest.fixture
def price_list(sandbox):
    clients.clear()
    attempt = refresh_prices("command")
    assert attempt.status == "SUCCEEDED", attempt.error
    yield
    clients.clear()


def test_node_prices_of_any_sandbox_region_come_from_the_price_list(price_list):
    price = price_table.node_price("dax.r5.large", "eu-west-2")
    assert price.hourly_usd == pytest.approx(0.31)
    assert price.label == "prices as of 2026-11-01 (AWS Price List)"
    assert price.note == ""


def test_a_region_without_price_list_prices_falls_back_to_the_offline_us_east_1_price(price_list):
    price = price_table.node_price("dax.r5.large", "ap-south-1")
    assert price.hourly_usd == pytest.approx(0.269)  # the seeded DaxNodePrice row
    assert "offline table" in price.label
    assert price.note == "us-east-1 price used"


def test_without_any_price_list_the_built_in_list_is_labelled_offline():
    price = price_table.node_price("dax.r5.large", "us-east-1")
    assert "offline table" in price.label


def test_read_prices_per_region(price_list):
    prices = price_table.read_prices("ap-southeast-2")
    assert prices.on_demand_per_million_rru == pytest.approx(0.1565)
    assert prices.provisioned_per_rcu_hour == pytest.approx(0.000164)  # past the free tier
    assert prices.label == "prices as of 2026-11-01 (AWS Price List)"
    fallback = price_table.read_prices("ca-central-1")
    assert fallback.on_demand_per_million_rru == pytest.approx(0.125)
    assert "offline table" in fallback.label


def test_the_cluster_page_states_where_its_prices_come_from(price_list, django_user_model):
    cluster = DaxCluster.objects.create(
        region="eu-west-2",
        name="london-cache",
        arn="arn:aws:dax:eu-west-2:123456789012:cache/london-cache",
        node_type="dax.t3.small",
        node_count=3,
    )
    client = Client()
    client.force_login(django_user_model.objects.create_user("pat", password="pw-42-horse"))
    page = client.get(f"/cache/clusters/{cluster.pk}/").content.decode()
    assert '<span id="node-price-label">prices as of 2026-11-01 (AWS Price List)</span>' in page
    assert '<span id="read-price-label">prices as of 2026-11-01 (AWS Price List)</span>' in page
    assert "$100.74" in page  # 3 nodes × $0.046 × 730 h
