from django.apps import AppConfig
from django.conf import settings


class ProbeConfig(AppConfig):
    """Test-only consumers (installed by settings_test): prove delivery end to end."""

    name = "shouhou.notifications.probe"
    label = "notifications_probe"

    def ready(self) -> None:
        if getattr(settings, "SHOUHOU_PROBE_CONSUMERS", False):
            from shouhou.notifications.probe import consumers

            consumers.register()
