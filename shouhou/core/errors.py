"""Domain errors: services raise these, views turn them into 400/409 with a readable message."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A rule of the domain refused the request. ``message`` is shown to the person."""

    status_code = 400
    default_message = _("The request could not be carried out.")
    code = "domain_error"

    def __init__(self, message: object = None, **params: object) -> None:
        self.message = message if message is not None else self.default_message
        self.params = params
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class Conflict(DomainError):
    """The request clashes with the current state (for example an illegal transition)."""

    status_code = 409
    code = "conflict"


class RateLimited(DomainError):
    """Too many requests of this kind; ``retry_after`` says when to try again (seconds)."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: object = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after
