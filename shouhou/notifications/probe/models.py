from django.db import models


class DeliveryProbe(models.Model):
    """One row per (event, consumer) side effect of a probe consumer; ``runs`` counts how many
    times the handler ran for it (more than one only if a worker died after the effect)."""

    key = models.CharField(max_length=80, unique=True)
    event_id = models.BigIntegerField()
    consumer = models.CharField(max_length=40)
    runs = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.key
