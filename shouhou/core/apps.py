from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "shouhou.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        if apps.is_installed("django_rq"):
            from shouhou.core import rq_connections

            rq_connections.install()
