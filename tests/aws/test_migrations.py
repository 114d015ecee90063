"""AwsAccount moved from tuning to aws without moving its rows."""

from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from aws.models import AwsAccount
from tuning.models import TuningRun

pytestmark = pytest.mark.django_db

initial = import_module("aws.migrations.0001_initial")


@pytest.fixture(autouse=True)
def no_cached_content_types():
    # These tests rename and delete content types behind the manager's cache.
    ContentType.objects.clear_cache()
    yield
    ContentType.objects.clear_cache()


def test_the_account_kept_its_table_and_the_foreign_keys_point_at_it():
    assert AwsAccount._meta.db_table == "tuning_awsaccount"
    assert TuningRun._meta.get_field("account").related_model is AwsAccount


def test_the_migrations_describe_the_models_exactly():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_permissions_given_on_the_old_content_type_keep_working_after_the_move():
    ContentType.objects.filter(app_label="aws", model="awsaccount").delete()
    old = ContentType.objects.create(app_label="tuning", model="awsaccount")
    permission = Permission.objects.create(
        content_type=old, codename="change_awsaccount", name="Can change aws account"
    )

    initial.move_content_type(apps, None)

    permission.refresh_from_db()
    assert (permission.content_type.app_label, permission.content_type.model) == (
        "aws",
        "awsaccount",
    )
    assert not ContentType.objects.filter(app_label="tuning", model="awsaccount").exists()


def test_moving_the_content_type_leaves_an_existing_one_alone():
    """On a fresh database Django creates aws's content type itself: nothing to move."""
    current = ContentType.objects.get_for_model(AwsAccount)
    ContentType.objects.create(app_label="tuning", model="awsaccount")

    initial.move_content_type(apps, None)

    assert ContentType.objects.get(app_label="aws", model="awsaccount") == current
