"""Notification settings: each user's own choice, and their teams' channels (staff, or members
with the change permission, may edit a team's)."""

from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from notifications import tasks
from notifications.forms import PreferenceForm, TeamNotificationsForm
from notifications.models import CHANGE_PERMISSION, Notification, TeamNotifications, UserPreference
from notifications.service import send_test


def _teams_for(user):
    """Staff see every group; others the groups they belong to."""
    groups = Group.objects.all() if user.is_staff else user.groups.all()
    return groups.order_by("name")


def can_configure(user, group) -> bool:
    if user.is_staff:
        return True
    return user.has_perm(CHANGE_PERMISSION) and user.groups.filter(pk=group.pk).exists()


def _team_settings(group) -> TeamNotifications:
    return TeamNotifications.objects.filter(team=group).first() or TeamNotifications(team=group)


@require_http_methods(["GET", "POST"])
def settings_page(request):
    preference = UserPreference.objects.filter(user=request.user).first() or UserPreference(
        user=request.user
    )
    form = PreferenceForm(request.POST if request.method == "POST" else None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your notification preference was saved.")
        return redirect("notifications:settings")
    teams = [
        {"group": g, "settings": _team_settings(g), "editable": can_configure(request.user, g)}
        for g in _teams_for(request.user)
    ]
    context = {
        "form": form,
        "teams": teams,
        "has_email": bool(request.user.email),
        "recent": Notification.objects.all()[:10] if teams else [],
    }
    return render(request, "notifications/settings.html", context)


@require_http_methods(["GET", "POST"])
def team_settings(request, group_id):
    group = get_object_or_404(Group, pk=group_id)
    if not can_configure(request.user, group):
        raise PermissionDenied
    row = _team_settings(group)
    form = TeamNotificationsForm(request.POST if request.method == "POST" else None, instance=row)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            form.save(request.user)
            messages.success(request, f"Notifications of {group.name} saved.")
            return redirect("notifications:team", group_id=group.pk)
        status = 400
    context = {"group": group, "row": row, "form": form}
    return render(request, "notifications/team.html", context, status=status)


@require_POST
def team_test(request, group_id):
    group = get_object_or_404(Group, pk=group_id)
    if not can_configure(request.user, group):
        raise PermissionDenied
    row = TeamNotifications.objects.filter(team=group).first()
    if row is None or not (row.webhook_url or row.emails):
        messages.error(request, "Save a webhook URL or an e-mail address first.")
    else:
        tasks.enqueue(send_test(row))
        messages.success(
            request,
            "Test notification queued: it should arrive within a minute. If it does not, "
            "the workers' log says why (without the URL).",
        )
    return redirect("notifications:team", group_id=group.pk)
