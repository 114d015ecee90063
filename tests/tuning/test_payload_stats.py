"""Per-payload statistics of a run with weighted payloads (Power Tuning issue #37): the model
method, the run page and the run JSON show each payload's count, duration and cost per size."""

import json
from decimal import Decimal

import pytest
from django.db.models import F

from tests.tuning.runfactory import make_run
from tuning.models import TuningRun

pytestmark = pytest.mark.django_db

PAYLOADS = [{"payload": {"n": 1}, "weight": 3}, {"payload": {"n": 400}, "weight": 1}]


@pytest.fixture
def weighted_run():
    """A finished run whose every fourth invocation used a second, ten times dearer payload
    (what payload_plan gives weights 3:1 over 8 invocations)."""
    run = make_run(sizes=(128, 512), num=8)
    TuningRun.objects.filter(pk=run.pk).update(weighted_payloads=PAYLOADS)
    heavy = run.invocations.filter(sequence__in=[3, 7])
    heavy.update(payload_index=1, duration_ms=F("duration_ms") * 10, cost_usd=F("cost_usd") * 10)
    run.refresh_from_db()
    return run


def test_each_payload_gets_its_own_count_duration_and_cost_per_size(weighted_run):
    stats = weighted_run.payload_stats()
    assert [s["memory_mb"] for s in stats] == [128, 512]
    for size in stats:
        light, heavy = size["payloads"]
        assert (light["index"], light["weight"], light["invocations"]) == (0, 3, 6)
        assert (heavy["index"], heavy["weight"], heavy["invocations"]) == (1, 1, 2)
        assert light["errors"] == heavy["errors"] == 0
        assert heavy["avg_duration_ms"] > 5 * light["avg_duration_ms"]
        assert Decimal(heavy["avg_cost_usd"]) > 5 * Decimal(light["avg_cost_usd"])
    rows = weighted_run.invocations.filter(memory_mb=128, payload_index=1)
    expected = sum(r.duration_ms for r in rows) / 2
    assert stats[0]["payloads"][1]["avg_duration_ms"] == pytest.approx(expected)


def test_a_run_with_one_payload_has_no_per_payload_table(client, django_user_model):
    run = make_run(sizes=(128,), num=4)
    assert run.payload_stats() == []
    client.force_login(django_user_model.objects.create_user("mia", password="x-42-horse"))
    page = client.get(f"/runs/{run.pk}/").content.decode()
    assert 'id="payload-stats"' not in page


def test_the_run_page_and_json_show_the_per_payload_figures(
    client, django_user_model, weighted_run
):
    client.force_login(django_user_model.objects.create_user("mia", password="x-42-horse"))
    page = client.get(f"/runs/{weighted_run.pk}/").content.decode()
    assert 'id="payload-stats"' in page
    assert 'data-memory="512" data-payload="1"' in page
    assert "#2 (1)" in page  # the second payload and its weight
    data = json.loads(client.get(f"/api/runs/{weighted_run.pk}/").content)
    assert data["payload_stats"] == json.loads(json.dumps(weighted_run.payload_stats()))
    assert data["payload_stats"][1]["payloads"][1]["invocations"] == 2


def test_in_a_region_without_a_price_each_payload_shows_price_unknown(client, django_user_model):
    run = make_run(sizes=(128,), num=4, region="ca-central-1")  # no price known there
    TuningRun.objects.filter(pk=run.pk).update(weighted_payloads=PAYLOADS)
    run.invocations.filter(sequence=3).update(payload_index=1)
    run.refresh_from_db()
    (size,) = run.payload_stats()
    assert [p["avg_cost_usd"] for p in size["payloads"]] == [None, None]
    assert all(p["avg_duration_ms"] is not None for p in size["payloads"])
    client.force_login(django_user_model.objects.create_user("mia", password="x-42-horse"))
    page = client.get(f"/runs/{run.pk}/").content.decode()
    table = page[page.index('id="payload-stats"') :]
    table = table[: table.index("</table>")]
    assert table.count("price unknown") == 2, table
    data = json.loads(client.get(f"/api/runs/{run.pk}/").content)
    assert "ca-central-1" in data["price_unknown"]
