from django import forms

from cachemetrics.models import BillingMode, CachedTable, DaxCluster


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
