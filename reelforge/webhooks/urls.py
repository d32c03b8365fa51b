"""Where a webhook may be sent: the SSRF guard.

Threat model: a client registers a URL that points the server at itself, the cloud metadata
service (169.254.169.254, fd00:ec2::254, 100.100.100.200, 192.0.0.192) or another machine
on the private network, and reads the answers back through `webhookDeliveries`. So in
production a URL must be https, and every address its host resolves to must be a public
unicast address. The check runs at creation and again at each attempt, and the attempt
connects to the very address that passed (DNS rebinding: a name that resolved to a public
address at creation may resolve to 127.0.0.1 later, or between two lookups). Redirects are
never followed. Development and tests also allow loopback, so a local receiver works.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000
# Cloud metadata services that sit on addresses Python counts as global.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("192.0.0.192")})  # Oracle Cloud
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedDestination(Exception):
    """The URL, or an address its host resolves to, is not one webhooks may be sent to."""


@dataclass(frozen=True)
class Policy:
    require_https: bool
    allow_loopback: bool

    @classmethod
    def for_production(cls, production: bool) -> Policy:
        return cls(require_https=production, allow_loopback=not production)


@dataclass(frozen=True)
class Destination:
    """A checked URL and the address to connect to for it."""

    url: httpx.URL
    address: IPAddress

    @property
    def pinned_url(self) -> httpx.URL:
        """The URL with its host replaced by the checked address."""
        host = str(self.address)
        return self.url.copy_with(host=host)

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")  # host[:port], IPv6 in brackets


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_allowed(address: IPAddress, policy: Policy) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return address_allowed(inner, policy)
    if address.is_loopback:
        return policy.allow_loopback
    return address.is_global and not address.is_multicast and address not in METADATA_ADDRESSES


def check_url(url: str, policy: Policy) -> httpx.URL:
    """The parsed URL when its form is acceptable (scheme, host, no credentials); the
    addresses are checked by `resolve_destination`."""
    if len(url) > MAX_URL_LENGTH:
        raise BlockedDestination(f"the URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise BlockedDestination(f"not a valid URL: {exc}") from None
    allowed = ("https",) if policy.require_https else ("https", "http")
    if parsed.scheme not in allowed:
        raise BlockedDestination(f"the URL must use {' or '.join(allowed)}")
    if not parsed.host:
        raise BlockedDestination("the URL has no host")
    if parsed.userinfo:
        raise BlockedDestination("the URL must not carry a user name or password")
    return parsed


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def resolve_destination(url: str, policy: Policy) -> Destination:
    """The URL and the address to connect to, once every address of its host passed."""
    parsed = check_url(url, policy)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = await resolve(parsed.host, port)
    except (OSError, UnicodeError) as exc:
        raise BlockedDestination(f"cannot resolve {parsed.host}: {exc}") from None
    if not addresses:
        raise BlockedDestination(f"{parsed.host} resolves to no address")
    refused = [a for a in addresses if not address_allowed(a, policy)]
    if refused:
        raise BlockedDestination(
            f"{parsed.host} resolves to {refused[0]}, a loopback, private, link-local or "
            "metadata address"
            + ("" if policy.allow_loopback else " (only public addresses in production)")
        )
    return Destination(parsed, addresses[0])
