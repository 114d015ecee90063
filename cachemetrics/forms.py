from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from cachemetrics.models import BillingMode, CachedTable, DaxCluster
from cachemetrics.ranges import MIN_SPAN, Range, custom_range, get_range

MAX_SPAN_FOREVER = timedelta(days=3650)  # when hourly rollups are kept for ever


class TableMappingForm(forms.ModelForm):
    """Which clusters front a table, and what a cache hit on it is worth."""

    clusters = forms.ModelMultipleChoiceField(
        queryset=DaxCluster.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="DAX clusters this table is read through.",
    )
    avg_item_kb = forms.FloatField(
        min_value=0.01,
        max_value=400,
        label="Average item size (KB)",
        help_text="Sets the read units a cache hit saves: 0.5 RCU per started 4 KB.",
    )
    billing_mode = forms.ChoiceField(choices=BillingMode.choices, label="Billing mode")

    class Meta:
        model = CachedTable
        fields = ["clusters", "avg_item_kb", "billing_mode"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        table = self.instance
        self.fields["clusters"].queryset = DaxCluster.objects.filter(
            region=table.region, account=table.account
        ).order_by("name")
        self.fields["clusters"].label_from_instance = lambda c: (
            f"{c.name} ({c.node_type} × {c.node_count})" + ("" if c.is_present else " – vanished")
        )

    def save(self, commit=True):
        table = super().save(commit=False)
        table.mapping_source = "manual"
        table.item_size_from_aws = False
        if commit:
            table.save()
            self.save_m2m()
        return table


# --------------------------------------------------------------------------- time range

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


class RangeForm(forms.Form):
    """A custom time range (``from`` / ``to``, in the viewer's timezone) or a preset (``range``).

    The custom range must end by now, start before it ends (by at least five minutes) and
    start no earlier than the hourly rollups are kept; its length is capped at that retention.
    A missing or unknown preset falls back to the default one without an error.
    """

    def __init__(self, data, now: datetime | None = None, rollup_keep: timedelta | None = None):
        super().__init__(data)
        self.now = now or timezone.now()
        # None = rollups kept for ever: still cap the span at ten years.
        self.keep = rollup_keep
        widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=INPUT_FORMAT)
        for name, label in (("from", "From"), ("to", "To")):
            self.fields[name] = forms.DateTimeField(
                required=False, label=label, input_formats=DATETIME_FORMATS, widget=widget
            )

    @property
    def custom(self) -> bool:
        """Whether the query asks for a custom range (either end given)."""
        return any(str(self.data.get(name) or "").strip() for name in ("from", "to"))

    def clean(self):
        data = super().clean()
        if not self.custom or self.errors:
            return data
        start, end = data.get("from"), data.get("to")
        if start is None or end is None:
            missing = "from" if start is None else "to"
            self.add_error(missing, "Give both ends of the range, or pick a preset range.")
            return data
        try:
            start, end = start.astimezone(UTC), end.astimezone(UTC)
        except (OverflowError, ValueError):
            self.add_error(None, "These dates are out of range.")
            return data
        longest = self.keep or MAX_SPAN_FOREVER
        if end > self.now:
            self.add_error(
                "to",
                f"This is in the future: the range can end at {self._local(self.now)} (now) "
                "at the latest.",
            )
        if start >= end:
            self.add_error("from", "The range must start before it ends.")
        elif end - start < MIN_SPAN:
            self.add_error(
                "to", f"The range must be at least {MIN_SPAN.seconds // 60} minutes long."
            )
        elif end - start > longest:
            self.add_error("from", f"The range can be at most {longest.days} days long.")
        if self.keep is not None and start < self.now - self.keep:
            self.add_error(
                "from",
                f"Hourly data is kept {self.keep.days} days: start on "
                f"{self._local(self.now - self.keep)} or later.",
            )
        if not self.errors:
            data["range"] = custom_range(start, end, self.now)
        return data

    @staticmethod
    def _local(ts: datetime) -> str:
        return timezone.localtime(ts).strftime("%Y-%m-%d %H:%M")

    def selected(self) -> Range:
        """The custom range when valid; else the preset asked for (or the default one)."""
        if self.is_valid() and "range" in self.cleaned_data:
            return self.cleaned_data["range"]
        wanted = self.data.get("range")
        return get_range(wanted if isinstance(wanted, str) else None)


def range_query(rng: Range) -> str:
    """The query string that asks for ``rng`` again (for links that keep the range)."""
    if rng.start is None or rng.end is None:
        return urlencode({"range": rng.key})
    return urlencode(
        {
            "from": timezone.localtime(rng.start).strftime(INPUT_FORMAT),
            "to": timezone.localtime(rng.end).strftime(INPUT_FORMAT),
        }
    )
