from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizationKind(models.TextChoices):
    PLATFORM = "platform", _("Platform operator")
    BRAND = "brand", _("Brand")
    PROVIDER = "provider", _("Service provider")
    MERCHANT = "merchant", _("Merchant workshop")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    AGENT = "agent", _("Service agent")
    TECHNICIAN = "technician", _("Technician")
    OUTLET_MANAGER = "outlet_manager", _("Outlet manager")
    FINANCE = "finance", _("Finance")
    AUDITOR = "auditor", _("Auditor")


# Roles that work in the desktop staff console.
CONSOLE_ROLES = frozenset({Role.ADMIN, Role.AGENT, Role.OUTLET_MANAGER, Role.FINANCE, Role.AUDITOR})


class CertificationTier(models.TextChoices):
    FLAGSHIP = "flagship", _("Flagship service centre")
    AUTHORISED = "authorised", _("Authorised service centre")
    PARTNER = "partner", _("Partner service point")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")
