"""Forms of the tuning pages: new sweep, run history filters, share links, Power Tuning import.

Every bad input becomes a field error with a message a user can act on (never a 500).
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from aws.models import AwsAccount
from tuning import costing, powertuning_input, price_table, regions, runs, sharing
from tuning.models import RunStatus, Strategy, TuningRun
from tuning.params import (
    ALIAS_RE,
    ALL_MEMORY_SIZES,
    MAX_TEXT_CHARS,
    InvalidSweep,
    Param,
    SweepParams,
    parse_function,
    parse_region,
)

#: Presets of the memory-size field: (key, label, sizes).
PRESETS = (
    ("quick", "Quick: 128, 512, 1024, 1769, 3008 MB", (128, 512, 1024, 1769, 3008)),
    (
        "wide",
        "Wide: 128 MB … 10240 MB",
        (128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008, 4096, 6144, 8192, 10240),
    ),
    ("all", "All: 128–3008 MB every 64 MB (Power Tuning's ALL)", ALL_MEMORY_SIZES),
    ("custom", "Custom (type below)", ()),
)


def region_choices():
    """Every Lambda region; those with known prices first."""
    known = price_table.priced_regions()  # the AWS Price List's and the offline table's
    priced = [r for r in regions.lambda_regions() if r in known]
    unpriced = [r for r in regions.lambda_regions() if r not in priced]
    return [
        ("Prices known", [(r, regions.label(r)) for r in priced]),
        (
            f"No price known (durations only, costs show “{costing.PRICE_UNKNOWN}”)",
            [(r, regions.label(r)) for r in unpriced],
        ),
    ]


def _json_area(rows: int = 4):
    return forms.Textarea(attrs={"rows": rows, "spellcheck": "false"})


def _form_field(name: str, spec: Param) -> forms.Field:
    """The form field of a sweep parameter: its widget and the limits the browser can check.
    Every value is then validated by SweepParams itself (SweepForm.clean)."""
    default = SweepParams.default(name)
    common = {"label": spec.label, "help_text": spec.help}
    if spec.kind == "int":
        return forms.IntegerField(
            min_value=spec.low, max_value=spec.high, initial=default, required=False, **common
        )
    if spec.kind == "float":
        return forms.FloatField(
            min_value=spec.low, max_value=spec.high, initial=default, required=False, **common
        )
    if spec.kind == "bool":
        return forms.BooleanField(required=False, **common)
    if spec.kind == "strategy":
        return forms.ChoiceField(choices=Strategy.choices, initial=default, **common)
    if spec.kind == "account":
        return forms.ModelChoiceField(
            queryset=AwsAccount.objects.all(),
            required=False,
            empty_label="The workers' own credentials",
            **common,
        )
    if spec.kind == "region":
        return forms.ChoiceField(choices=region_choices, **common)
    if spec.kind in ("json", "weighted"):
        initial = "{}" if spec.kind == "json" else ""
        return forms.CharField(required=False, widget=_json_area(), initial=initial, **common)
    if spec.kind == "sizes":
        return forms.CharField(initial=", ".join(str(s) for s in PRESETS[0][2]), **common)
    return forms.CharField(required=spec.kind == "function", max_length=MAX_TEXT_CHARS, **common)


class SweepForm(forms.Form):
    """The new-sweep form: one field per SweepParams field (declared there), plus presets."""

    preset = forms.ChoiceField(
        choices=[(key, label) for key, label, _sizes in PRESETS], required=False, initial="quick"
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, spec in SweepParams.declared().items():
            self.fields[name] = _form_field(name, spec)
        self.user = user
        self.can_start = runs.can_start(user)
        self.can_apply = runs.can_apply(user)
        self.params: SweepParams | None = None
        if not self.is_bound:
            self.fields["region"].initial = settings.TUNEBOARD_DEFAULT_REGION
        if not self.can_apply:
            self.fields["auto_apply_target"].disabled = True
            self.fields[
                "auto_apply_target"
            ].help_text = f"Needs the “{runs.APPLY_PERMISSION}” permission (Can change tuning run)."
        if not self.can_start:
            for field in self.fields.values():
                field.disabled = True

    def clean(self):
        cleaned = super().clean()
        if not self.can_start:
            raise forms.ValidationError(
                f"You need the “{runs.START_PERMISSION}” permission (Can add tuning run) to start "
                "a sweep. Ask an administrator."
            )
        if cleaned.get("auto_apply_target") and not self.can_apply:
            self.add_error(
                "auto_apply_target", f"Auto-apply needs the “{runs.APPLY_PERMISSION}” permission."
            )
        values = {
            name: cleaned.get(name) for name in SweepParams.declared() if not self.has_error(name)
        }
        from_arn = False
        try:
            # An ARN says where the function is: it overrides the region menu.
            from_arn = bool(parse_function(values.get("function")).region)
            values["region"] = parse_function(values.get("function")).region or values["region"]
        except (InvalidSweep, KeyError):
            pass
        if not values.get("parallel"):
            values["concurrency"] = None  # serial: the (disabled) cap is not needed
        try:
            self.params = SweepParams.parse(values, text=True)
        except InvalidSweep as invalid:
            for name, message in invalid.errors.items():
                if name == "region" and from_arn:
                    name = "function"  # the ARN's region, not the menu's
                if name not in self.fields:
                    self.add_error(None, message)
                elif not self.has_error(name):
                    self.add_error(name, message)
        return cleaned


def initial_from_run(run) -> dict:
    """Form values that repeat a run's parameters (the "Re-run with changes" link)."""
    return {**SweepParams.from_run(run).form_initial(), "preset": "custom"}


class PowerTuningInputForm(forms.Form):
    """A Power Tuning state machine input pasted to fill the new-sweep form (nothing starts)."""

    # No max_length: the browser would cut a longer paste silently; the body limit applies.
    powertuning_input = forms.CharField(
        widget=_json_area(rows=6),
        label="Power Tuning input",
        help_text='The JSON you start Power Tuning\'s state machine with, e.g. {"lambdaARN": '
        '"arn:aws:lambda:…", "powerValues": [128, 256, 512], "num": 10}. It fills the form '
        "below for you to check; nothing starts until you press Start sweep.",
    )

    def clean_powertuning_input(self):
        try:
            return powertuning_input.parse_input_text(self.cleaned_data["powertuning_input"])
        except powertuning_input.NotAnInput as problem:
            raise forms.ValidationError(str(problem)) from None

    def sweep_initial(self) -> tuple[dict, list[str]]:
        """New-sweep form values from the pasted input, and the notes and problems to show:
        each value is checked as the form will check it, a bad one is left out and named."""
        translation = self.cleaned_data["powertuning_input"]
        declared = SweepParams.declared()
        initial, notes = {"preset": "custom"}, list(translation.notes)
        for name, value in translation.values.items():
            spec = declared[name]
            try:
                initial[name] = spec.to_text(spec.parse(value))
            except ValueError as invalid:  # InvalidSweep is a ValueError too
                notes.append(f"{spec.label}: {invalid} It was left as it was.")
        try:
            initial["region"] = parse_function(initial.get("function")).region or None
        except ValueError:
            pass
        return {name: value for name, value in initial.items() if value is not None}, notes


def _attributes(attrs: dict) -> str:
    """HTML attributes in their order, as Django's widgets/attrs.html writes them."""
    return "".join(
        f" {name}" if value is True else f' {name}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class PlainSelect(forms.Select):
    """A select of ungrouped choices written in Python: Django's widget templates render one
    template per option (with its attributes), which cost the history page as much as its
    query. The same elements and attributes, without the templates' line breaks."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = "".join(
            f'<option value="{escape(option["value"])}"{" selected" if option["selected"] else ""}>'
            f"{escape(option['label'])}</option>"
            for _group, group_options, _index in widget["optgroups"]
            for option in group_options
        )
        return mark_safe(  # noqa: S308 (every value above is escaped)
            f'<select name="{escape(name)}"{_attributes(widget["attrs"])}>{options}</select>'
        )


class PlainDateInput(forms.DateInput):
    """A date input written in Python, as :class:`PlainSelect`, same attributes."""

    input_type = "date"

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else f' value="{escape(widget["value"])}"'
        return mark_safe(  # noqa: S308 (every value above is escaped)
            f'<input type="date" name="{escape(name)}"{shown}{_attributes(widget["attrs"])}>'
        )


#: The message of a ModelChoiceField, which these selects were: it does not repeat the value.
NOT_A_CHOICE = "Select a valid choice. That choice is not one of the available choices."


def run_creators() -> list[tuple[int, str]]:
    """(pk, username) of the users who created runs, by username. PostgreSQL probes the runs'
    created_by index once per user. Written out: the ORM took twice as long to build this
    query (0.5 ms) as PostgreSQL to answer it, on every history page."""
    users, runs = get_user_model()._meta.db_table, TuningRun._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT id, username FROM "{users}" '  # noqa: S608 (table names, no input)
            f'WHERE id IN (SELECT created_by_id FROM "{runs}") ORDER BY username'
        )
        return cursor.fetchall()


class RunFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    function = forms.CharField(required=False)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *RunStatus.choices], widget=PlainSelect
    )
    # Plain choices, filled in __init__: a ModelChoiceField reads its options through a
    # server-side cursor and builds a model for each, which cost the history page more than
    # its own query.
    account = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        widget=PlainSelect,
        error_messages={"invalid_choice": NOT_A_CHOICE},
    )
    who = forms.ChoiceField(
        required=False, widget=PlainSelect, error_messages={"invalid_choice": NOT_A_CHOICE}
    )
    since = forms.DateField(required=False, widget=PlainDateInput)
    until = forms.DateField(required=False, widget=PlainDateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # (pk, name) pairs, kept for search: it matches them without a query of its own.
        self.accounts = list(AwsAccount.objects.values_list("pk", "name"))
        self.fields["account"].choices = [("", "Any account"), *self.accounts]
        # Only they can have created a run that search finds.
        self.creators = run_creators()
        self.fields["who"].choices = [
            ("", "Anyone"),
            *((name, name) for _, name in self.creators),
        ]

    def filter(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data.get("q", "").strip():
            queryset = queryset.search(data["q"], self.creators, self.accounts)
        if data.get("function"):
            queryset = queryset.filter(function_name__icontains=data["function"].strip())
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("account"):
            queryset = queryset.filter(account_id=data["account"])
        if data.get("who"):
            queryset = queryset.filter(created_by__username=data["who"])
        # Days in the viewer's timezone, compared by the database: no date arithmetic in
        # Python (the day after 9999-12-31 overflows).
        if data.get("since"):
            queryset = queryset.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            queryset = queryset.filter(created_at__date__lte=data["until"])
        return queryset


class ShareLinkForm(forms.Form):
    # No "never" (see sharing.EXPIRY_DAYS); an empty or missing value means the default.
    expires_in = forms.TypedChoiceField(
        choices=[
            (days, f"Expires in {days} day{'s' if days > 1 else ''}")
            for days in sharing.EXPIRY_DAYS
        ],
        coerce=int,
        required=False,
        empty_value=sharing.DEFAULT_EXPIRY_DAYS,
        initial=sharing.DEFAULT_EXPIRY_DAYS,
        label="Expiry",
    )

    def expires_at(self):
        return timezone.now() + timedelta(days=self.cleaned_data["expires_in"])


class PowerTuningImportForm(forms.Form):
    """Every figure of the pasted output or link is checked (tuning.powertuning) before the
    import stores anything: a bad one is a field error, never a run that breaks pages."""

    function = forms.CharField(
        max_length=MAX_TEXT_CHARS,
        help_text="The function that was tuned (name or ARN): Power Tuning's output does not "
        "name it.",
    )
    region = forms.ChoiceField(choices=region_choices)
    account = forms.ModelChoiceField(
        queryset=AwsAccount.objects.all(), required=False, empty_label="No account"
    )
    strategy = forms.ChoiceField(choices=Strategy.choices, initial=Strategy.COST)
    # No max_length: the browser would cut a longer paste silently; parse_source names the limit.
    source = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        label="Power Tuning output or visualizer URL",
        help_text="Paste the state machine's output JSON (Step Functions console, “Output” tab) "
        "or a https://lambda-power-tuning.show/#… link; a comparison link of two runs imports "
        "both, named after its legends.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["region"].initial = settings.TUNEBOARD_DEFAULT_REGION

    def clean_function(self):
        try:
            function = parse_function(self.cleaned_data["function"])
            parse_region(function.region)  # an ARN's region must be one where Lambda runs
        except ValueError as invalid:  # InvalidSweep is a ValueError too
            raise forms.ValidationError(str(invalid)) from None
        return function

    def clean_source(self):
        from tuning import powertuning

        try:  # a list: one run, or the two runs of a comparison link
            return powertuning.parse_sources(self.cleaned_data["source"])
        except powertuning.ImportProblem as problem:
            raise forms.ValidationError(str(problem)) from None

    def clean(self):
        cleaned = super().clean()
        function = cleaned.get("function")
        if function and function.region:
            cleaned["region"] = function.region
        return cleaned


class ApplyForm(forms.Form):
    """Apply one of a run's succeeded sizes to $LATEST or an alias, once confirmed."""

    memory_mb = forms.TypedChoiceField(coerce=int, label="Memory size")
    target = forms.CharField(max_length=128, initial="$LATEST", label="Apply to")
    confirm = forms.BooleanField(
        error_messages={"required": "Tick the confirmation box to change the function."}
    )

    def __init__(self, *args, sizes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["memory_mb"].choices = [(size, f"{size} MB") for size in sizes]
        self.fields["memory_mb"].error_messages["invalid_choice"] = (
            "Choose one of the sizes that succeeded."
        )

    def clean_target(self):
        target = self.cleaned_data["target"].strip()
        if target != "$LATEST" and not ALIAS_RE.match(target):
            raise forms.ValidationError(f"{target!r} is not $LATEST or an alias name.")
        return target
