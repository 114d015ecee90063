"""The notification settings pages: login, CSRF, who may change a team's channels, field errors
for bad webhooks, the secret URL never shown again, and the test button."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client

from notifications.models import Notification, TeamNotifications, UserPreference, mask_url

pytestmark = pytest.mark.django_db

SECRET_URL = "https://hooks.slack.com/services/T0001/B0002/abcdefSECRETtoken9876"


@pytest.fixture
def group():
    return Group.objects.create(name="payments")


def member(django_user_model, group, name="ana", *, may_configure=True):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw-12345-long")
    user.groups.add(group)
    if may_configure:
        user.user_permissions.add(Permission.objects.get(codename="change_teamnotifications"))
    return user


def csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_token(client, url) -> str:
    client.get(url)
    return client.cookies["csrftoken"].value


def post(client, url, data):
    token = csrf_token(client, "/notifications/")
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def test_the_pages_need_a_login(client, group):
    for url in ("/notifications/", f"/notifications/teams/{group.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(f"/notifications/teams/{group.pk}/test/").status_code == 302


def test_a_member_with_the_permission_saves_the_team_settings_and_the_url_is_masked(
    django_user_model, group
):
    user = member(django_user_model, group)
    client = csrf_client(user)
    url = f"/notifications/teams/{group.pk}/"

    response = post(
        client,
        url,
        {
            "webhook_url": SECRET_URL,
            "emails": "team@example.com, oncall@example.com",
            "events": ["sweep_failed", "cache_flag"],
        },
    )

    assert response.status_code == 302
    row = TeamNotifications.objects.get(team=group)
    assert row.webhook_url == SECRET_URL
    assert row.emails == ["team@example.com", "oncall@example.com"]
    assert row.events == ["sweep_failed", "cache_flag"]
    for page in (url, "/notifications/"):
        html = client.get(page).content.decode()
        assert "SECRETtoken" not in html and "B0002" not in html
        assert "https://hooks.slack.com/…/9876" in html
    assert mask_url(SECRET_URL) == "https://hooks.slack.com/…/9876"


def test_saving_without_a_new_url_keeps_the_saved_one_and_remove_removes_it(
    django_user_model, group
):
    user = member(django_user_model, group)
    TeamNotifications.objects.create(team=group, webhook_url=SECRET_URL)
    client = csrf_client(user)
    url = f"/notifications/teams/{group.pk}/"

    post(client, url, {"webhook_url": "", "emails": "", "events": ["sweep_failed"]})
    assert TeamNotifications.objects.get(team=group).webhook_url == SECRET_URL

    post(client, url, {"remove_webhook": "on", "events": ["sweep_failed"]})
    assert TeamNotifications.objects.get(team=group).webhook_url == ""


@pytest.mark.parametrize(
    "bad, message",
    [
        ("ftp://hooks.example.com/x", "Use an https:// URL"),
        ("http://hooks.example.com/x", "plain http is accepted only in development"),
        ("https://user:pw@hooks.example.com/x", "must not contain a user name or password"),
        ("https://169.254.169.254/latest", "public address"),
        ("https://localhost/x", "public address"),
        ("https:///nohost", "no host name"),
        ("https://hooks.example.com:port/x", "not a valid URL"),
        ("https://hooks.example.com/" + "a" * 2100, "at most 2048 characters"),
    ],
)
def test_a_bad_webhook_url_is_a_field_error_and_nothing_is_saved(
    django_user_model, group, settings, bad, message
):
    settings.DEBUG = False
    settings.TUNEBOARD_SANDBOX = False
    user = member(django_user_model, group)
    client = csrf_client(user)

    response = post(client, f"/notifications/teams/{group.pk}/", {"webhook_url": bad})

    assert response.status_code == 400
    assert message in response.context["form"].errors["webhook_url"][0]
    assert 'id="webhook_url-errors"' in response.content.decode()
    assert not TeamNotifications.objects.exists()


def test_plain_http_is_accepted_for_local_tests_when_the_sandbox_is_on(
    django_user_model, group, settings
):
    settings.DEBUG = False
    settings.TUNEBOARD_SANDBOX = True
    client = csrf_client(member(django_user_model, group))

    response = post(
        client, f"/notifications/teams/{group.pk}/", {"webhook_url": "http://127.0.0.1:8123/h"}
    )

    assert response.status_code == 302
    assert TeamNotifications.objects.get(team=group).webhook_url == "http://127.0.0.1:8123/h"


def test_bad_e_mail_addresses_are_field_errors(django_user_model, group):
    client = csrf_client(member(django_user_model, group))

    response = post(
        client, f"/notifications/teams/{group.pk}/", {"emails": "ok@example.com, not-an-address"}
    )

    assert response.status_code == 400
    assert "“not-an-address” is not an e-mail address." in response.context["form"].errors["emails"]


def test_a_post_without_the_csrf_token_is_refused(django_user_model, group):
    client = csrf_client(member(django_user_model, group))

    response = client.post(f"/notifications/teams/{group.pk}/", {"webhook_url": SECRET_URL})
    test = client.post(f"/notifications/teams/{group.pk}/test/")

    assert response.status_code == 403 and test.status_code == 403
    assert not TeamNotifications.objects.exists()


def test_members_without_the_permission_and_non_members_cannot_configure(django_user_model, group):
    plain = member(django_user_model, group, "bob", may_configure=False)
    other_team = Group.objects.create(name="search")
    outsider = member(django_user_model, other_team, "carl")  # has the permission, other team
    TeamNotifications.objects.create(team=group, webhook_url=SECRET_URL)

    for user in (plain, outsider):
        client = csrf_client(user)
        assert client.get(f"/notifications/teams/{group.pk}/").status_code == 403
        assert (
            post(client, f"/notifications/teams/{group.pk}/", {"remove_webhook": "on"}).status_code
            == 403
        )
        assert post(client, f"/notifications/teams/{group.pk}/test/", {}).status_code == 403
    assert TeamNotifications.objects.get(team=group).webhook_url == SECRET_URL
    # The member sees the team (masked), without a Configure button; the outsider does not.
    html = csrf_client(plain).get("/notifications/").content.decode()
    assert "payments" in html and "…/9876" in html and "Configure" not in html
    assert "payments" not in csrf_client(outsider).get("/notifications/").content.decode()


def test_staff_may_configure_any_team(admin_user, group):
    client = csrf_client(admin_user)

    response = post(
        client, f"/notifications/teams/{group.pk}/", {"emails": "x@example.com", "events": []}
    )

    assert response.status_code == 302
    assert TeamNotifications.objects.get(team=group).emails == ["x@example.com"]


def test_the_test_button_sends_to_the_webhook_and_the_team_addresses(
    django_user_model, group, webhook_server, eager_tasks
):
    TeamNotifications.objects.create(
        team=group, webhook_url=webhook_server.url(), emails=["team@example.com"], events=[]
    )
    client = csrf_client(member(django_user_model, group))
    token = csrf_token(client, "/notifications/")

    with eager_tasks():
        response = client.post(
            f"/notifications/teams/{group.pk}/test/", {"csrfmiddlewaretoken": token}
        )

    assert response.status_code == 302
    [body] = webhook_server.posts()
    assert body["text"].startswith("Test notification for payments")
    assert [m.to for m in mail.outbox] == [["team@example.com"]]
    assert Notification.objects.get().event == "test"


def test_the_test_button_without_channels_says_what_to_do(django_user_model, group):
    client = csrf_client(member(django_user_model, group))

    response = post(client, f"/notifications/teams/{group.pk}/test/", {})

    page = client.get(response["Location"]).content.decode()
    assert "Save a webhook URL or an e-mail address first." in page


def test_a_user_turns_off_e_mails_about_their_own_sweeps(django_user_model, group):
    user = member(django_user_model, group, may_configure=False)
    client = csrf_client(user)
    assert UserPreference.emails_creator(user)  # default on

    response = post(client, "/notifications/", {})  # the checkbox unticked

    assert response.status_code == 302
    assert not UserPreference.emails_creator(user)
