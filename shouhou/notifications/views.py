"""The inbox page (every signed-in user), its unread badge, and the preferences page."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from shouhou.accounts.models import User
from shouhou.notifications import messaging
from shouhou.notifications.models import Message, NotificationPreference

INBOX_PAGE = 50


def _me(request: HttpRequest) -> User:
    return cast(User, request.user)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    rows = list(messaging.inbox_for(user=_me(request))[:INBOX_PAGE])
    return render(
        request,
        "notifications/inbox.html",
        {"rows": rows, "unread": sum(1 for m in rows if m.read_at is None)},
    )


@login_required
def inbox_badge(request: HttpRequest) -> HttpResponse:
    """The header link with the unread count, loaded by htmx so pages pay no extra query."""
    return render(
        request,
        "notifications/_badge.html",
        {"unread": messaging.inbox_unread_count(user=_me(request))},
    )


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        messaging.message_mark_read(user=_me(request), message_id=pk)
    except Message.DoesNotExist as exc:
        raise Http404 from exc
    return redirect("notifications:inbox")


class PreferenceForm(forms.ModelForm[NotificationPreference]):
    class Meta:
        model = NotificationPreference
        fields = ["sms", "wechat", "email", "webpush", "quiet_hours", "quiet_start", "quiet_end"]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }
        help_texts = {
            "quiet_hours": gettext_lazy(
                "No SMS, WeChat, email or push in these hours (Beijing time); they wait until "
                "the morning. Urgent messages still come. The inbox always fills."
            ),
        }


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    pref = messaging.preference_for(user=_me(request))
    form = PreferenceForm(request.POST or None, instance=pref)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your notification settings are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})
