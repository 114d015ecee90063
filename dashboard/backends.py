"""Authentication backend: Django's, with a user's permissions read in one query."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

FIELDS = ("content_type__app_label", "codename")


class OneQueryModelBackend(ModelBackend):
    """Django's ModelBackend reads a user's own permissions and his groups' in two queries on
    the first permission check of a request; most pages check some. Here one UNION reads both
    (same result, same per-user-object cache)."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.all()
            else:
                perms = (
                    Permission.objects.filter(user=user_obj)
                    .order_by()
                    .union(Permission.objects.filter(group__user=user_obj).order_by())
                )
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in perms.values_list(*FIELDS).order_by()
            }
        return user_obj._perm_cache
