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
