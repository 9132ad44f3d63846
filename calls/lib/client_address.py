"""The address a request came from, as far as our own proxies vouch for it.

Behind a load balancer every request's REMOTE_ADDR is the balancer's: the sign-in lockout and
the audit log would see one address for everyone. The balancer appends the address it saw to
``X-Forwarded-For``; anything to the left of that came from the client and may be invented. With
TRUSTED_PROXY_COUNT proxies in front, the client is the entry that many places from the right.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address (normalised), or None if what we have is not an address."""
    candidate = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
        # Fewer hops than proxies: the request did not come through them (a health check on
        # the instance itself): its own peer is the client.
    try:
        return str(ipaddress.ip_address(str(candidate)))
    except ValueError:
        return None
