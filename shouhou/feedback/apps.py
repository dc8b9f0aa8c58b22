from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "shouhou.feedback"
    label = "feedback"
    verbose_name = _("Ratings and follow-ups")
