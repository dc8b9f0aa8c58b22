"""Money: ``Decimal`` yuan with two places in models and forms, integer fen in the ledger."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

CENT = Decimal("0.01")


def quantize(amount: Decimal | int | str) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def to_fen(amount: Decimal) -> int:
    return int(quantize(amount) * 100)


def from_fen(fen: int) -> Decimal:
    return quantize(Decimal(fen) / 100)


def format_cny(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    return f"¥{quantize(amount):,.2f}"


class MoneyField(models.DecimalField):
    """An amount in yuan with two decimal places (up to 9,999,999,999.99)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
