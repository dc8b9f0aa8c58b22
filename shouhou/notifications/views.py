"""The inbox page (every signed-in user), its unread badge, the preferences page with its
browser-push switch, and the push service worker (served at /sw.js so it may control the
whole site)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from shouhou.accounts.models import User
from shouhou.core.errors import DomainError
from shouhou.notifications import messaging, push
from shouhou.notifications.models import Message, NotificationPreference, PushSubscription

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
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "push_enabled": push.push_enabled(),
            "push_public_key": push.push_public_key(),
            "push_subscriptions": list(push.push_subscriptions_for(user=_me(request))),
        },
    )


class PushSubscriptionForm(forms.Form):
    """What the page's script copies from the browser's PushSubscription."""

    endpoint = forms.CharField(max_length=push.ENDPOINT_MAX)
    p256dh = forms.CharField(max_length=100)
    auth = forms.CharField(max_length=32)


def _back_to_push() -> HttpResponse:
    return redirect(reverse("notifications:preferences") + "#push")


@login_required
@require_POST
def push_subscribe(request: HttpRequest) -> HttpResponse:
    """Remember this browser for push (the form the settings page's script submits)."""
    form = PushSubscriptionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _(
                "This browser did not hand over a push subscription. Allow notifications and "
                "try again."
            ),
        )
        return _back_to_push()
    try:
        push.push_subscription_save(
            user=_me(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            **form.cleaned_data,
        )
    except DomainError as error:
        messages.error(request, str(error))
        return _back_to_push()
    messages.success(request, _("This browser will now receive push notifications."))
    return _back_to_push()


@login_required
@require_POST
def push_unsubscribe(request: HttpRequest) -> HttpResponse:
    """Forget this browser (by its endpoint, after the script unsubscribed it)."""
    try:
        push.push_subscription_delete(user=_me(request), endpoint=request.POST.get("endpoint", ""))
    except PushSubscription.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("This browser will no longer receive push notifications."))
    return _back_to_push()


@login_required
@require_POST
def push_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Forget one of the listed browsers (works without JavaScript)."""
    try:
        push.push_subscription_delete(user=_me(request), pk=pk)
    except PushSubscription.DoesNotExist as exc:
        raise Http404 from exc
    messages.success(request, _("That browser will no longer receive push notifications."))
    return _back_to_push()


SERVICE_WORKER = Path(__file__).resolve().parent.parent / "static" / "shouhou" / "sw.js"


@cache
def _service_worker_source() -> bytes:
    return SERVICE_WORKER.read_bytes()


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The push service worker at the site root, so its scope is the whole site."""
    response = HttpResponse(_service_worker_source(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"  # browsers then pick up a new version at once
    return response
