"""The demo login exists only for the local sandbox, never for a Tuneboard on real AWS."""

import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def ensure(*args) -> str:
    out = io.StringIO()
    call_command("ensure_demo_user", *args, stdout=out)
    return out.getvalue().strip()


def test_with_the_sandbox_an_empty_database_gets_the_printed_demo_login(django_user_model):
    assert ensure() == "Created demo user. Log in as demo / tuneboard-demo"
    assert django_user_model.objects.get(username="demo").is_superuser
    assert ensure() == "Log in as demo / tuneboard-demo"


def test_a_changed_demo_password_is_never_printed(django_user_model):
    ensure()
    demo = django_user_model.objects.get(username="demo")
    demo.set_password("something-else-42")
    demo.save()
    assert ensure() == "Users exist already; log in with your own account."


def test_on_real_aws_no_user_is_created(django_user_model):
    assert "python manage.py createsuperuser" in ensure("--real-aws")
    assert not django_user_model.objects.exists()


def test_on_real_aws_a_demo_user_with_the_published_password_stops_the_start(
    django_user_model,
):
    ensure()
    with pytest.raises(CommandError, match="still has the published password"):
        ensure("--real-aws")
    demo = django_user_model.objects.get(username="demo")
    demo.set_password("something-else-42")
    demo.save()
    assert ensure("--real-aws") == "Log in with your own account."
