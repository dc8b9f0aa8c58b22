from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceKind(models.TextChoices):
    REPAIR = "repair", _("Repair")
    INSTALL = "install", _("Installation")
    CLEAN = "clean", _("Cleaning")
    MAINTENANCE = "maintenance", _("Maintenance")
    INSPECTION = "inspection", _("Inspection")
    RESCUE = "rescue", _("Roadside rescue")


class PriceItemKind(models.TextChoices):
    LABOUR = "labour", _("Labour")
    PART = "part", _("Part")
    MATERIAL = "material", _("Material")
    FEE = "fee", _("Fee")


class Unit(models.TextChoices):
    PIECE = "piece", _("piece")
    JOB = "job", _("job")
    HOUR = "hour", _("hour")
    METRE = "metre", _("metre")
    LITRE = "litre", _("litre")
    KILOMETRE = "km", _("km")
