"""One status badge for every page, in the colours Flower users know."""

import pytest
from django.template import Context, Template

from cachemetrics.models import CollectionStatus
from dashboard.templatetags.badges import status_class
from tuning.models import ResultStatus, RunStatus


def render(source: str, **context) -> str:
    return Template("{% load badges %}" + source).render(Context(context))


@pytest.mark.parametrize(
    ("status", "css_class"),
    [
        (RunStatus.PENDING, "pending"),
        (ResultStatus.PUBLISHED, "pending"),
        (RunStatus.RUNNING, "running"),
        (RunStatus.SUCCEEDED, "succeeded"),
        (RunStatus.FAILED, "failed"),
        (RunStatus.CANCELLED, "warning"),
        (CollectionStatus.RUNNING, "running"),
        (CollectionStatus.SUCCEEDED, "succeeded"),
        (CollectionStatus.PARTIAL, "warning"),
        (CollectionStatus.FAILED, "failed"),
        ("available", "succeeded"),
        ("creating", "running"),
        ("vanished", "failed"),
        ("deleting", "pending"),
    ],
)
def test_each_status_has_its_flower_colour_whatever_the_app_or_case(status, css_class):
    assert status_class(status) == css_class


def test_the_badge_shows_the_label_and_keeps_the_status_for_scripts():
    html = render("{% status_badge status label %}", status=RunStatus.SUCCEEDED, label="Succeeded")
    assert html == '<span class="badge succeeded" data-status="SUCCEEDED">Succeeded</span>'


def test_the_badge_label_defaults_to_the_status_and_takes_a_title():
    html = render('{% status_badge "vanished" title="Gone since 9:00" %}')
    assert html == (
        '<span class="badge failed" data-status="vanished" title="Gone since 9:00">vanished</span>'
    )


def test_the_badge_escapes_what_it_shows():
    html = render("{% status_badge status label %}", status="failed", label="<b>oops</b>")
    assert "&lt;b&gt;oops&lt;/b&gt;" in html


def test_the_progress_bar_takes_the_same_class():
    assert render("{{ status|status_class }}", status=ResultStatus.RUNNING) == "running"
