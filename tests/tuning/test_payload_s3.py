"""payloadS3: the URI is checked in form, API and CLI; the worker's read fails clearly (botocore's
Stubber answers for S3)."""

import io
import json

import pytest
from botocore.response import StreamingBody
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

from dashboard.models import ApiToken
from tuning import runs, s3payload
from tuning.forms import SweepForm
from tuning.models import TuningRun
from tuning.params import InvalidSweep, SweepParams
from tuning.serializers import run_to_dict

pytestmark = pytest.mark.django_db

URI = "s3://my-events/orders/big-event.json"


@pytest.fixture
def starter(django_user_model):
    user = django_user_model.objects.create_user("sam")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    return user


def _api(body, user):
    _token, key = ApiToken.issue(user, "tests")
    return Client(enforce_csrf_checks=True).post(
        "/api/runs/", json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )  # fmt: skip


@pytest.mark.parametrize(
    "uri",
    ["my-events/key.json", "s3://my-events", "s3://my-events/", "s3://My_Bucket/k", "https://x/y",
     "s3://ab/k", 5],
)  # fmt: skip
def test_a_malformed_uri_is_a_field_error(uri):
    with pytest.raises(InvalidSweep) as invalid:
        SweepParams.parse({"function": "f", "memory_sizes": [128], "payload_s3": uri})
    assert invalid.value.field == "payload_s3"


@pytest.mark.parametrize(
    "inline", [{"payload": {"a": 1}}, {"weighted_payloads": [{"payload": {}, "weight": 1}]}]
)
def test_an_s3_payload_and_an_inline_one_are_exclusive(inline):
    with pytest.raises(InvalidSweep) as invalid:
        SweepParams.parse({"function": "f", "memory_sizes": [128], "payload_s3": URI, **inline})
    assert invalid.value.field == "payload_s3"
    assert "not both" in str(invalid.value)


def test_the_api_stores_only_the_uri_and_returns_it(starter):
    response = _api({"function": "f", "memory_sizes": [128], "payload_s3": URI}, starter)
    assert response.status_code == 201, response.json()
    assert response.json()["payload_s3"] == URI
    run = TuningRun.objects.get()
    assert (run.payload_s3, run.payload) == (URI, {})


def test_share_pages_leave_the_uri_out(starter):
    run = runs.start_run(
        SweepParams.parse({"function": "f", "memory_sizes": [128], "payload_s3": URI}),
        created_by=starter,
    )
    assert run_to_dict(run)["payload_s3"] == URI
    assert run_to_dict(run, private=False)["payload_s3"] is None


def test_the_api_names_the_field_of_a_malformed_uri(starter):
    response = _api({"function": "f", "memory_sizes": [128], "payload_s3": "bucket/key"}, starter)
    assert response.status_code == 400
    assert "s3://bucket/key" in response.json()["fields"]["payload_s3"]
    assert not TuningRun.objects.exists()


def test_the_form_shows_the_error_on_the_field(django_user_model):
    admin = django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")
    form = SweepForm(
        {"function": "f", "memory_sizes": "128", "invocations_per_size": "1",
         "region": "us-east-1", "strategy": "cost", "balanced_weight": "0.5",
         "discard_fraction": "0.2", "payload_s3": "s3:/nope"},
        user=admin,
    )  # fmt: skip
    assert not form.is_valid()
    assert "s3://bucket/key" in form.errors["payload_s3"][0]


def test_the_cli_starts_a_sweep_with_an_s3_payload(capsys):
    call_command("sweep", "f", "--power", "128", "--payload-s3", URI)
    assert TuningRun.objects.get().payload_s3 == URI


def test_a_re_run_keeps_the_s3_payload(django_user_model):
    admin = django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")
    params = SweepParams.parse({"function": "f", "memory_sizes": [128], "payload_s3": URI})
    run = runs.start_run(params, created_by=admin)
    TuningRun.objects.filter(pk=run.pk).update(status="FAILED")
    assert runs.rerun(run, admin).payload_s3 == URI
    assert SweepParams.from_run(run).form_initial()["payload_s3"] == URI


# ---------------------------------------------------------------- the worker's read


def _head(stub, size):
    stub.add_response(
        "head_object", {"ContentLength": size},
        {"Bucket": "my-events", "Key": "orders/big-event.json"},
    )  # fmt: skip


def _get(stub, body: bytes):
    stub.add_response(
        "get_object", {"Body": StreamingBody(io.BytesIO(body), len(body))},
        {"Bucket": "my-events", "Key": "orders/big-event.json"},
    )  # fmt: skip


def test_the_worker_reads_the_object_as_the_payload(stubbed):
    stub = stubbed("s3")
    body = json.dumps({"order": 42}).encode()
    _head(stub, len(body))
    _get(stub, body)
    assert s3payload.read_payload(None, "us-east-1", URI) == body


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [("404", 404, "does not exist"), ("403", 403, "Access denied"),
     ("NoSuchBucket", 404, "bucket of the payload")],
)  # fmt: skip
def test_a_missing_or_forbidden_object_is_a_clear_error(stubbed, code, status, message):
    stubbed("s3").add_client_error("head_object", service_error_code=code, http_status_code=status)
    with pytest.raises(s3payload.PayloadUnavailable) as failed:
        s3payload.read_payload(None, "us-east-1", URI)
    assert message in str(failed.value) and URI in str(failed.value)


def test_an_object_over_lambdas_6_mb_is_refused_before_it_is_downloaded(stubbed):
    stub = stubbed("s3")
    _head(stub, 6 * 1024 * 1024 + 1)
    with pytest.raises(s3payload.PayloadUnavailable, match="at most 6,291,456 bytes"):
        s3payload.read_payload(None, "us-east-1", URI)
    stub.assert_no_pending_responses()


def test_an_object_that_is_not_json_is_refused(stubbed):
    stub = stubbed("s3")
    _head(stub, 9)
    _get(stub, b"not json!")
    with pytest.raises(s3payload.PayloadUnavailable, match="is not JSON"):
        s3payload.read_payload(None, "us-east-1", URI)
