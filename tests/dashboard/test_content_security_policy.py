"""The Content-Security-Policy header, and pages that need nothing it forbids."""

import re

import pytest

from tests.tuning.runfactory import make_run

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def test_every_page_forbids_inline_scripts_plugins_and_framing(client):
    policy = directives(client.get("/login/"))
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_the_run_pages_carry_no_inline_script_or_handler(admin_client):
    run = make_run(sizes=(512, 1024), status="RUNNING")
    make_run(function="tuneboard-io", sizes=(512, 1024))
    for path in (f"/runs/{run.id}/", "/runs/", "/runs/new/", "/cache/"):
        html = admin_client.get(path).content.decode()
        tags = re.findall(r"<script\b[^>]*>", html)
        inline = [t for t in tags if "src=" not in t and 'type="application/json"' not in t]
        assert not inline, f"{path}: {inline}"
        assert not re.search(r"\son[a-z]+=", html), path
