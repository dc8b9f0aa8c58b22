from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "shouhou.notifications"
    label = "notifications"
    verbose_name = _("Notifications and event delivery")

    def ready(self) -> None:
        from shouhou.core.outbox import on_event_published
        from shouhou.notifications.tasks import event_committed

        on_event_published(event_committed)
        import shouhou.notifications.handlers  # noqa: F401  (registers the consumer)
