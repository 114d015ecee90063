"""Forms of the tuning pages: new sweep, run history filters, share links, Power Tuning import.

Every bad input becomes a field error with a message a user can act on (never a 500).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.utils import timezone

from tuning import pricing
from tuning.models import AwsAccount, RunStatus, Strategy, TuningRun

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240
MIN_INVOCATIONS = 5
MAX_INVOCATIONS = 1000
MAX_CONCURRENCY = 1000
MAX_DISCARD = 0.4

#: Presets of the memory-size field: (key, label, sizes).
PRESETS = (
    ("quick", "Quick: 128, 512, 1024, 1769, 3008 MB", (128, 512, 1024, 1769, 3008)),
    (
        "wide",
        "Wide: 128 MB … 10240 MB",
        (128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008, 4096, 6144, 8192, 10240),
    ),
    ("custom", "Custom (type below)", ()),
)
PRESET_SIZES = {key: sizes for key, _label, sizes in PRESETS}

#: Permission needed to start a sweep (and to re-run or import one).
START_PERMISSION = "tuning.add_tuningrun"
#: Permission needed to change a function's memory: auto-apply and "Apply" on a run.
APPLY_PERMISSION = "tuning.change_tuningrun"

FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$")
FUNCTION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):lambda:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):"
    r"(?P<account>\d{12}):function:(?P<name>[A-Za-z0-9_-]{1,64})"
    r"(?::(?P<qualifier>\$LATEST|[A-Za-z0-9_-]{1,128}))?$"
)
ALIAS_NAME = re.compile(r"^(?:\$LATEST|(?!^[0-9]+$)[A-Za-z0-9_-]{1,128})$")


def parse_function(value: str) -> dict:
    """A function name, partial name with qualifier, or ARN (unqualified or qualified).

    Returns ``{"function": value, "name", "qualifier", "region" (None unless an ARN)}``;
    raises ``forms.ValidationError`` with what is wrong.
    """
    value = (value or "").strip()
    match = FUNCTION_ARN.match(value)
    if match:
        return {
            "function": value,
            "name": match["name"],
            "qualifier": match["qualifier"] or "",
            "region": match["region"],
            "account_id": match["account"],
        }
    if value.startswith("arn:"):
        raise forms.ValidationError(
            "This ARN is not a Lambda function ARN. Expected "
            "arn:aws:lambda:REGION:ACCOUNT_ID:function:NAME[:VERSION_OR_ALIAS]."
        )
    if FUNCTION_NAME.match(value):
        name, _, qualifier = value.partition(":")
        return {
            "function": value,
            "name": name,
            "qualifier": qualifier,
            "region": None,
            "account_id": None,
        }
    raise forms.ValidationError(
        "Enter a function name (letters, digits, - and _, at most 64 characters), "
        "optionally with :VERSION or :ALIAS, or a function ARN."
    )


def parse_memory_sizes(value) -> list[int]:
    """'128, 512 1024' -> [128, 512, 1024]; each 128–10240 MB; duplicates removed, sorted."""
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        items = [item for item in re.split(r"[\s,;]+", str(value or "").strip()) if item]
    if not items:
        raise forms.ValidationError("Enter at least one memory size in MB, e.g. 128, 512, 1024.")
    errors, sizes = [], set()
    for item in items:
        text = item.lower().removesuffix("mb").strip()
        try:
            size = int(text)
        except ValueError:
            errors.append(f"“{item}” is not a whole number of MB.")
            continue
        if size < MIN_MEMORY_MB:
            errors.append(f"{size} MB is below Lambda's minimum of {MIN_MEMORY_MB} MB.")
        elif size > MAX_MEMORY_MB:
            errors.append(f"{size} MB is above Lambda's maximum of {MAX_MEMORY_MB} MB.")
        else:
            sizes.add(size)
    if errors:
        raise forms.ValidationError(errors)
    return sorted(sizes)


def parse_json(text: str, what: str = "Payload"):
    """JSON text -> value; a syntax error names its line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        lines = text.splitlines() or [""]
        line = lines[error.lineno - 1] if 0 < error.lineno <= len(lines) else ""
        raise forms.ValidationError(
            f"{what} is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}."
            + (f" The line reads: {line.strip()[:80]}" if line.strip() else ""),
            code="invalid_json",
        ) from None


def region_choices():
    return [(region, region) for region in pricing.known_regions()]


class SweepForm(forms.Form):
    account = forms.ModelChoiceField(
        queryset=AwsAccount.objects.all(),
        required=False,
        empty_label="The workers' own credentials",
        help_text="Cross-account access goes through the account's IAM role.",
    )
    region = forms.ChoiceField(choices=region_choices)
    function = forms.CharField(
        max_length=2048,
        help_text="Pick from the list or paste a name or ARN; "
        "a qualified ARN (…:function:NAME:ALIAS or :VERSION) tunes that version or alias.",
    )
    preset = forms.ChoiceField(
        choices=[(key, label) for key, label, _sizes in PRESETS], required=False, initial="quick"
    )
    memory_sizes = forms.CharField(
        initial="128, 512, 1024, 1769, 3008",
        help_text=f"MB, separated by commas; each {MIN_MEMORY_MB}–{MAX_MEMORY_MB}. "
        "Duplicates are removed and the sizes sorted.",
    )
    invocations_per_size = forms.IntegerField(
        min_value=MIN_INVOCATIONS,
        max_value=MAX_INVOCATIONS,
        initial=10,
        label="Invocations per size",
        help_text=f"{MIN_INVOCATIONS}–{MAX_INVOCATIONS}. More invocations, narrower confidence "
        "intervals.",
    )
    payload = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        initial="{}",
        help_text="JSON sent as the event of every invocation.",
    )
    weighted_payloads = forms.CharField(
        required=False,
        label="Weighted payloads",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text='Optional, instead of one payload: [{"payload": {...}, "weight": 3}, …] — '
        "each payload gets its weight's share of the invocations.",
    )
    parallel = forms.BooleanField(required=False, label="Invoke in parallel")
    concurrency = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_CONCURRENCY,
        initial=5,
        label="Concurrency cap",
        help_text="At most this many invocations at once (protects downstream systems).",
    )
    strategy = forms.ChoiceField(choices=Strategy.choices, initial=Strategy.COST)
    balanced_weight = forms.FloatField(
        min_value=0,
        max_value=1,
        initial=0.5,
        label="Balanced weight",
        help_text="0 = speed only, 1 = cost only.",
    )
    discard_fraction = forms.FloatField(
        min_value=0,
        max_value=MAX_DISCARD,
        initial=0.2,
        label="Discard fraction",
        help_text="Share of the slowest and fastest invocations left out of the trimmed mean "
        "(0–0.4, as in Power Tuning).",
    )
    cold_starts_only = forms.BooleanField(
        required=False,
        label="Cold starts only",
        help_text="Every measured invocation is a cold start (slower: one version per invocation).",
    )
    auto_apply_target = forms.CharField(
        required=False,
        max_length=128,
        label="Apply the winner automatically to",
        help_text='Empty = don\'t; "$LATEST" or an alias name.',
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.can_start = bool(user and user.has_perm(START_PERMISSION))
        self.can_apply = bool(user and user.has_perm(APPLY_PERMISSION))
        if not self.is_bound:
            self.fields["region"].initial = settings.TUNEBOARD_DEFAULT_REGION
        if not self.can_apply:
            self.fields["auto_apply_target"].disabled = True
            self.fields[
                "auto_apply_target"
            ].help_text = f"Needs the “{APPLY_PERMISSION}” permission (Can change tuning run)."
        if not self.can_start:
            for field in self.fields.values():
                field.disabled = True

    def clean_function(self):
        return parse_function(self.cleaned_data["function"])

    def clean_memory_sizes(self):
        return parse_memory_sizes(self.cleaned_data["memory_sizes"])

    def clean_payload(self):
        text = (self.cleaned_data.get("payload") or "").strip()
        if not text:
            return {}
        return parse_json(text, "Payload")

    def clean_weighted_payloads(self):
        text = (self.cleaned_data.get("weighted_payloads") or "").strip()
        if not text:
            return []
        value = parse_json(text, "Weighted payloads")
        if not isinstance(value, list) or not value:
            raise forms.ValidationError(
                'Weighted payloads must be a non-empty JSON list: [{"payload": {...}, '
                '"weight": 1}, …].'
            )
        for index, item in enumerate(value, start=1):
            if not isinstance(item, dict) or "payload" not in item:
                raise forms.ValidationError(f'Item {index} needs a "payload" key.')
            weight = item.get("weight", 1)
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
                raise forms.ValidationError(f'Item {index}: "weight" must be a positive number.')
        return [{"payload": item["payload"], "weight": item.get("weight", 1)} for item in value]

    def clean_auto_apply_target(self):
        target = (self.cleaned_data.get("auto_apply_target") or "").strip()
        if target and not self.can_apply:
            raise forms.ValidationError(f"Auto-apply needs the “{APPLY_PERMISSION}” permission.")
        if target and not ALIAS_NAME.match(target):
            raise forms.ValidationError('Enter "$LATEST" or an alias name (not a version number).')
        return target

    def clean(self):
        cleaned = super().clean()
        if not self.can_start:
            raise forms.ValidationError(
                f"You need the “{START_PERMISSION}” permission (Can add tuning run) to start "
                "a sweep. Ask an administrator."
            )
        function = cleaned.get("function")
        if function and function["region"]:
            cleaned["region"] = function["region"]  # an ARN says where the function is
        payload = cleaned.get("payload")
        weighted = cleaned.get("weighted_payloads")
        if weighted and payload not in (None, {}):
            self.add_error(
                "weighted_payloads",
                "Give either one payload or weighted payloads, not both "
                "(empty the payload field or this one).",
            )
        if (
            cleaned.get("parallel")
            and not cleaned.get("concurrency")
            and not self.has_error("concurrency")
        ):
            self.add_error("concurrency", "Parallel mode needs a cap: how many at once?")
        sizes = cleaned.get("memory_sizes") or []
        num = cleaned.get("invocations_per_size")
        if weighted and num and num < len(weighted):
            self.add_error(
                "weighted_payloads",
                f"{len(weighted)} payloads need at least {len(weighted)} invocations per size.",
            )
        if sizes and num and len(sizes) * num > 20000:
            self.add_error(
                "invocations_per_size",
                f"{len(sizes)} sizes × {num} invocations = {len(sizes) * num:,} invocations; "
                "keep a sweep under 20,000.",
            )
        return cleaned

    def start_kwargs(self) -> dict:
        """Keyword arguments of ``tuning.sweep.start_run`` from the cleaned data."""
        data = self.cleaned_data
        return {
            "function": data["function"]["function"],
            "memory_sizes": data["memory_sizes"],
            "invocations_per_size": data["invocations_per_size"],
            "created_by": self.user,
            "account": data.get("account"),
            "region": data["region"],
            "payload": data.get("payload") if not data.get("weighted_payloads") else None,
            "weighted_payloads": data.get("weighted_payloads") or None,
            "parallel": data.get("parallel", False),
            "concurrency": data.get("concurrency") or 1,
            "strategy": data["strategy"],
            "balanced_weight": data["balanced_weight"],
            "discard_fraction": data["discard_fraction"],
            "cold_starts_only": data.get("cold_starts_only", False),
            "auto_apply_target": data.get("auto_apply_target", ""),
        }


def initial_from_run(run) -> dict:
    """Form values that repeat a run's parameters (the "Re-run with changes" link)."""
    return {
        "account": run.account_id,
        "region": run.region,
        "function": run.function_arn,
        "preset": "custom",
        "memory_sizes": ", ".join(str(size) for size in run.memory_sizes),
        "invocations_per_size": run.invocations_per_size,
        "payload": json.dumps(run.payload, indent=2) if run.payload else "{}",
        "weighted_payloads": json.dumps(run.weighted_payloads, indent=2)
        if run.weighted_payloads
        else "",
        "parallel": run.parallel,
        "concurrency": run.concurrency,
        "strategy": run.strategy,
        "balanced_weight": run.balanced_weight,
        "discard_fraction": run.discard_fraction,
        "cold_starts_only": run.cold_starts_only,
    }


class RunFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    function = forms.CharField(required=False)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *RunStatus.choices])
    account = forms.ModelChoiceField(
        queryset=AwsAccount.objects.all(), required=False, empty_label="Any account"
    )
    who = forms.ModelChoiceField(
        queryset=get_user_model()
        .objects.filter(Exists(TuningRun.objects.filter(created_by=OuterRef("pk"))))
        .order_by("username"),
        required=False,
        empty_label="Anyone",
        to_field_name="username",
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filter(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data.get("q"):
            from django.db.models import Q

            text = data["q"].strip()
            condition = (
                Q(function_name__icontains=text)
                | Q(function_arn__icontains=text)
                | Q(region__icontains=text)
                | Q(error_message__icontains=text)
                | Q(created_by__username__icontains=text)
                | Q(account__name__icontains=text)
            )
            try:
                condition |= Q(id=uuid.UUID(text))
            except ValueError:
                pass
            queryset = queryset.filter(condition)
        if data.get("function"):
            queryset = queryset.filter(function_name__icontains=data["function"].strip())
        if data.get("status"):
            queryset = queryset.filter(status=data["status"])
        if data.get("account"):
            queryset = queryset.filter(account=data["account"])
        if data.get("who"):
            queryset = queryset.filter(created_by=data["who"])
        tz = timezone.get_current_timezone()
        if data.get("since"):
            start = timezone.make_aware(
                timezone.datetime.combine(data["since"], timezone.datetime.min.time()), tz
            )
            queryset = queryset.filter(created_at__gte=start)
        if data.get("until"):
            end = timezone.make_aware(
                timezone.datetime.combine(data["until"], timezone.datetime.min.time()), tz
            ) + timedelta(days=1)
            queryset = queryset.filter(created_at__lt=end)
        return queryset


EXPIRY_CHOICES = (
    ("", "Never expires"),
    ("1h", "Expires in 1 hour"),
    ("1d", "Expires in 1 day"),
    ("7d", "Expires in 7 days"),
    ("30d", "Expires in 30 days"),
)
EXPIRY_DELTAS = {
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


class ShareLinkForm(forms.Form):
    expires_in = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expiry")

    def expires_at(self):
        delta = EXPIRY_DELTAS.get(self.cleaned_data.get("expires_in") or "")
        return timezone.now() + delta if delta else None


class PowerTuningImportForm(forms.Form):
    function = forms.CharField(
        max_length=2048,
        help_text="The function that was tuned (name or ARN): Power Tuning's output does not "
        "name it.",
    )
    region = forms.ChoiceField(choices=region_choices)
    account = forms.ModelChoiceField(
        queryset=AwsAccount.objects.all(), required=False, empty_label="No account"
    )
    strategy = forms.ChoiceField(choices=Strategy.choices, initial=Strategy.COST)
    source = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        label="Power Tuning output or visualizer URL",
        help_text="Paste the state machine's output JSON (Step Functions console, “Output” tab) "
        "or a https://lambda-power-tuning.show/#… link.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["region"].initial = settings.TUNEBOARD_DEFAULT_REGION

    def clean_function(self):
        return parse_function(self.cleaned_data["function"])

    def clean_source(self):
        from tuning import powertuning

        try:
            return powertuning.parse_source(self.cleaned_data["source"])
        except powertuning.ImportProblem as problem:
            raise forms.ValidationError(str(problem)) from None

    def clean(self):
        cleaned = super().clean()
        function = cleaned.get("function")
        if function and function["region"]:
            cleaned["region"] = function["region"]
        return cleaned
