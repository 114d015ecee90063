"""Forms of the dashboard pages: login, API tokens."""

from datetime import timedelta

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from dashboard.models import ApiToken

EXPIRY_CHOICES = (
    ("", "Never expires"),
    ("7", "Expires in 7 days"),
    ("30", "Expires in 30 days"),
    ("90", "Expires in 90 days"),
    ("365", "Expires in 1 year"),
)


class _UsernameLength:
    """Django sets the username's max_length on the login forms only as an HTML attribute:
    a longer name reached the login-attempt log (django-axes) and PostgreSQL refused it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class LoginForm(_UsernameLength, AuthenticationForm):
    pass


class AdminLoginForm(_UsernameLength, AdminAuthenticationForm):
    pass


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “CI pipeline”.")
    scope = forms.ChoiceField(
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        help_text="A read-only token can list and read runs and cache metrics, nothing else.",
    )
    expires_in = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
        label="Expiry",
    )

    def issue(self, user) -> tuple[ApiToken, str]:
        """The new token and its key (shown once)."""
        days = self.cleaned_data["expires_in"]
        return ApiToken.issue(
            user,
            self.cleaned_data["name"],
            scope=self.cleaned_data["scope"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
