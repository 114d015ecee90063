import uuid

from django.db import models


class WorkerProbe(models.Model):
    """A round trip through broker, worker and database: proves the whole path works."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return (
            f"probe {self.id} ({'handled by ' + self.handled_by if self.handled_at else 'waiting'})"
        )
