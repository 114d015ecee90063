"""Hostile Power Tuning imports (state machine output JSON and visualizer links): a form field
error, or an imported run that the run page, the compare page, the API and the estimate for its
function all show — never a 500, never a stored figure that breaks a page."""

import base64
import json
import struct

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.tuning.runfactory import make_run
from tuning import powertuning
from tuning.models import TuningRun
from tuning.params import MAX_MEMORY_SIZES, MAX_PAYLOAD_DEPTH

pytestmark = pytest.mark.django_db

HYPOTHESIS = hypothesis_settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FUNCTION = "imported-fn"


@pytest.fixture
def browser(django_user_model):
    """A logged-in client with Django's CSRF checks on and the token of the import page."""
    admin = django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.get("/runs/import/").status_code == 200
    client.csrf = client.cookies["csrftoken"].value
    return client


@pytest.fixture
def other_run():
    return make_run(function="reference-fn", sizes=(128, 512), num=3)


def stats_output(*rows, **extra) -> str:
    """Power Tuning output text; rows are (value, averagePrice, averageDuration) as JSON text,
    so that NaN, Infinity and 1e400 can be written."""
    items = ",".join(
        f'{{"value": {m}, "averagePrice": {c}, "averageDuration": {d}}}' for m, c, d in rows
    )
    more = "".join(f', "{key}": {value}' for key, value in extra.items())
    return f'{{"power": 128, "stats": [{items}]{more}}}'


def link(sizes, durations, costs) -> str:
    """A visualizer link holding exactly these Int16 sizes and Float32 figures."""

    def part(values, fmt):
        return base64.b64encode(struct.pack(f"<{len(values)}{fmt}", *values)).decode()

    return (
        f"{powertuning.VISUALIZER_URL}#{part(sizes, 'h')};{part(durations, 'f')};{part(costs, 'f')}"
    )


def submit(client, source, function=FUNCTION, **fields):
    data = {"function": function, "region": "us-east-1", "strategy": "cost", "source": source}
    return client.post("/runs/import/", {**data, **fields}, HTTP_X_CSRFTOKEN=client.csrf)


def assert_field_error(response, field="source", *words):
    assert response.status_code == 400, response.status_code
    errors = response.context["form"].errors
    assert field in errors, errors
    for word in words:
        assert word in errors[field][0], errors
    return errors[field][0]


def assert_every_page_shows(client, run, other_run):
    """What broke for good when a bad figure was stored."""
    assert client.get(f"/runs/{run.id}/").status_code == 200
    assert client.get(f"/runs/compare/?ids={run.id}&ids={other_run.id}").status_code == 200
    assert client.get(f"/api/runs/{run.id}/").status_code == 200
    estimate = client.get(
        "/runs/new/estimate/",
        {"function": run.function_name, "region": run.region, "memory_sizes": "128, 1024"},
    )
    assert estimate.status_code == 200
    assert estimate.json()["ok"], estimate.json()


def assert_answer(client, response, other_run):
    """Any import: a field error on the page, or a run every page shows."""
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        assert response.context["form"].errors
        return
    assert_every_page_shows(client, TuningRun.objects.latest("created_at"), other_run)


# --------------------------------------------------------------------------- regressions


@pytest.mark.parametrize(
    "row,words",
    [
        (("0", "0.000002", "100"), ["below Lambda's minimum of 128 MB"]),
        (("-128", "0.000002", "100"), ["-128 MB is below Lambda's minimum"]),
        (("99999999", "0.000002", "100"), ["above Lambda's maximum of 10240 MB"]),
        (("128", "Infinity", "100"), ["cost", "finite"]),
        (("128", "NaN", "100"), ["cost", "finite"]),
        (("128", "0.000002", "Infinity"), ["duration", "finite"]),
        (("128", "0.000002", "NaN"), ["duration", "finite"]),
        (("128", "0.000002", "1e400"), ["duration", "finite"]),
        (("128", "-0.000002", "100"), ["cost", "from 0"]),
        (("128", "0.000002", "-5"), ["duration", "from 0"]),
        (("128", "0.000002", "86400000"), ["duration", "from 0 to 900000"]),
        (("128", "1e30", "100"), ["cost", "from 0 to 100,"]),
        (("128.5", "0.000002", "100"), ["whole number of MB"]),
        (('"lots"', "0.000002", "100"), ["whole number of MB"]),
        (("128", "[1]", "100"), ["cost", "not a number"]),
        (("128", "0.000002", "true"), ["duration", "not a number"]),
    ],
)
def test_an_output_with_a_bad_figure_is_refused_naming_the_item(browser, row, words):
    message = assert_field_error(submit(browser, stats_output(row)), "source", "stats item 1")
    for word in words:
        assert word in message
    assert not TuningRun.objects.exists()


@pytest.mark.parametrize(
    "sizes,durations,costs,words",
    [
        ([0], [100.0], [0.000002], "below Lambda's minimum"),
        ([-128], [100.0], [0.000002], "-128 MB is below"),
        ([128], [float("inf")], [0.000002], "duration"),
        ([128], [float("nan")], [0.000002], "duration"),
        ([128], [100.0], [float("nan")], "cost"),
        ([128], [100.0], [-1.0], "cost"),
        ([128, 30000], [100.0, 50.0], [0.000002, 0.000003], "size #2"),
    ],
)
def test_a_link_with_a_bad_figure_is_refused_naming_the_size(
    browser, sizes, durations, costs, words
):
    message = assert_field_error(submit(browser, link(sizes, durations, costs)), "source")
    assert words in message
    assert not TuningRun.objects.exists()


@pytest.mark.parametrize(
    "source,words",
    [
        ("[" * 50_000 + "]" * 50_000, f"at most {MAX_PAYLOAD_DEPTH} levels"),
        ('{"stats": ' + "[" * 50_000 + "]" * 50_000 + "}", f"at most {MAX_PAYLOAD_DEPTH} levels"),
        (stats_output(("128", "0.000002", "100"), deep="[" * 40 + "]" * 40), "more than 32 levels"),
        (
            stats_output(("128", "0.000002", "100"), stateMachine='{"lambdaCost": NaN}'),
            "lambdaCost",
        ),
        (stats_output(("128", "0.000002", "100"), stateMachine='{"visualization": 5}'), "link"),
        (stats_output(("128", "0.000002", "100"), power="NaN"), "power"),
        (stats_output(("128", "0.000002", "100"), power="64"), "power"),
        ('{"stats": 5}', "stats must be a list"),
        (
            '{"stats": [' + ",".join(['{"value": 128}'] * (MAX_MEMORY_SIZES + 1)) + "]}",
            "at most 100",
        ),
        (
            '{"stateMachine": {"visualization": "javascript:alert(1)#AAA=;AAAAAA==;AAAAAA=="}}',
            "https",
        ),
        ("https://lambda-power-tuning.show/\x01#gAA=;AADAPw==;AACAPg==", "U+0001"),
        ("x" * (powertuning.MAX_SOURCE_CHARS + 1), "at most 262,144"),
    ],
)
def test_hostile_outputs_and_links_are_refused_with_a_message(browser, source, words):
    assert_field_error(submit(browser, source), "source", words)
    assert not TuningRun.objects.exists()


def test_a_function_arn_in_a_region_without_prices_is_refused(browser):
    url = link([128], [100.0], [0.000002])
    arn = "arn:aws:lambda:xx-nowhere-1:123456789012:function:orders"
    assert_field_error(submit(browser, url, function=arn), "function", "xx-nowhere-1")


@pytest.mark.parametrize("account", ["9" * 30, "-1", "x\x01"])
def test_a_hostile_account_choice_is_a_field_error(browser, account):
    assert_field_error(submit(browser, link([128], [1.0], [1e-6]), account=account), "account")


def test_the_edges_of_the_limits_import_and_every_page_shows_them(browser, other_run):
    sizes = [128, 129, 10240]
    url = link(sizes, [0.0, powertuning.MAX_DURATION_MS, 0.5], [0.0, 0.0, 1e-12])
    response = submit(browser, url)
    assert response.status_code == 302
    run = TuningRun.objects.get(function_name=FUNCTION)
    assert run.memory_sizes == sizes
    assert_every_page_shows(browser, run, other_run)


# --------------------------------------------------------------------------- generated

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -0.0, 5e-324, 1e-12, 2**15 - 1, 10**300]),
)
as_json = st.one_of(
    numbers.map(json.dumps),  # NaN and Infinity as Python writes them
    st.sampled_from(
        ["1e400", "-1e400", '"128"', '"12.5"', "null", "true", "[]", "{}", '"\\u0000"']
    ),
    st.text(max_size=20).map(json.dumps),
)
# Figures within the limits, to import runs as well as to refuse them.
sizes = st.integers(min_value=128, max_value=10240)
durations = st.floats(min_value=0, max_value=powertuning.MAX_DURATION_MS)
costs = st.floats(min_value=0, max_value=powertuning.MAX_INVOCATION_COST_USD) | st.floats(0, 1e-4)
valid_row = st.tuples(sizes.map(str), costs.map(repr), durations.map(repr))
any_row = st.tuples(as_json | sizes.map(str), as_json | costs.map(repr), as_json)
rows = st.one_of(
    st.lists(valid_row, min_size=1, max_size=6), st.lists(valid_row | any_row, max_size=6)
)


@st.composite
def outputs(draw):
    """Power Tuning output text with generated figures, maybe wrapped, maybe with extras."""
    extra = draw(
        st.dictionaries(
            st.sampled_from(["power", "cost", "duration", "stateMachine"]),
            st.one_of(
                as_json,
                sizes.map(str),
                st.builds(lambda cost: f'{{"lambdaCost": {cost}}}', as_json | costs.map(repr)),
                st.builds(lambda url: f'{{"visualization": {json.dumps(url)}}}', st.text()),
            ),
            max_size=2,
        )
    )
    text = stats_output(*draw(rows), **extra)
    return f'{{"results": {text}}}' if draw(st.booleans()) else text


@st.composite
def links(draw):
    """Visualizer links of any Int16 sizes and Float32 figures (NaN and infinities included)."""
    count = draw(st.integers(min_value=1, max_value=5))
    any_float = st.floats(width=32, allow_nan=True, allow_infinity=True)
    if draw(st.booleans()):  # within the limits
        figures = sizes, st.floats(0, 900_000, width=32), st.floats(0, 2**-10, width=32)
    else:
        figures = st.integers(-(2**15), 2**15 - 1), any_float, any_float
    url = link(*(draw(st.lists(f, min_size=count, max_size=count)) for f in figures))
    if draw(st.integers(0, 3)) == 0:  # damaged: a character changed or cut
        position = draw(st.integers(0, len(url) - 1))
        url = url[:position] + draw(st.text(max_size=2)) + url[position + 1 :]
    return url


@HYPOTHESIS
@given(source=outputs())
def test_any_output_is_imported_for_every_page_or_refused_on_the_form(browser, other_run, source):
    response = submit(browser, source)
    event(f"status {response.status_code}")
    assert_answer(browser, response, other_run)


@HYPOTHESIS
@given(source=links())
def test_any_link_is_imported_for_every_page_or_refused_on_the_form(browser, other_run, source):
    response = submit(browser, source)
    event(f"status {response.status_code}")
    assert_answer(browser, response, other_run)


@HYPOTHESIS
@given(
    function=st.text(max_size=80) | st.sampled_from(["orders", "orders:live", "a" * 3000]),
    source=st.text(max_size=200) | st.sampled_from(["{", "[", "#", "{}", "[]", "#;;"]),
)
def test_any_function_and_text_gets_an_answer_without_error(browser, other_run, function, source):
    assert_answer(browser, submit(browser, source, function=function), other_run)
