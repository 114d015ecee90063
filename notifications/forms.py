from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from notifications import webhook
from notifications.models import DEFAULT_EVENTS, MAX_EMAILS, Event, UserPreference

EVENT_CHOICES = [(str(e), e.label) for e in DEFAULT_EVENTS]


class TeamNotificationsForm(forms.Form):
    """The webhook URL is a secret: the form never shows it. Empty keeps the saved one."""

    webhook_url = forms.CharField(
        label="Webhook URL",
        required=False,
        max_length=webhook.MAX_URL_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="A Slack-compatible incoming webhook (https://…). Once saved it is shown "
        "masked; leave empty to keep the saved one.",
    )
    remove_webhook = forms.BooleanField(label="Remove the saved webhook", required=False)
    emails = forms.CharField(
        label="Team e-mail addresses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"One per line or separated by commas; at most {MAX_EMAILS}.",
    )
    events = forms.MultipleChoiceField(
        label="Notify the team when",
        required=False,
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, instance, **kwargs):
        self.instance = instance
        kwargs.setdefault(
            "initial", {"emails": "\n".join(instance.emails), "events": instance.events}
        )
        super().__init__(*args, **kwargs)
        if instance.webhook_url:
            self.fields["webhook_url"].widget.attrs["placeholder"] = instance.masked_webhook

    def clean_webhook_url(self):
        url = self.cleaned_data["webhook_url"].strip()
        if url:
            problem = webhook.validation_error(url)
            if problem:
                raise ValidationError(problem)
        return url

    def clean_emails(self):
        text = self.cleaned_data["emails"]
        addresses = list(
            dict.fromkeys(a.strip() for a in text.replace(",", "\n").splitlines() if a.strip())
        )
        if len(addresses) > MAX_EMAILS:
            raise ValidationError(f"At most {MAX_EMAILS} addresses.")
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(f"“{address[:100]}” is not an e-mail address.") from None
        return addresses

    def save(self, user):
        row = self.instance
        if self.cleaned_data["remove_webhook"]:
            row.webhook_url = ""
        elif self.cleaned_data["webhook_url"]:
            row.webhook_url = self.cleaned_data["webhook_url"]
        row.emails = self.cleaned_data["emails"]
        row.events = [e for e in self.cleaned_data["events"] if e in Event.values]
        row.updated_by = user
        row.save()
        return row


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = UserPreference
        fields = ["email_my_sweeps"]
