"""API authentication: tokens, with the principal behind a token remembered for a few seconds.

A token lookup plus the caller's memberships is two queries on every API call; on the intake
path under load that is a sixth of the work. ``CachedTokenAuthentication`` remembers the user
(with memberships loaded) per token for ``API_TOKEN_CACHE_SECONDS`` (default 10). A change to a
token, a user, a membership or an organisation in this process forgets every entry at once;
other web processes notice within that lifetime, which is therefore the longest time a revoked
token or a removed role can still be used. Set it to 0 to look up every request.
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework.authentication import TokenAuthentication

from shouhou.accounts.models import Organization
from shouhou.core.cache import TtlCache
from shouhou.core.tenancy import memberships_of

principals: TtlCache[tuple[Any, Any]] = TtlCache("API_TOKEN_CACHE_SECONDS")
organizations: TtlCache[Organization] = TtlCache("API_TOKEN_CACHE_SECONDS")


def organization_cached(pk: int) -> Organization:
    """The organisation ``pk`` (the caller has already been checked to belong to it)."""
    return organizations.get_or_compute(pk, lambda: Organization.objects.get(pk=pk))


class CachedTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``; answers 401 with ``WWW-Authenticate: Token`` when
    credentials are missing or wrong."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        def lookup() -> tuple[Any, Any]:
            user, token = super(CachedTokenAuthentication, self).authenticate_credentials(key)
            memberships_of(user)  # loaded once, kept on the cached user
            return user, token

        user, token = principals.get_or_compute(key, lookup)
        # Each request gets its own copy, so attributes a request sets stay with it.
        return copy.copy(user), token
