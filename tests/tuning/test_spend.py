"""What a sweep spent: the stored total, and the page, the API and the CLI saying it."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from dashboard.templatetags.units import format_usd
from tests.tuning.runfactory import _outcome, make_run
from tuning import pricing, spend
from tuning.aws import InvokeOutcome
from tuning.engine.recording import record_invocation
from tuning.models import Invocation, TuningRun

FEE = Decimal("0.0000002")


def test_the_total_is_the_sum_of_the_recorded_costs():
    spent = spend.sweep_cost(
        [Decimal("0.000001"), Decimal("0.000002")], FEE, errors=1, cold_starts=1
    )
    assert spent == {
        "usd": "0.000003",
        "invocations": 2,
        "unmeasured": 0,
        "errors": 1,
        "cold_starts": 1,
    }


def test_a_call_without_a_report_still_paid_its_request_fee():
    spent = spend.sweep_cost([Decimal("0.000001")], FEE, unmeasured=2)
    assert (spent["usd"], spent["invocations"], spent["unmeasured"]) == ("0.0000014", 3, 2)


def test_without_a_price_for_the_region_the_total_is_unknown():
    assert spend.sweep_cost([None, None], None)["usd"] is None
    assert spend.sweep_cost([Decimal("0.000001")], None, unmeasured=1)["usd"] is None
    assert spend.sweep_cost([Decimal("0.000001")], None)["usd"] == "0.000001"


def test_a_sweep_that_made_no_call_cost_nothing():
    assert spend.sweep_cost([], FEE)["usd"] == "0"


def test_the_sentence_says_the_total_the_calls_and_what_is_in_them():
    spent = spend.sweep_cost([Decimal("0.0000123")] * 3, FEE, unmeasured=1, errors=1, cold_starts=2)
    text = spend.sentence(spent, format_usd)
    assert text.startswith("This sweep cost $0.0000371 in Lambda charges (4 invocations, of ")
    assert "1 with errors and 2 cold starts" in text
    assert "1 returned no REPORT line: only their request fee is counted" in text
    assert spend.sentence(None, format_usd) == ""
    unknown = spend.sentence(spend.sweep_cost([None], None), format_usd)  # no price
    assert unknown == (
        "This sweep made 1 invocation; what they cost is unknown (no Lambda price for its region)."
    )


@pytest.mark.django_db
def test_a_finished_run_stores_every_invocation_it_made_errors_and_cold_starts_included():
    # 1024 MB fails every call (out of memory): billed and counted all the same.
    run = make_run(sizes=(512, 1024), num=5, failed_sizes=(1024,), ephemeral_storage=2048)
    made = list(Invocation.objects.filter(run=run))
    spent = run.sweep_cost
    assert spent["invocations"] == len(made) == 10
    assert spent["errors"] == 5
    assert spent["cold_starts"] == 2  # the first call of each size
    assert Decimal(spent["usd"]) == sum(i.cost_usd for i in made)
    # Each recorded cost holds the 1.5 GB of ephemeral storage above the free 512 MB.
    one = made[0]
    billed = one.billed_duration_ms
    exact = pricing.invocation_cost(one.memory_mb, billed, ephemeral_storage_mb=2048)
    assert abs(one.cost_usd - exact) <= Decimal("1e-12")  # stored to 12 decimals
    assert exact > pricing.invocation_cost(one.memory_mb, billed)


@pytest.mark.django_db
def test_an_invocation_without_a_report_adds_its_request_fee():
    run = make_run(sizes=(512,), num=3)
    result = run.results.get()
    lost = InvokeOutcome(
        report=None, error_type="", error_message="", executed_version="1", log_tail=""
    )
    record_invocation(run, result, 99, 0, lost)
    run.store_sweep_cost()
    run.refresh_from_db()
    costs = [i.cost_usd for i in Invocation.objects.filter(run=run) if i.cost_usd is not None]
    assert run.sweep_cost["unmeasured"] == 1
    assert Decimal(run.sweep_cost["usd"]) == sum(costs) + pricing.request_price("us-east-1")


@pytest.mark.django_db
def test_re_analysing_a_run_keeps_its_total():
    run = make_run(sizes=(512,), num=3)
    spent = run.sweep_cost
    run.store_analysis()
    run.refresh_from_db()
    assert run.sweep_cost == spent and run.recommendation() is not None


@pytest.mark.django_db
def test_the_page_the_api_and_the_cli_show_the_same_total(django_user_model, capsys):
    user = django_user_model.objects.create_user("viewer", password="pw")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    run = make_run(sizes=(512, 1024), num=4)
    sentence = spend.sentence(run.sweep_cost, format_usd)
    assert sentence.startswith("This sweep cost $0.")
    assert "(8 invocations, of which 2 cold starts)" in sentence

    page = client.get(f"/runs/{run.id}/").content.decode()
    assert f'<dd id="sweep-cost">{sentence}</dd>' in page
    assert client.get(f"/api/runs/{run.id}/").json()["sweep_cost"] == run.sweep_cost
    call_command("show_run", str(run.id))
    assert sentence in capsys.readouterr().out
    call_command("show_run", str(run.id), "--json")
    assert json.loads(capsys.readouterr().out)["sweep_cost"] == run.sweep_cost


@pytest.mark.django_db
def test_an_imported_run_shows_what_power_tuning_said_its_sweep_cost(django_user_model):
    from tuning import powertuning
    from tuning.params import parse_function

    user = django_user_model.objects.create_user("viewer", password="pw")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    output = {"power": 512, "stats": [{"value": 512, "averagePrice": 1e-6, "averageDuration": 9}]}
    output["stateMachine"] = {"lambdaCost": 0.0001234}
    imported = powertuning.parse_source(json.dumps(output))
    run = powertuning.import_run(imported, function=parse_function("orders"), region="us-east-1")
    assert run.sweep_cost is None  # Tuneboard did not make these calls
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert (
        '<dd id="sweep-cost">Power Tuning reported $0.000123 in Lambda charges for its sweep '
        "(lambdaCost: duration only, without request fees).</dd>"
    ) in page


@pytest.mark.django_db
def test_a_sweep_in_a_region_without_a_price_says_its_cost_is_unknown(capsys):
    run = make_run(sizes=(128, 512), num=3, region="ca-central-1")
    assert run.price_unknown  # no Lambda price is known for ca-central-1
    spent = run.sweep_cost
    assert (spent["usd"], spent["invocations"], spent["unmeasured"]) == (None, 6, 0)
    call_command("show_run", str(run.id))
    assert (
        "This sweep made 6 invocations, of which 2 cold starts; what they cost is unknown"
        in capsys.readouterr().out
    )


def test_processor_calls_are_in_the_total_and_told_apart():
    spent = spend.sweep_cost([Decimal("0.000010")] * 2, FEE, processors=(4, 1, Decimal("0.000003")))
    # 3 priced processor calls cost $0.000003; the 4th counts its request fee only.
    assert spent["processors"] == {"invocations": 4, "unpriced": 1, "usd": "0.0000032"}
    assert (spent["usd"], spent["invocations"]) == ("0.0000232", 2)
    text = spend.sentence(spent, format_usd)
    assert text.startswith(
        "This sweep cost $0.0000232 in Lambda charges: $0.0000200 for its 2 invocations and "
        "$0.00000320 for 4 processor calls (pre-/post-processors, not measured)."
    ), text
    assert "1 processor call returned no REPORT line or the processor's configuration" in text
    unknown = spend.sweep_cost([None], None, processors=(2, 2, Decimal(0)))
    assert unknown["usd"] is None and unknown["processors"]["usd"] is None
    assert spend.sentence(unknown, format_usd) == (
        "This sweep made 1 invocation, and 2 processor calls; what they cost is unknown (no "
        "Lambda price for its region)."
    )


@pytest.mark.django_db(transaction=True)  # the buffer stores from its own thread
def test_a_batch_adds_its_processor_calls_to_the_run_with_its_invocations():
    from tuning.engine.recording import InvocationBuffer, invocation_row

    run = make_run(sizes=(512,), num=2, status="RUNNING")
    TuningRun.objects.filter(pk=run.pk).update(pre_processor="prepare")
    run.refresh_from_db()
    result = run.results.get()
    made = [invocation_row(run, result, seq, 0, _outcome(512, 10.0, seq, None)) for seq in (0, 1)]
    with InvocationBuffer(run, result) as buffer:
        for row in made:
            buffer.add_processor_call(Decimal("0.000001"))
            buffer.add(row)
    # A redelivered batch: the invocations are stored already, its processor calls were made.
    with InvocationBuffer(run, result) as again:
        again.add_processor_call(None)
        again.add(invocation_row(run, result, 0, 0, _outcome(512, 10.0, 0, None)))
    run.refresh_from_db()
    assert (run.invocations_done, run.processor_invocations, run.processor_unpriced) == (2, 3, 1)
    assert run.processor_cost_usd == Decimal("0.000002")
    run.store_sweep_cost()
    spent = run.sweep_cost
    assert spent["invocations"] == 2 and spent["processors"]["invocations"] == 3
    stored = sum(i.cost_usd for i in Invocation.objects.filter(run=run))
    assert Decimal(spent["usd"]) == stored + Decimal("0.000002") + FEE


@pytest.mark.django_db
def test_a_run_without_processors_says_nothing_of_them():
    run = make_run(sizes=(512,), num=2)
    assert "processors" not in run.sweep_cost
    assert "processor" not in spend.sentence(run.sweep_cost, format_usd)
