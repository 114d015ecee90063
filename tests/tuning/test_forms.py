"""Parsing and validation of the sweep form's fields (the parsers are tuning.params')."""

import pytest

from tuning.forms import SweepForm
from tuning.params import InvalidSweep, parse_function, parse_json_text, parse_memory_sizes

pytestmark = pytest.mark.django_db


def test_memory_sizes_are_deduplicated_and_sorted():
    assert parse_memory_sizes("3008, 128 512;512 1024MB") == [128, 512, 1024, 3008]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("64", "64 MB is below Lambda's minimum of 128 MB."),
        ("20000", "20000 MB is above Lambda's maximum of 10240 MB."),
        ("512, big", "“big” is not a whole number of MB."),
        ("", "Enter at least one memory size"),
    ],
)
def test_memory_sizes_outside_lambdas_range_are_refused_with_a_reason(text, message):
    with pytest.raises(ValueError) as error:
        parse_memory_sizes(text)
    assert message in str(error.value)


def test_the_lambda_limits_themselves_are_accepted():
    assert parse_memory_sizes("128,10240") == [128, 10240]


def test_a_json_error_names_its_line_and_column():
    with pytest.raises(ValueError) as error:
        parse_json_text('{\n  "a": 1,\n  "b": [1, 2,,]\n}', "Payload")
    message = str(error.value)
    assert "line 3, column" in message
    assert '"b": [1, 2,,]' in message


@pytest.mark.parametrize(
    ("value", "name", "qualifier", "region"),
    [
        ("tuneboard-cpu", "tuneboard-cpu", "", None),
        ("tuneboard-cpu:live", "tuneboard-cpu", "live", None),
        ("arn:aws:lambda:eu-west-1:123456789012:function:my-fn", "my-fn", "", "eu-west-1"),
        ("arn:aws:lambda:us-east-1:123456789012:function:my-fn:7", "my-fn", "7", "us-east-1"),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST",
            "my-fn",
            "$LATEST",
            "us-east-1",
        ),
    ],
)
def test_function_names_and_qualified_arns_are_understood(value, name, qualifier, region):
    parsed = parse_function(value)
    assert (parsed.name, parsed.qualifier, parsed.region) == (name, qualifier, region or "")


@pytest.mark.parametrize(
    "value", ["", "has space", "arn:aws:s3:::bucket", "x" * 65, "fn:bad qualifier"]
)
def test_bad_function_references_are_refused(value):
    with pytest.raises(InvalidSweep):
        parse_function(value)


def _form(user, **data):
    base = {
        "region": "us-east-1",
        "function": "tuneboard-cpu",
        "memory_sizes": "512",
        "invocations_per_size": "10",
        "payload": "{}",
        "concurrency": "1",
        "strategy": "cost",
        "balanced_weight": "0.5",
        "discard_fraction": "0.2",
    }
    base.update(data)
    return SweepForm(base, user=user)


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-horse-42")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"invocations_per_size": "0"}, "invocations_per_size"),
        ({"sleep_between_ms": "-1"}, "sleep_between_ms"),
        ({"max_error_share": "2"}, "max_error_share"),
        ({"invocations_per_size": "1001"}, "invocations_per_size"),
        ({"discard_fraction": "0.5"}, "discard_fraction"),
        ({"concurrency": "0"}, "concurrency"),
        ({"parallel": "on", "concurrency": ""}, "concurrency"),
        ({"concurrency": ""}, None),  # serial: the (disabled) cap is not needed
        ({"auto_apply_target": "7"}, "auto_apply_target"),
        (
            {"weighted_payloads": '[{"payload": {}, "weight": -1}]', "payload": ""},
            "weighted_payloads",
        ),
        ({"weighted_payloads": '[{"payload": {}}]', "payload": '{"a": 1}'}, "weighted_payloads"),
        (
            {
                "memory_sizes": "128 256 512 1024",
                "invocations_per_size": "1000",
                "weighted_payloads": "",
            },
            None,
        ),
    ],
)
def test_each_bad_value_is_reported_on_its_own_field(admin, data, field):
    form = _form(admin, **data)
    if field is None:
        assert form.is_valid(), form.errors
    else:
        assert not form.is_valid()
        assert field in form.errors, form.errors


def test_weighted_payloads_replace_the_single_payload(admin):
    form = _form(
        admin,
        payload="",
        weighted_payloads='[{"payload": {"a": 1}, "weight": 3}, {"payload": {"a": 2}}]',
    )
    assert form.is_valid(), form.errors
    fields = form.params.run_fields()
    assert fields["payload"] == {}
    assert fields["weighted_payloads"] == [
        {"payload": {"a": 1}, "weight": 3},
        {"payload": {"a": 2}, "weight": 1},
    ]


def test_a_user_without_permission_gets_a_form_wide_error(django_user_model):
    user = django_user_model.objects.create_user("mia", password="correct-horse-42")
    form = _form(user)
    assert not form.is_valid()
    assert "tuning.add_tuningrun" in form.non_field_errors()[0]
