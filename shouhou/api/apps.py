from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "shouhou.api"
    label = "api"
    verbose_name = _("Open API")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save
        from rest_framework.authtoken.models import Token

        from shouhou.accounts.models import Membership, Organization
        from shouhou.api.authentication import organizations, principals

        # A change to who someone is or what they may do forgets every cached principal here.
        for model in (Token, get_user_model(), Membership, Organization):
            for signal in (post_save, post_delete):
                for cache in (principals, organizations):
                    signal.connect(
                        cache.clear,
                        sender=model,
                        dispatch_uid=f"api-{id(cache)}-{model._meta.label}-{signal is post_save}",
                    )
