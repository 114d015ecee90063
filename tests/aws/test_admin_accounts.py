"""Saving an AWS account in the admin tries its credentials (STS in the sandbox)."""

import pytest

from aws.models import AwsAccount

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/aws/awsaccount/add/"


def add_account(admin_client, **fields):
    data = {
        "name": "prod",
        "role_arn": "",
        "external_id": "",
        "default_region": "us-east-1",
        "max_concurrency": 100,
    }
    return admin_client.post(ADD_URL, {**data, **fields}, follow=True)


def test_the_account_id_is_filled_in_from_sts_for_the_workers_own_credentials(
    sandbox, admin_client
):
    add_account(admin_client)

    assert AwsAccount.objects.get(name="prod").account_id == "123456789012"


def test_with_a_role_the_account_id_is_the_roles_account(sandbox, admin_client):
    add_account(
        admin_client,
        role_arn="arn:aws:iam::210987654321:role/tuneboard",
        external_id="shared-secret",
    )

    assert AwsAccount.objects.get(name="prod").account_id == "210987654321"


def test_credentials_that_do_not_work_still_save_the_account_with_a_warning(sandbox, admin_client):
    response = add_account(admin_client, role_arn="not-a-role-arn")

    account = AwsAccount.objects.get(name="prod")
    assert account.account_id == ""
    messages = [str(m) for m in response.context["messages"]]
    assert any("prod was saved, but its credentials did not work" in m for m in messages)
