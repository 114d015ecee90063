"""Share links: who may create and revoke them, their expiry, hashed tokens, answers no cache
keeps, and public answers (page, CSV, JSON) that show of an error only its class."""

import csv
import hashlib
import io
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from aws.models import AwsAccount
from tests.fixtures.aws_clients import put_invocations
from tests.tuning.runfactory import make_run
from tuning import sharing
from tuning.models import ShareLink

pytestmark = pytest.mark.django_db

ACCOUNT_ID = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:x"
ROLE_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/orders-app/x"
#: What a function that is not allowed to call another one answers, word for word.
LEAKY_ERROR = (
    f"User: {ROLE_ARN} is not authorized to perform: lambda:InvokeFunction on resource: "
    f"{FUNCTION_ARN} because no identity-based policy allows it (account {ACCOUNT_ID})"
)
SHARE_URLS = ("", "monthly/", "export.csv", "export.json")


def allowed_to_share(user):
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="tuning", codename="add_sharelink")
    )
    return type(user).objects.get(pk=user.pk)  # permissions are cached on the instance


def logged_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def post(client: Client, url: str, data=None, page: str = "/runs/"):
    """A POST with the CSRF token a page of the site gave the browser."""
    client.get(page)
    token = client.cookies["csrftoken"].value
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": token})


def token_of(message_page: str) -> str:
    return re.search(r"/share/([A-Za-z0-9_-]{43})/", message_page).group(1)


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user("mia", password="correct-horse-42")


@pytest.fixture
def sharer(django_user_model):
    return allowed_to_share(django_user_model.objects.create_user("sam", password="pw-horse-42"))


@pytest.fixture
def run(member):
    account = AwsAccount.objects.create(name="production", account_id=ACCOUNT_ID)
    return make_run(
        function="tuneboard-cpu",
        sizes=(128, 512, 1024),
        user=member,
        account=account,
        payload={"secret": "s3cr3t-payload"},
        original_memory=128,
    )


@pytest.fixture
def leaky_run(member):
    """A run whose 512 MB size failed: every invocation answered LEAKY_ERROR."""
    return make_run(
        function="tuneboard-cpu",
        sizes=(128, 512, 1024),
        user=member,
        failed_sizes=(512,),
        failure=("AccessDeniedException", LEAKY_ERROR),
    )


def shared_token(run, user) -> str:
    _, token = sharing.create_link(run, user)
    return token


# --------------------------------------------------------------------------- creating


def test_tokens_carry_at_least_128_random_bits_and_never_repeat():
    tokens = {sharing.new_token() for _ in range(200)}
    assert len(tokens) == 200
    # token_urlsafe: 6 bits per character
    assert all(len(token) * 6 >= 128 for token in tokens)
    assert all(len(token) <= 64 for token in tokens)


def test_without_the_permission_there_is_no_share_form_and_a_post_is_refused(member, run):
    client = logged_in(member)
    page = client.get(f"/runs/{run.id}/").content.decode()
    assert 'id="share-form"' not in page
    assert "tuning.add_sharelink" in page
    assert post(client, f"/runs/{run.id}/share/", {"expires_in": "7"}).status_code == 403
    assert not ShareLink.objects.exists()


def test_a_member_allowed_to_share_creates_a_link_a_stranger_can_open(sharer, run):
    client = logged_in(sharer)
    assert 'id="share-form"' in client.get(f"/runs/{run.id}/").content.decode()
    response = post(client, f"/runs/{run.id}/share/", {"expires_in": "30"})
    assert response.status_code == 302
    link = ShareLink.objects.get()
    assert link.created_by == sharer
    assert link.expires_at - timezone.now() == pytest.approx(
        timedelta(days=30), abs=timedelta(minutes=1)
    )
    token = token_of(client.get(response.url).content.decode())
    page = Client().get(f"/share/{token}/")
    assert page.status_code == 200
    assert "tuneboard-cpu" in page.content.decode()


def test_links_expire_in_seven_days_unless_told_otherwise_and_never_is_not_offered(sharer, run):
    client = logged_in(sharer)
    page = client.get(f"/runs/{run.id}/").content.decode()
    form = re.search(r'<form[^>]*id="share-form".*?</form>', page, re.S).group(0)
    assert re.findall(r'<option value="(\d+)"', form) == ["1", "7", "30", "90"]
    assert re.search(r'<option value="7" selected>', form)
    assert "never" not in form.lower()

    assert post(client, f"/runs/{run.id}/share/").status_code == 302
    link = ShareLink.objects.get()
    assert link.expires_at - timezone.now() == pytest.approx(
        timedelta(days=7), abs=timedelta(minutes=1)
    )
    link, _ = sharing.create_link(run, sharer)
    assert link.expires_at - timezone.now() == pytest.approx(
        timedelta(days=7), abs=timedelta(minutes=1)
    )


def test_a_link_cannot_be_created_already_expired(member, run):
    with pytest.raises(ValueError):
        sharing.create_link(run, member, timezone.now() - timedelta(minutes=1))


def test_a_link_made_when_links_could_live_for_ever_keeps_working_until_revoked(member, run):
    link, token = sharing.create_link(run, member)
    ShareLink.objects.filter(pk=link.pk).update(expires_at=None)
    assert Client().get(f"/share/{token}/").status_code == 200
    sharing.revoke(link)
    assert Client().get(f"/share/{token}/").status_code == 404


def test_an_expired_link_answers_404(member, run):
    link, token = sharing.create_link(run, member, timezone.now() + timedelta(days=1))
    assert Client().get(f"/share/{token}/").status_code == 200
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Client().get(f"/share/{token}/").status_code == 404
    page = logged_in(member).get(f"/runs/{run.id}/").content.decode()
    assert "expired" in page


def test_an_unknown_token_answers_404():
    assert Client().get("/share/not-a-real-token/").status_code == 404


# --------------------------------------------------------------------------- hashed tokens


def test_only_a_hash_of_the_token_is_stored_and_the_url_is_shown_once(sharer, run):
    client = logged_in(sharer)
    response = post(client, f"/runs/{run.id}/share/", {"expires_in": "1"})
    first = client.get(response.url).content.decode()
    token = token_of(first)

    row = ShareLink.objects.values().get()
    assert token not in json.dumps(row, default=str)
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert Client().get(f"/share/{token}/").status_code == 200

    again = client.get(f"/runs/{run.id}/").content.decode()
    assert token not in again
    listed = re.search(r'<table class="data tb-links" id="share-links">.*?</table>', again, re.S)
    assert f"{token[:6]}…" in listed.group(0)
    assert "sam" in listed.group(0) and "live" in listed.group(0)


@pytest.mark.django_db(transaction=True)
def test_the_migration_hashes_the_tokens_of_existing_links_which_keep_working(member, run):
    before, after = ("tuning", "0009_apply_is_a_task"), ("tuning", "0010_share_tokens_hashed")
    token = sharing.new_token()
    call_command("migrate", *before, verbosity=0)
    old_apps = MigrationExecutor(connection).loader.project_state(before).apps
    old_apps.get_model("tuning", "ShareLink").objects.create(
        run_id=run.pk, token=token, created_by_id=member.pk, expires_at=None
    )

    try:
        call_command("migrate", *after, verbosity=0)
    finally:
        # Back to the newest schema: later migrations (and the rest of the session) need it.
        call_command("migrate", verbosity=0)

    link = ShareLink.objects.get()
    assert (link.token_hash, link.prefix) == (hashlib.sha256(token.encode()).hexdigest(), token[:6])
    assert link.expires_at is None and link.revoked_at is None  # nothing else changed
    call_command("migrate", verbosity=0)  # the later migrations too, which the page needs
    assert Client().get(f"/share/{token}/").status_code == 200


# --------------------------------------------------------------------------- revoking


@pytest.fixture
def link_by_sharer(sharer, run):
    """A link the sharer made to the member's run."""
    link, token = sharing.create_link(run, sharer)
    return link, token


@pytest.mark.parametrize("who", ["run owner", "link creator", "staff"])
def test_the_runs_owner_the_links_creator_and_staff_can_revoke(
    who, member, sharer, run, link_by_sharer, django_user_model
):
    link, token = link_by_sharer
    user = {
        "run owner": member,
        "link creator": sharer,
        "staff": django_user_model.objects.create_user("stella", is_staff=True),
    }[who]
    client = logged_in(user)
    assert "tb-revoke" in client.get(f"/runs/{run.id}/").content.decode()
    response = post(client, f"/runs/{run.id}/share/{link.id}/revoke/")
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.revoked_at is not None
    for suffix in SHARE_URLS:
        assert Client().get(f"/share/{token}/{suffix}").status_code == 404


def test_anyone_else_gets_403_and_the_link_stays(run, link_by_sharer, django_user_model):
    link, token = link_by_sharer
    # Allowed to share links of their own does not make one the owner of others' links.
    stranger = allowed_to_share(django_user_model.objects.create_user("otto"))
    client = logged_in(stranger)
    assert "tb-revoke" not in client.get(f"/runs/{run.id}/").content.decode()
    assert post(client, f"/runs/{run.id}/share/{link.id}/revoke/").status_code == 403
    link.refresh_from_db()
    assert link.revoked_at is None
    assert Client().get(f"/share/{token}/").status_code == 200


# --------------------------------------------------------------------------- no caching


@pytest.mark.parametrize("suffix", SHARE_URLS)
def test_no_cache_keeps_a_share_answer(suffix, member, stubbed):
    stubbed("cloudwatch").add_response("get_metric_data", {"MetricDataResults": []})
    token = shared_token(make_run(function="never-cached", user=member), member)
    response = Client().get(f"/share/{token}/{suffix}")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("suffix", SHARE_URLS)
def test_no_cache_keeps_the_404_of_a_revoked_or_unknown_link(suffix, member, run):
    link, token = sharing.create_link(run, member)
    sharing.revoke(link)
    for url in (f"/share/{token}/{suffix}", f"/share/{sharing.new_token()}/{suffix}"):
        response = Client().get(url)
        assert response.status_code == 404
        assert "no-store" in response["Cache-Control"]


# --------------------------------------------------------------------------- what is public


def public_answers(token) -> dict[str, str]:
    stranger = Client()
    return {
        "page": stranger.get(f"/share/{token}/").content.decode(),
        "csv": b"".join(stranger.get(f"/share/{token}/export.csv").streaming_content).decode(),
        "json": stranger.get(f"/share/{token}/export.json").content.decode(),
    }


def test_page_csv_and_json_show_the_class_of_an_error_never_its_text(member, leaky_run):
    answers = public_answers(shared_token(leaky_run, member))
    for name, text in answers.items():
        for secret in (ACCOUNT_ID, "arn:aws", "orders-app", "AccessDeniedException"):
            assert secret not in text, (name, secret)

    assert "<pre>function error</pre>" in answers["page"]
    rows = list(csv.DictReader(io.StringIO(answers["csv"])))
    failed = [row for row in rows if row["memory_mb"] == "512"]
    assert len(failed) == 10
    assert {(row["error_type"], row["error_message"]) for row in failed} == {("function error", "")}
    assert {row["error_type"] for row in rows if row["memory_mb"] != "512"} == {""}
    data = json.loads(answers["json"])
    assert [r["error_message"] for r in data["results"]] == ["", "function error", ""]


def test_the_private_exports_keep_every_detail(member, leaky_run):
    client = logged_in(member)
    private_csv = b"".join(client.get(f"/runs/{leaky_run.id}/export.csv").streaming_content)
    assert private_csv.decode().count(LEAKY_ERROR) == 10
    data = json.loads(client.get(f"/runs/{leaky_run.id}/export.json").content)
    assert LEAKY_ERROR in data["results"][1]["error_message"]


def test_the_shared_page_hides_payloads_account_ids_and_actions(member, run):
    page = Client().get(f"/share/{shared_token(run, member)}/").content.decode()
    assert "s3cr3t-payload" not in page
    assert ACCOUNT_ID not in page
    assert "production" not in page
    for action in ("Re-run", "Apply", "Cancel sweep", "Create share link", "csrfmiddlewaretoken"):
        assert action not in page
    assert page.count('class="card chart"') == 4
    assert "Results per memory size" in page


def test_the_shared_exports_hide_private_fields(member, run):
    token = shared_token(run, member)
    data = json.loads(Client().get(f"/share/{token}/export.json").content)
    text = json.dumps(data)
    assert "s3cr3t-payload" not in text and ACCOUNT_ID not in text
    assert [r["memory_mb"] for r in data["results"]] == [128, 512, 1024]
    csv_text = b"".join(Client().get(f"/share/{token}/export.csv").streaming_content)
    assert csv_text.decode().count("\n") == 1 + 30


def test_the_shared_monthly_chart_does_not_say_why_cloudwatch_refused(member, stubbed):
    stubbed("cloudwatch").add_client_error(
        "get_metric_data",
        service_error_code="AccessDenied",
        service_message=f"User: {ROLE_ARN} is not authorized to perform: GetMetricData",
        http_status_code=403,
    )
    run = make_run(function="monthly-denied", user=member)
    page = Client().get(f"/share/{shared_token(run, member)}/monthly/").content.decode()
    assert "CloudWatch could not be read" in page
    assert ACCOUNT_ID not in page and "orders-app" not in page


def test_the_shared_page_unfurls_with_a_one_line_summary(member, run):
    token = shared_token(run, member)
    page = Client().get(f"/share/{token}/").content.decode()
    summary = "tuneboard-cpu: 1024 MB is cheapest, $0.0000027 per call, 150 ms"
    assert f'<meta property="og:title" content="{summary}">' in page
    assert f'<meta name="twitter:title" content="{summary}">' in page
    assert '<meta name="twitter:card" content="summary">' in page
    assert f'<meta property="og:url" content="http://testserver/share/{token}/">' in page


def test_the_shared_monthly_chart_opens_without_login(member, run, in_sandbox):
    put_invocations(in_sandbox, run.function_name, 2_000_000)
    page = Client().get(f"/share/{shared_token(run, member)}/monthly/").content.decode()
    assert "Traffic: 2,000,000 invocations" in page


@pytest.mark.parametrize(
    ("error_type", "message", "shown"),
    [
        ("Runtime.OutOfMemory", "signal: killed", "out of memory"),
        ("", "Out of memory at 128 MB (Runtime.OutOfMemory: signal: killed)", "out of memory"),
        ("Sandbox.Timedout", "Task timed out after 3.00 seconds", "timeout"),
        ("", "Gave up at 512 MB after repeated retries: AWS throttled lambda:Invoke", "throttled"),
        ("TooManyRequestsException", "Rate exceeded", "throttled"),
        ("Unhandled", LEAKY_ERROR, "function error"),
        ("", f"3 of 10 invocations failed; last error: KeyError: {FUNCTION_ARN}", "function error"),
        ("", "Cancelled by mia.", "cancelled"),
        ("", f"Access denied: Tuneboard's credentials (role {ROLE_ARN}) may not …", "error"),
        ("", "", ""),
    ],
)
def test_an_error_is_shown_in_public_as_its_class(error_type, message, shown):
    assert sharing.public_error(message, error_type) == shown
