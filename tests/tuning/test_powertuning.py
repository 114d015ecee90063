"""Interop with AWS Lambda Power Tuning: visualizer links and its state machine output."""

import json
import struct

import pytest

from tests.tuning.runfactory import make_run
from tuning import powertuning
from tuning.models import TuningRun

# Worked by hand from the format (base64 of little-endian arrays):
#   sizes  Int16 [128, 256]  -> bytes 80 00 | 00 01              -> "gAAAAQ=="
#   times  Float32 [1.5, 0.5] -> 00 00 C0 3F | 00 00 00 3F       -> "AADAPwAAAD8="
#   costs  Float32 [0.25, 2.0] -> 00 00 80 3E | 00 00 00 40      -> "AACAPgAAAEA="
HAND_URL = "https://lambda-power-tuning.show/#gAAAAQ==;AADAPwAAAD8=;AACAPgAAAEA="


def test_the_visualizer_link_matches_a_hand_computed_example():
    assert powertuning.encode_visualizer_url([(256, 0.5, 2.0), (128, 1.5, 0.25)]) == HAND_URL


def test_a_visualizer_link_decodes_to_the_same_points():
    points = powertuning.decode_visualizer_url(HAND_URL)
    assert [(p.memory_mb, p.duration_ms, p.cost_usd) for p in points] == [
        (128, 1.5, 0.25),
        (256, 0.5, 2.0),
    ]


def test_real_figures_survive_the_round_trip_at_float32_precision():
    points = [(128, 1234.5678, 0.0000025833), (1769, 87.123, 0.0000025312), (10240, 80.0, 1.3e-5)]
    decoded = powertuning.decode_visualizer_url(powertuning.encode_visualizer_url(points))
    for (memory, duration, cost), point in zip(points, decoded, strict=True):
        assert point.memory_mb == memory
        assert point.duration_ms == pytest.approx(duration, rel=1e-6)
        assert point.cost_usd == pytest.approx(cost, rel=1e-6)
        assert point.cost_usd == struct.unpack("<f", struct.pack("<f", cost))[0]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://lambda-power-tuning.show/", "no '#'"),
        ("https://lambda-power-tuning.show/#gAAAAQ==;AADAPwAAAD8=", "3 parts"),
        ("https://lambda-power-tuning.show/#gAAAAQ==;AADAPw==;AACAPgAAAEA=", "as many"),
        ("https://lambda-power-tuning.show/#gA!A;AADAPwAAAD8=;AACAPgAAAEA=", "base64"),
    ],
)
def test_broken_visualizer_links_are_explained(url, problem):
    with pytest.raises(powertuning.ImportProblem, match=problem):
        powertuning.decode_visualizer_url(url)


OUTPUT = {
    "results": {
        "power": 1024,
        "cost": 2.1e-06,
        "duration": 123.4,
        "stateMachine": {
            "executionCost": 0.00045,
            "lambdaCost": 0.0001234,
            "visualization": HAND_URL,
        },
        "stats": [
            {"value": 512, "averagePrice": 2.3e-06, "averageDuration": 260.1, "totalCost": 1e-5},
            {"value": 1024, "averagePrice": 2.1e-06, "averageDuration": 123.4, "totalCost": 1e-5},
        ],
    }
}


def test_the_state_machine_output_is_read_from_its_stats():
    imported = powertuning.parse_source(json.dumps(OUTPUT))
    assert [(p.memory_mb, p.duration_ms, p.cost_usd) for p in imported.points] == [
        (512, 260.1, 2.3e-06),
        (1024, 123.4, 2.1e-06),
    ]
    assert imported.optimal_power == 1024


def test_an_output_without_stats_falls_back_to_its_visualization_link():
    output = {k: v for k, v in OUTPUT["results"].items() if k != "stats"}
    imported = powertuning.parse_source(json.dumps(output))
    assert [p.memory_mb for p in imported.points] == [128, 256]


@pytest.mark.django_db
def test_the_run_detail_links_to_the_visualizer_with_the_runs_averages(client, django_user_model):
    user = django_user_model.objects.create_user("mia", password="correct-horse-42")
    client.force_login(user)
    run = make_run(sizes=(128, 1024))
    page = client.get(f"/runs/{run.id}/").content.decode()
    url = page.split('href="https://lambda-power-tuning.show/')[1].split('"')[0]
    points = powertuning.decode_visualizer_url("https://lambda-power-tuning.show/" + url)
    results = {r.memory_mb: r for r in run.results.all()}
    assert [p.memory_mb for p in points] == [128, 1024]
    for point in points:
        assert point.duration_ms == pytest.approx(results[point.memory_mb].avg_duration_ms)
        assert point.cost_usd == pytest.approx(float(results[point.memory_mb].avg_cost_usd))


@pytest.mark.django_db
def test_importing_an_output_creates_a_run_marked_imported(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("sam", password="correct-horse-42")
    user.user_permissions.add(Permission.objects.get(codename="add_tuningrun"))
    client.force_login(user)
    response = client.post(
        "/runs/import/",
        {
            "function": "tuneboard-cpu",
            "region": "us-east-1",
            "strategy": "cost",
            "source": json.dumps(OUTPUT),
        },
    )
    run = TuningRun.objects.get()
    assert response["Location"] == f"/runs/{run.id}/"
    assert run.imported_from == "power-tuning"
    assert run.status == "SUCCEEDED"
    assert run.memory_sizes == [512, 1024]
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "imported from AWS Lambda Power Tuning" in page
    assert "1,024 MB" in page
    assert "imported" in client.get("/runs/").content.decode()


@pytest.mark.django_db
def test_importing_a_visualizer_link_creates_a_run(client, django_user_model):
    user = django_user_model.objects.create_superuser("ada", "a@example.com", "pw-horse-42")
    client.force_login(user)
    client.post(
        "/runs/import/",
        {"function": "my-fn", "region": "us-east-1", "strategy": "speed", "source": HAND_URL},
    )
    run = TuningRun.objects.get()
    assert sorted(r.memory_mb for r in run.results.all()) == [128, 256]


@pytest.mark.django_db
def test_importing_garbage_shows_a_field_error(client, django_user_model):
    user = django_user_model.objects.create_superuser("ada", "a@example.com", "pw-horse-42")
    client.force_login(user)
    response = client.post(
        "/runs/import/",
        {"function": "my-fn", "region": "us-east-1", "strategy": "cost", "source": '{"a": 1,}'},
    )
    assert response.status_code == 400
    assert "not valid JSON: line 1" in response.content.decode()
    assert TuningRun.objects.count() == 0


@pytest.mark.django_db
def test_importing_needs_the_permission_to_add_runs(client, django_user_model):
    user = django_user_model.objects.create_user("mia", password="correct-horse-42")
    client.force_login(user)
    assert "needs the" in client.get("/runs/import/").content.decode()
    response = client.post(
        "/runs/import/",
        {"function": "my-fn", "region": "us-east-1", "strategy": "cost", "source": HAND_URL},
    )
    assert response.status_code == 403


# --------------------------------------------------------------------------- comparison links

# The visualizer's own comparison sample (aws-lambda-power-tuning-ui, UI.md): two runs of a
# JavaScript function, x86_64 and arm64, and their legends percent-encoded.
SAMPLE_COMPARISON = (
    "https://digio.github.io/aws-lambda-power-tuning-ui/#gAEAAgAEAAYACA==;"
    "Go9qRqDLVUbymEpGgC0jRn/iMkY=;41bGOHAK8Th8bWQ5mvyJObyvyTk=;gAEAAgAEAAYACA==;"
    "0+hrRh7TR0YDoxBG/mQCRjclCkY=;sX2hOBZhtji8AgQ5ZIcyOV8vfDk=;JS%20x86;JS%20ARM64"
)


def f32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def test_the_visualizers_comparison_sample_decodes_to_two_named_runs():
    (first_name, first), (second_name, second) = powertuning.decode_visualizer_links(
        SAMPLE_COMPARISON
    )
    assert (first_name, second_name) == ("JS x86", "JS ARM64")
    assert (
        [p.memory_mb for p in first]
        == [p.memory_mb for p in second]
        == [384, 512, 1024, 1536, 2048]
    )
    assert first[0].duration_ms == pytest.approx(15011.775, abs=1e-3)
    # Power Tuning priced each side at its architecture: the costs say which.
    assert powertuning.infer_architecture(first, "us-east-1") == "x86_64"
    assert powertuning.infer_architecture(second, "us-east-1") == "arm64"


def test_a_single_link_with_the_visualizers_trailing_separator_is_read():
    single = SAMPLE_COMPARISON.split(";gAEAAgAEAAYACA==;0+h")[0] + ";"
    assert [p.memory_mb for p in powertuning.decode_visualizer_url(single)][:2] == [384, 512]


def test_a_comparison_link_round_trips_at_float32_precision_with_its_names():
    first = [(128, 1234.5678, 0.0000025833), (1024, 87.123, 0.0000025312)]
    second = [(128, 999.5, 0.0000021), (2048, 40.25, 0.0000031), (10240, 80.0, 1.3e-5)]
    names = ("orders · x86_64", "orders; arm64 & 100% #2")
    url = powertuning.encode_comparison_url(first, second, names)
    assert url.count(";") == 7 and url.count("#") == 1
    decoded = powertuning.decode_visualizer_links(url)
    assert [name for name, _points in decoded] == list(names)
    for expected, (_name, points) in zip((first, second), decoded, strict=True):
        assert [(p.memory_mb, p.duration_ms, p.cost_usd) for p in points] == [
            (m, f32(d), f32(c)) for m, d, c in expected
        ]


@pytest.mark.parametrize(
    ("legend", "problem"),
    [
        ("%01", r"U\+0001"),
        ("%FF%FE", "not valid UTF-8"),
        ("x" * (powertuning.MAX_LEGEND_CHARS + 1), "at most 200 characters"),
    ],
)
def test_a_bad_legend_is_refused_naming_it(legend, problem):
    url = SAMPLE_COMPARISON.rsplit(";", 1)[0] + ";" + legend
    with pytest.raises(powertuning.ImportProblem, match=problem) as refused:
        powertuning.decode_visualizer_links(url)
    assert "second legend" in str(refused.value)


def test_a_comparison_link_is_not_taken_for_a_single_run():
    with pytest.raises(powertuning.ImportProblem, match="comparison link of two runs"):
        powertuning.decode_visualizer_url(SAMPLE_COMPARISON)
    with pytest.raises(powertuning.ImportProblem, match="8 for a comparison"):
        powertuning.decode_visualizer_url(SAMPLE_COMPARISON.rsplit(";", 1)[0])


@pytest.fixture
def importer(django_user_model):
    from django.test import Client

    admin = django_user_model.objects.create_superuser("ada", "ada@example.com", "pw-42-horse")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    client.get("/runs/import/")
    client.csrf = client.cookies["csrftoken"].value
    return client


def import_source(client, source, function="orders"):
    data = {"function": function, "region": "us-east-1", "strategy": "cost", "source": source}
    return client.post("/runs/import/", data, HTTP_X_CSRFTOKEN=client.csrf)


@pytest.mark.django_db
def test_importing_a_comparison_link_creates_both_runs_named_and_compares_them(importer):
    response = import_source(importer, SAMPLE_COMPARISON, function="js-fn")
    runs = list(TuningRun.objects.order_by("created_at"))
    assert len(runs) == 2
    assert response.status_code == 302
    assert response["Location"] == f"/runs/compare/?ids={runs[0].id}&ids={runs[1].id}"
    assert [r.analysis["imported"]["name"] for r in runs] == ["JS x86", "JS ARM64"]
    assert [r.architecture for r in runs] == ["x86_64", "arm64"]
    page = importer.get(response["Location"]).content.decode()
    assert "JS x86 · js-fn" in page and "JS ARM64 · js-fn" in page
    assert "inferred from its costs" in page
    detail = importer.get(f"/runs/{runs[1].id}/").content.decode()
    assert "JS ARM64" in detail


@pytest.mark.django_db
def test_a_comparison_link_with_one_bad_run_imports_nothing(importer):
    broken = SAMPLE_COMPARISON.replace("0+hrRh7TR0YDoxBG/mQCRjclCkY=", "AAAA")
    response = import_source(importer, broken)
    assert response.status_code == 400
    assert "second run" in response.context["form"].errors["source"][0]
    assert not TuningRun.objects.exists()


@pytest.mark.django_db
def test_the_compare_page_offers_the_visualizers_comparison_link_that_imports_back(importer):
    first = make_run(function="orders", sizes=(128, 1024))
    second = make_run(function="orders", sizes=(128, 512, 1024), architecture="arm64")
    response = importer.get(f"/runs/compare/?ids={first.id}&ids={second.id}")
    (link,) = response.context["visualizer_links"]
    assert f'href="{link["url"]}"'.replace("&", "&amp;") in response.content.decode()
    labels = response.context["labels"]
    decoded = powertuning.decode_visualizer_links(link["url"])
    assert [name for name, _points in decoded] == labels
    for run, (_name, points) in zip((first, second), decoded, strict=True):
        results = {r.memory_mb: r for r in run.results.all()}
        assert [p.memory_mb for p in points] == sorted(results)
        for point in points:
            assert point.duration_ms == f32(results[point.memory_mb].avg_duration_ms)
            assert point.cost_usd == f32(float(results[point.memory_mb].avg_cost_usd))

    # Imported back: two runs with the same sizes, durations and costs (Float32) and names.
    assert import_source(importer, link["url"]).status_code == 302
    imported = list(TuningRun.objects.filter(imported_from="power-tuning").order_by("created_at"))
    for run, copy, label in zip((first, second), imported, labels, strict=True):
        assert copy.analysis["imported"]["name"] == label
        originals = {r.memory_mb: r for r in run.results.all()}
        copies = {r.memory_mb: r for r in copy.results.all()}
        assert sorted(copies) == sorted(originals)
        for mb, result in copies.items():
            assert result.avg_duration_ms == pytest.approx(originals[mb].avg_duration_ms, rel=1e-6)
            assert float(result.avg_cost_usd) == pytest.approx(
                float(originals[mb].avg_cost_usd), rel=1e-6
            )
