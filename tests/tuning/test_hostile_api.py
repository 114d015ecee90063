"""Hostile input to the runs JSON API (and the sweep form's JSON fields): every answer is a 4xx
with a message naming the field and the limit, or a success whose run every page can show —
never a 500. Explicit regressions first, then Hypothesis-generated bodies and queries.

Requests go through a logged-in session with Django's CSRF checks on, as a browser's would.
Starting a sweep enqueues its task on commit; the test transaction never commits, so no
worker is needed.
"""

import json
from decimal import Decimal
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.tuning.runfactory import make_run
from tuning.models import TuningRun
from tuning.params import MAX_PAYLOAD_BYTES, MAX_PAYLOAD_DEPTH, MAX_TEXT_CHARS, SweepParams

pytestmark = pytest.mark.django_db

HYPOTHESIS = hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALID = {"function": "hostile-fn", "memory_sizes": [128]}


class Raw(str):
    """JSON text put into a body as it is (NaN, 1e400, 50,000 brackets: what json.dumps won't
    write, or can't)."""


def dumps(value) -> str:
    """JSON as Python writes it by default (NaN and Infinity included), Raw parts as they are."""
    if isinstance(value, Raw):
        return value
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    return json.dumps(value)


def nested(depth: int, inner: str = "1") -> Raw:
    return Raw("[" * depth + inner + "]" * depth)


@pytest.fixture
def api(django_user_model):
    """A browser-like client: logged in, with the CSRF cookie of a page it loaded."""
    admin = django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.get("/runs/new/").status_code == 200
    client.csrf = client.cookies["csrftoken"].value
    return client


@pytest.fixture
def other_run():
    """A finished run to compare a new one with."""
    return make_run(function="reference-fn", sizes=(128, 512), num=3)


def post(client, path: str, body: str | bytes = b"", **extra):
    return client.post(
        path, body, content_type="application/json", HTTP_X_CSRFTOKEN=client.csrf, **extra
    )


def start(client, fields_or_text):
    body = fields_or_text if isinstance(fields_or_text, str | bytes) else dumps(fields_or_text)
    return post(client, "/api/runs/", body)


def assert_refused(response, status=400, field=None, *words):
    """A JSON error with a message; naming ``field`` and containing ``words`` when given."""
    assert response.status_code == status, response.content[:500]
    data = response.json()
    assert isinstance(data["error"], str) and data["error"]
    if field is not None:
        assert field in data["fields"], data
        for word in words:
            assert word in data["fields"][field], data
    else:
        for word in words:
            assert word in data["error"], data
    return data


def assert_pages_show(client, run_id, other_run):
    """The run page, the compare page with it and its API detail all answer."""
    assert client.get(f"/runs/{run_id}/").status_code == 200
    compare = client.get(f"/runs/compare/?ids={run_id}&ids={other_run.id}")
    assert compare.status_code == 200
    assert client.get(f"/api/runs/{run_id}/").status_code == 200


def assert_answer(client, response, other_run):
    """What must hold for any request: a 4xx with a JSON message, or a run pages can show."""
    assert response.status_code < 500, response.content[:500]
    if response.status_code == 201:
        run_id = response.json()["id"]
        assert_pages_show(client, run_id, other_run)
        # Cancelled (at once: it is pending), so the next example may start the function again.
        assert post(client, f"/api/runs/{run_id}/cancel/").status_code == 202
    else:
        assert 400 <= response.status_code < 500
        data = response.json()
        assert isinstance(data["error"], str) and data["error"]
        assert all(isinstance(m, str) and m for m in data.get("fields", {}).values()), data


# --------------------------------------------------------------------------- regressions


@pytest.mark.parametrize(
    "field,raw",
    [
        ("balanced_weight", "NaN"),
        ("balanced_weight", "Infinity"),
        ("discard_fraction", "-Infinity"),
        ("max_error_share", "1e400"),  # overflows to infinity in Python's json
        ("invocations_per_size", "Infinity"),
        ("memory_sizes", "[128, NaN]"),
        ("payload", '{"a": NaN}'),
        ("payload", "[1e400]"),
        ("weighted_payloads", '[{"payload": {}, "weight": Infinity}]'),
        ("weighted_payloads", '[{"payload": {"x": -Infinity}, "weight": 1}]'),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_field(api, field, raw):
    response = start(api, {**VALID, field: Raw(raw)})
    assert_refused(response, 400, field)
    assert not TuningRun.objects.exists()


def test_a_body_nested_50000_deep_is_refused_with_the_limit(api):
    assert_refused(start(api, nested(50_000)), 400, None, f"at most {MAX_PAYLOAD_DEPTH} levels")
    response = start(api, {**VALID, "payload": nested(50_000)})
    assert_refused(response, 400, None, f"at most {MAX_PAYLOAD_DEPTH} levels")


def test_a_payload_may_be_nested_32_levels_but_not_33(api, other_run):
    response = start(api, {**VALID, "payload": nested(MAX_PAYLOAD_DEPTH)})
    assert response.status_code == 201, response.json()
    assert_answer(api, response, other_run)
    response = start(api, {**VALID, "payload": nested(MAX_PAYLOAD_DEPTH + 1)})
    assert_refused(response, 400, "payload", f"at most {MAX_PAYLOAD_DEPTH}")
    weighted = Raw(f'[{{"payload": {nested(MAX_PAYLOAD_DEPTH + 1)}, "weight": 1}}]')
    assert_refused(start(api, {**VALID, "weighted_payloads": weighted}), 400, "weighted_payloads")


@pytest.mark.parametrize(
    "field,value",
    [
        ("function", 123),
        ("function", ["orders"]),
        ("function", {"name": "orders"}),
        ("auto_apply_target", 5),
        ("auto_apply_target", True),
        ("auto_apply_target", ["live"]),
        ("auto_apply_target", {"alias": "live"}),
        ("region", 1),
        ("strategy", ["cost"]),
        ("account", {"name": "x"}),
        ("invocations_per_size", "ten"),
        ("balanced_weight", [0.5]),
        ("parallel", "maybe"),
        ("memory_sizes", {"128": True}),
    ],
)
def test_wrong_types_are_refused_naming_the_field(api, field, value):
    assert_refused(start(api, {**VALID, field: value}), 400, field)


@pytest.mark.parametrize(
    "field,value,words",
    [
        ("function", "orders\x00", ["U+0000"]),
        ("auto_apply_target", "live\x07", ["U+0007"]),
        ("account", "prod\x00", ["U+0000"]),
        ("payload", {"key": "a\x00b"}, ["U+0000"]),
        ("payload", {"a\x00": 1}, ["U+0000"]),
        ("function", "f" * (MAX_TEXT_CHARS + 1), [f"at most {MAX_TEXT_CHARS:,} characters"]),
        ("invocations_per_size", 10**300, ["between 1 and 1000"]),
        ("invocations_per_size", "9" * 4000, ["whole number"]),
        ("memory_sizes", ["9" * 5000], ["above Lambda's maximum of 10240 MB"]),
        ("memory_sizes", [0, -128, 99_999_999], ["below", "above"]),
        ("memory_sizes", list(range(128, 1129, 10)), ["At most 100 memory sizes"]),
        ("sleep_between_ms", -1, ["between 0 and 60000"]),
        # An int beyond a float's range (found by the property test below: was a 500).
        ("weighted_payloads", [{"payload": {}, "weight": 10**400}], ["at most 1,000,000"]),
    ],
)
def test_control_characters_huge_and_negative_values_are_refused_with_the_limit(
    api, field, value, words
):
    response = start(api, {**VALID, field: value})
    data = assert_refused(response, 400, field, *words)
    assert len(data["error"]) < 1000  # the value is not echoed in full


def test_an_unpaired_surrogate_in_a_payload_is_refused(api):
    response = start(api, {**VALID, "payload": Raw('{"text": "\\ud800"}')})
    assert_refused(response, 400, "payload", "surrogate")


def test_a_payload_over_its_size_limit_is_a_field_error_naming_the_limit(api):
    padding = MAX_PAYLOAD_BYTES - len(json.dumps({"p": ""}, separators=(",", ":")))
    response = start(api, {**VALID, "payload": {"p": "x" * (padding + 1)}})
    assert_refused(response, 400, "payload", f"at most {MAX_PAYLOAD_BYTES:,} bytes (256 KiB)")
    halves = [{"payload": {"p": "x" * (padding // 2 + 1)}, "weight": 1}] * 2
    response = start(api, {**VALID, "weighted_payloads": halves})
    assert_refused(response, 400, "weighted_payloads", f"at most {MAX_PAYLOAD_BYTES:,} bytes")


def test_a_payload_at_its_size_limit_fits_in_a_request_even_escaped(api, other_run):
    padding = MAX_PAYLOAD_BYTES - len(json.dumps({"p": ""}, separators=(",", ":")))
    # ensure_ascii: each "é" (2 bytes as UTF-8) travels as \u00e9 (6 bytes).
    response = start(api, json.dumps({**VALID, "payload": {"p": "é" * (padding // 2)}}))
    assert response.status_code == 201, response.json()
    assert_answer(api, response, other_run)


def test_a_body_over_the_request_limit_gets_413_with_the_limit_in_json(api):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = start(api, json.dumps({**VALID, "payload": "x" * limit}))
    data = assert_refused(response, 413, None, f"{limit:,} bytes")
    assert data["limit"] == limit


def test_a_body_that_is_not_a_json_object_is_refused(api):
    for body in (b"\xff\xfe\x00", b"[1, 2]", b'"text"', b"NaN", b"{", b"9" * 5000):
        assert_refused(start(api, body), 400)


def test_the_list_refuses_hostile_filters_and_answers_pages_past_the_end(api):
    assert_refused(api.get("/api/runs/?function=%00"), 400, None, "U+0000")
    assert_refused(api.get(f"/api/runs/?function={'f' * (MAX_TEXT_CHARS + 1)}"), 400)
    assert_refused(api.get(f"/api/runs/?page={'9' * 5000}"), 400, None, "whole number")
    far = api.get("/api/runs/?page=99999999999999999999")  # beyond PostgreSQL's bigint OFFSET
    assert far.status_code == 200
    assert far.json()["results"] == []


@pytest.mark.parametrize("field,text", [("payload", '{"a": NaN}'), ("payload", "Infinity")])
def test_the_sweep_form_refuses_non_finite_numbers_in_json_fields(api, field, text):
    form = {
        "function": "hostile-fn", "memory_sizes": "128", "invocations_per_size": "1",
        "region": "us-east-1", "strategy": "cost", "balanced_weight": "0.5",
        "discard_fraction": "0.2", "max_error_share": "0.2", "sleep_between_ms": "0",
        field: text,
    }  # fmt: skip
    response = api.post("/runs/new/", form, HTTP_X_CSRFTOKEN=api.csrf)
    assert response.status_code == 400
    assert "NaN or Infinity" in response.context["form"].errors[field][0]
    assert not TuningRun.objects.exists()


@pytest.mark.parametrize("field", ["payload", "weighted_payloads"])
def test_the_sweep_form_refuses_json_nested_50000_deep(api, field):
    form = {"function": "hostile-fn", "memory_sizes": "128", "region": "us-east-1",
            "strategy": "cost", field: nested(50_000)}  # fmt: skip
    response = api.post("/runs/new/", form, HTTP_X_CSRFTOKEN=api.csrf)
    assert response.status_code == 400
    assert f"at most {MAX_PAYLOAD_DEPTH} levels" in response.context["form"].errors[field][0]


@pytest.mark.parametrize(
    "payload,words",
    [('{"a": NaN}', "NaN or Infinity"), (nested(50_000), f"at most {MAX_PAYLOAD_DEPTH} levels")],
)
def test_the_command_line_shares_the_limits(payload, words):
    with pytest.raises(CommandError, match=words):
        call_command("sweep", "hostile-fn", "--power", "128", "--payload", payload)
    assert not TuningRun.objects.exists()


# --------------------------------------------------------------------------- generated

FIELDS = list(SweepParams.declared())

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, -1, -128, 2**31, 2**63, -(2**63) - 1, 10**300, 1e308, -0.0, 5e-324]),
)
texts = st.one_of(
    st.text(max_size=30),  # any unicode, control characters included
    st.text(st.characters(max_codepoint=0x1F), max_size=5),
    st.builds(lambda c, n: c * n, st.characters(), st.sampled_from([MAX_TEXT_CHARS + 1, 70_000])),
    st.sampled_from(["$LATEST", "live", "tb-live", "orders:7", "us-east-1", "cost", "128, 512"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
raw_values = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 4000]),
    st.sampled_from(['"\\u0000"', '"\\ud800"', '{"a": "\\udfff"}', "[NaN]", '{"x": 1e999}']),
    st.integers(min_value=MAX_PAYLOAD_DEPTH - 2, max_value=3000).map(nested),
    st.integers(min_value=20_000, max_value=60_000).map(lambda depth: nested(depth, "")),
).map(Raw)
hostile = st.one_of(json_values, raw_values)
weighted = st.lists(
    st.fixed_dictionaries({"payload": hostile}, optional={"weight": hostile}), max_size=3
)


@st.composite
def bodies(draw):
    """A valid body with some fields replaced by hostile values, and maybe unknown ones."""
    fields = dict(VALID)
    for name in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4, unique=True)):
        fields[name] = draw(weighted if name == "weighted_payloads" else hostile)
    if draw(st.booleans()):
        fields.update(draw(st.dictionaries(st.text(max_size=20), hostile, max_size=2)))
    return fields


@HYPOTHESIS
@given(fields=bodies())
def test_any_body_gets_a_json_refusal_or_a_run_every_page_shows(api, other_run, fields):
    response = start(api, fields)
    event(f"status {response.status_code}")
    assert_answer(api, response, other_run)


finite_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
).filter(lambda value: value is not None)  # a null payload means the default, {}


@HYPOTHESIS
@given(payload=finite_json)
def test_any_finite_json_payload_is_stored_as_sent_unless_it_holds_nul(api, other_run, payload):
    response = start(api, {**VALID, "payload": payload})
    if "\\u0000" in json.dumps(payload):
        assert_refused(response, 400, "payload", "U+0000")
        return
    stored = api.get(f"/api/runs/{response.json().get('id')}/").json().get("payload")
    assert_answer(api, response, other_run)  # the pages show it; then cancelled
    assert response.status_code == 201, response.json()
    assert as_numbers(stored) == as_numbers(payload)


def as_numbers(value):
    """JSON with exact numbers: PostgreSQL's jsonb gives 7.2e+16 back as 72000000000000000."""
    return json.loads(json.dumps(value), parse_float=Decimal, parse_int=Decimal)


@HYPOTHESIS
@given(body=st.one_of(hostile.map(dumps), st.binary(max_size=200)))
def test_any_body_that_is_not_an_object_gets_a_json_refusal(api, other_run, body):
    assert_answer(api, start(api, body), other_run)


query_values = st.one_of(
    st.text(max_size=40),
    numbers.map(str),
    st.sampled_from(["", "0", "-1", "\x00", "99999999999999999999", "9" * 5000, "f" * 3000]),
)


@HYPOTHESIS
@given(
    query=st.dictionaries(
        st.sampled_from(["page", "page_size", "function", "status", "other"]), query_values
    )
)
def test_any_list_query_gets_a_page_or_a_json_refusal(api, query):
    response = api.get(f"/api/runs/?{urlencode(query)}")
    assert response.status_code in (200, 400), response.content[:500]
    assert ("results" if response.status_code == 200 else "error") in response.json()


@HYPOTHESIS
@given(pk=st.text(min_size=1, max_size=300).filter(lambda pk: "/" not in pk))
def test_any_run_id_gets_a_run_or_a_json_404(api, pk):
    quoted = quote(pk, safe="")
    detail = api.get(f"/api/runs/{quoted}/")
    cancel = post(api, f"/api/runs/{quoted}/cancel/")
    for response in (detail, cancel):
        assert response.status_code == 404, response.content[:500]
        assert response.json()["error"] == "No such run."
