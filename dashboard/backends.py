"""Authentication backend: Django's, with a user's permissions read in one plain query."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection

#: A user's own permissions and his groups' (Django's auth tables: the user model is not
#: swapped). Written out: the ORM took longer to build this query than PostgreSQL to answer it.
PERMISSIONS_SQL = """
    SELECT content_type.app_label, permission.codename
    FROM auth_permission permission
    JOIN django_content_type content_type ON content_type.id = permission.content_type_id
    WHERE permission.id IN (
        SELECT permission_id FROM auth_user_user_permissions WHERE user_id = %s
        UNION
        SELECT granted.permission_id FROM auth_group_permissions granted
        JOIN auth_user_groups member ON member.group_id = granted.group_id
        WHERE member.user_id = %s
    )
"""


class OneQueryModelBackend(ModelBackend):
    """Django's ModelBackend reads a user's own permissions and his groups' in two ORM queries
    on the first permission check of a request (~2 ms of CPU; most pages check some). Here one
    plain query reads both: same result, same per-user-object cache."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.values_list("content_type__app_label", "codename")
            else:
                with connection.cursor() as cursor:
                    cursor.execute(PERMISSIONS_SQL, [user_obj.pk, user_obj.pk])
                    perms = cursor.fetchall()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in perms}
        return user_obj._perm_cache
