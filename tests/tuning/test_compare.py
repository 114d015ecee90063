"""Comparing runs: the ids asked for, the labels and the per-size changes against the first."""

import math
import uuid
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tuning.compare import comparison_table, ids_from_query, label, like_for_like, percent_change

A = uuid.UUID("11111111-1111-4111-8111-111111111111")
B = uuid.UUID("22222222-2222-4222-8222-222222222222")
C = uuid.UUID("33333333-3333-4333-8333-333333333333")


@pytest.mark.parametrize(
    ("values", "ids"),
    [
        ([], []),
        ([f"{A},{B}"], [A, B]),
        ([str(B), str(A)], [B, A]),  # the order asked for: the first is the baseline
        ([f" {A} , {B} ,", str(C)], [A, B, C]),
        ([f"{A},{A}", str(A).upper()], [A]),  # duplicates dropped
        ([f"{A},not-a-uuid,,42", ""], [A]),
    ],
)
def test_ids_come_from_repeated_and_comma_separated_values(values, ids):
    assert ids_from_query(values) == ids


def test_a_run_is_labelled_by_function_start_and_short_id():
    run = SimpleNamespace(function_name="checkout", created_at=datetime(2026, 3, 4, 5, 6), id=A)
    assert label(run) == "checkout · 2026-03-04 05:06 · 11111111"


@pytest.mark.parametrize(
    ("new", "old", "change"),
    [
        (150.0, 400.0, -62.5),
        (165.0, 150.0, 10.0),
        (Decimal("0.000003"), Decimal("0.000002"), 50.0),
        (5.0, 5.0, 0.0),
        (None, 5.0, None),
        (5.0, None, None),
        (5.0, 0, None),
    ],
)
def test_changes_are_in_percent_of_the_old_figure(new, old, change):
    assert percent_change(new, old) == (None if change is None else pytest.approx(change))


def result(memory_mb, duration_ms, cost_usd):
    return SimpleNamespace(
        memory_mb=memory_mb,
        avg_duration_ms=duration_ms,
        avg_cost_usd=None if cost_usd is None else Decimal(cost_usd),
    )


BEFORE = [result(512, 400.0, "0.0000035"), result(1024, 150.0, "0.0000027")]
AFTER = [result(512, 150.0, "0.0000014"), result(1024, 165.0, "0.0000030")]


def test_each_size_shows_the_change_of_every_other_run_against_the_baseline():
    table = comparison_table([("before", BEFORE), ("after", AFTER), ("again", BEFORE)])
    assert [row["memory_mb"] for row in table] == [512, 1024]
    at_512, at_1024 = table
    assert at_512["baseline"] is BEFORE[0]
    after, again = at_512["others"]
    assert after["result"] is AFTER[0]
    assert after["duration_pct"] == pytest.approx(-62.5)
    assert after["cost_pct"] == pytest.approx(-60.0)
    assert (again["duration_pct"], again["cost_pct"]) == (0.0, 0.0)
    after = at_1024["others"][0]
    assert after["duration_pct"] == pytest.approx(10.0)
    assert after["cost_pct"] == pytest.approx(100 / 9)


def test_sizes_tested_by_one_run_only_have_no_change():
    baseline = [result(512, 400.0, "0.0000035")]
    other = [result(128, 1600.0, "0.0000034"), result(512, 300.0, "0.0000026")]
    table = comparison_table([("baseline", baseline), ("other", other)])
    assert [row["memory_mb"] for row in table] == [128, 512]
    only_other = table[0]
    assert only_other["baseline"] is None
    assert only_other["others"] == [{"result": other[0], "duration_pct": None, "cost_pct": None}]
    table = comparison_table([("other", other), ("baseline", baseline)])
    assert table[0]["others"] == [{"result": None, "duration_pct": None, "cost_pct": None}]


def test_a_baseline_size_without_figures_is_no_baseline():
    failed = [result(512, None, None)]
    table = comparison_table([("failed", failed), ("other", [result(512, 300.0, "0.0000026")])])
    assert table[0]["baseline"] is None
    assert table[0]["others"][0]["duration_pct"] is None


def test_an_other_run_without_figures_at_a_size_has_no_change():
    table = comparison_table([("baseline", BEFORE), ("failed", [result(512, None, None)])])
    assert table[0]["others"][0]["duration_pct"] is None
    assert table[0]["others"][0]["cost_pct"] is None


# --------------------------------------------------------------------------- like for like

# Power Tuning prices ceil(duration) at $0.0000000021 per ms at 128 MB (x86_64), $0.0000000017
# (arm64), without the request fee (lambda/utils.js computePrice).
PT_X86_PER_MS_128 = 2.1e-9
PT_ARM_PER_MS_128 = 1.7e-9


def pt_link(durations: dict, per_ms_128: float = PT_X86_PER_MS_128) -> str:
    from tuning import powertuning

    return powertuning.encode_visualizer_url(
        [(mb, d, math.ceil(d) * per_ms_128 * mb / 128) for mb, d in durations.items()]
    )


@pytest.fixture
def importer(django_user_model):
    from django.test import Client

    admin = django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    client.get("/runs/import/")
    client.csrf = client.cookies["csrftoken"].value
    return client


def import_link(client, url, function="orders"):
    data = {"function": function, "region": "us-east-1", "strategy": "cost", "source": url}
    return client.post("/runs/import/", data, HTTP_X_CSRFTOKEN=client.csrf)


@pytest.mark.django_db
def test_an_imported_and_a_native_run_of_the_same_durations_cost_the_same(importer):
    from tests.tuning.runfactory import make_run
    from tuning.models import TuningRun

    # A 10 ms function at 128 and 1024 MB, billed 11 ms every time, measured by Tuneboard…
    native = make_run(function="orders", sizes=(128, 1024), durations={128: 10.5, 1024: 10.5})
    assert {r.avg_billed_duration_ms for r in native.results.all()} == {11.0}
    # …and the same durations as Power Tuning reports them.
    assert import_link(importer, pt_link({128: 11.0, 1024: 11.0})).status_code == 302
    imported = TuningRun.objects.get(imported_from="power-tuning")
    by_size = {r.memory_mb: r for r in imported.results.all()}
    native_128 = native.results.get(memory_mb=128).avg_cost_usd
    # As stored, the native run looks 10× dearer: Power Tuning leaves the $0.20/M fee out.
    assert native_128 / by_size[128].avg_cost_usd > 9

    response = importer.get(f"/runs/compare/?ids={native.id}&ids={imported.id}")
    page = response.content.decode()
    for row in response.context["table"]:  # equal but for the 12th decimal of a stored cost
        other = row["others"][0]
        assert other["cost_pct"] == pytest.approx(0, abs=0.01), row["memory_mb"]
        assert other["duration_pct"] == pytest.approx(0, abs=1e-6), row["memory_mb"]
    assert "Compared like for like: durations are average billed durations" in page
    assert "Billed duration" in page

    facts = {fact["run"].id: fact for fact in response.context["facts"]}
    assert facts[native.id]["source"] == "measured by Tuneboard"
    assert facts[imported.id]["source"] == "imported from AWS Lambda Power Tuning"
    assert facts[native.id]["architecture"] == facts[imported.id]["architecture"] == "x86_64"
    runs_table = page.split('id="compare-runs"')[1].split("</table>")[0]
    assert runs_table.count("x86_64") == 2 and "inferred from its costs" in runs_table

    # With the imported run as the baseline, Power Tuning's own figure is shown under ours.
    page = importer.get(f"/runs/compare/?ids={imported.id}&ids={native.id}").content.decode()
    assert "Power Tuning: $0.0000000231" in page  # 11 ms × $0.0000000021


@pytest.mark.django_db
def test_an_imported_runs_architecture_is_inferred_from_its_costs_and_priced_so(importer):
    from tuning import pricing
    from tuning.models import TuningRun

    assert import_link(importer, pt_link({512: 100.0}, PT_ARM_PER_MS_128)).status_code == 302
    run = TuningRun.objects.get()
    assert run.architecture == "arm64"
    assert importer.get(f"/api/runs/{run.id}/").json()["architecture"] == "arm64"
    (figures,) = like_for_like(run, run.results.all(), billed=True)
    assert figures.avg_cost_usd == pricing.invocation_cost(512, 100, "arm64", "us-east-1")
    assert figures.reported_cost_usd == run.results.get().avg_cost_usd


def test_costs_no_architecture_explains_are_left_unnamed():
    from tuning.powertuning import Point, infer_architecture

    assert infer_architecture([Point(512, 100.0, 1e-3)], "us-east-1") is None
    assert infer_architecture([Point(512, 0.0, 0.0)], "us-east-1") is None
    assert infer_architecture([Point(512, 100.0, 4 * 100 * 2.1e-9)], "us-east-1") == "x86_64"


@pytest.mark.django_db
def test_runs_measured_by_tuneboard_alone_keep_their_measured_durations(client, django_user_model):
    from tests.tuning.runfactory import make_run

    client.force_login(django_user_model.objects.create_user("mo"))
    x86 = make_run(function="orders", sizes=(512,))
    arm = make_run(function="orders", sizes=(512,), architecture="arm64")
    response = client.get(f"/runs/compare/?ids={x86.id}&ids={arm.id}")
    page = response.content.decode()
    assert "Durations are trimmed means of the measured duration" in page
    baseline = response.context["table"][0]["baseline"]
    assert baseline.avg_duration_ms == x86.results.get().avg_duration_ms
    assert baseline.avg_cost_usd == x86.results.get().avg_cost_usd
    assert [fact["architecture"] for fact in response.context["facts"]] == ["x86_64", "arm64"]
