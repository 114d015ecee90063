"""Share links: unguessable, optional expiry, revocable; the public page hides private data."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aws.models import AwsAccount
from tests.fixtures.aws_clients import put_invocations
from tests.tuning.runfactory import make_run
from tuning import sharing
from tuning.models import ShareLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user("mia", password="correct-horse-42")


@pytest.fixture
def run(member):
    account = AwsAccount.objects.create(name="production", account_id="123456789012")
    return make_run(
        function="tuneboard-cpu",
        sizes=(128, 512, 1024),
        user=member,
        account=account,
        payload={"secret": "s3cr3t-payload"},
        original_memory=128,
    )


def test_tokens_carry_at_least_128_random_bits_and_never_repeat():
    tokens = {sharing.new_token() for _ in range(200)}
    assert len(tokens) == 200
    # token_urlsafe: 6 bits per character
    assert all(len(token) * 6 >= 128 for token in tokens)
    assert all(len(token) <= 64 for token in tokens)


def test_a_team_member_creates_a_link_and_a_stranger_can_open_it(client, member, run):
    client.force_login(member)
    response = client.post(f"/runs/{run.id}/share/", {"expires_in": ""})
    assert response.status_code == 302
    link = ShareLink.objects.get()
    assert link.created_by == member and link.expires_at is None
    stranger = Client()
    page = stranger.get(f"/share/{link.token}/")
    assert page.status_code == 200
    assert "tuneboard-cpu" in page.content.decode()


def test_the_shared_page_hides_payloads_account_ids_and_actions(member, run):
    link = sharing.create_link(run, member)
    page = Client().get(f"/share/{link.token}/").content.decode()
    assert "s3cr3t-payload" not in page
    assert "123456789012" not in page
    assert "production" not in page
    for action in ("Re-run", "Apply", "Cancel sweep", "Create share link", "csrfmiddlewaretoken"):
        assert action not in page
    assert page.count('class="card chart"') == 4
    assert "Results per memory size" in page


def test_the_shared_page_unfurls_with_a_one_line_summary(member, run):
    link = sharing.create_link(run, member)
    page = Client().get(f"/share/{link.token}/").content.decode()
    summary = "tuneboard-cpu: 1024 MB is cheapest, $0.0000027 per call, 150 ms"
    assert f'<meta property="og:title" content="{summary}">' in page
    assert f'<meta name="twitter:title" content="{summary}">' in page
    assert '<meta name="twitter:card" content="summary">' in page
    assert f'<meta property="og:url" content="http://testserver/share/{link.token}/">' in page


def test_a_revoked_link_answers_404(client, member, run):
    link = sharing.create_link(run, member)
    client.force_login(member)
    client.post(f"/runs/{run.id}/share/{link.id}/revoke/")
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert Client().get(f"/share/{link.token}/").status_code == 404
    assert Client().get(f"/share/{link.token}/export.csv").status_code == 404


def test_an_expired_link_answers_404(client, member, run):
    client.force_login(member)
    client.post(f"/runs/{run.id}/share/", {"expires_in": "1h"})
    link = ShareLink.objects.get()
    assert link.expires_at - timezone.now() == pytest.approx(
        timedelta(hours=1), abs=timedelta(minutes=1)
    )
    assert Client().get(f"/share/{link.token}/").status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(f"/share/{link.token}/").status_code == 404
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert "expired" in page


def test_an_unknown_token_answers_404():
    assert Client().get("/share/not-a-real-token/").status_code == 404


def test_only_the_creator_or_a_permitted_user_can_revoke(client, member, run, django_user_model):
    link = sharing.create_link(run, member)
    other = django_user_model.objects.create_user("otto", password="pw-correct-horse")
    client.force_login(other)
    assert client.post(f"/runs/{run.id}/share/{link.id}/revoke/").status_code == 403
    link.refresh_from_db()
    assert link.revoked_at is None


def test_the_shared_exports_hide_private_fields(member, run):
    link = sharing.create_link(run, member)
    data = json.loads(Client().get(f"/share/{link.token}/export.json").content)
    text = json.dumps(data)
    assert "s3cr3t-payload" not in text and "123456789012" not in text
    assert [r["memory_mb"] for r in data["results"]] == [128, 512, 1024]
    csv_text = b"".join(Client().get(f"/share/{link.token}/export.csv").streaming_content)
    assert csv_text.decode().count("\n") == 1 + 30


def test_the_shared_monthly_chart_opens_without_login(member, run, in_sandbox):
    put_invocations(in_sandbox, run.function_name, 2_000_000)
    link = sharing.create_link(run, member)
    page = Client().get(f"/share/{link.token}/monthly/").content.decode()
    assert "Traffic: 2,000,000 invocations" in page


def test_a_link_cannot_be_created_already_expired(member, run):
    with pytest.raises(ValueError):
        sharing.create_link(run, member, timezone.now() - timedelta(minutes=1))
