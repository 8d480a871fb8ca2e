"""The one way any channel downloads media named in a payload: allowlisted hosts, https, capped.

A URL in a webhook payload is attacker-controlled (a citizen-chosen link, a Messenger fallback,
a crafted event), so fetching it naively is server-side request forgery: the gateway would read
internal services (Redis admin ports, cloud metadata, the admin dashboard) and store the answer.
Every fetch here therefore:

- accepts only ``https`` on port 443 to a host of the provider's media allowlist (exact names or
  ``*.suffix`` wildcards), with no userinfo in the URL;
- follows redirects itself, at most ``max_redirects``, each hop checked against the same policy;
- connects only to public addresses: the resolver refuses a name that resolves to a private,
  loopback, link-local or otherwise non-global address (no DNS-rebinding window: the checked
  addresses are the ones connected to), and IP-literal hosts are checked the same way;
- caps the size by ``Content-Length`` and by the bytes actually read, refuses compressed
  responses (``Accept-Encoding: identity``, no inflation bombs) and bounds the whole fetch in time.

The one relaxation is the provider API origin the operator configured (``LAPOR_META_GRAPH_URL``,
``LAPOR_TELEGRAM_API_URL``): its exact scheme, host and port count as allowed, even on a private
address, because the operator chose it (a local Telegram Bot API server, the fake providers of
the tests). The production defaults are the providers' public hosts, which keep every check.
Error messages name the host at most, never the URL (Telegram file URLs carry the bot token).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

# Where Meta serves media (Messenger/Instagram attachments, feed photos, IG media_url, WhatsApp
# media downloads): the Facebook and Instagram CDNs and the lookaside proxy that redirects to them.
META_MEDIA_HOSTS: tuple[str, ...] = (
    "fbcdn.net", "*.fbcdn.net",
    "cdninstagram.com", "*.cdninstagram.com",
    "lookaside.fbsbx.com", "lookaside.facebook.com",
    "graph.facebook.com",
)
# Telegram serves file bytes only under /file/bot<token>/ of the Bot API host.
TELEGRAM_MEDIA_HOSTS: tuple[str, ...] = ("api.telegram.org",)
TELEGRAM_FILE_PREFIX = "/file/bot"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 65536


class MediaError(Exception):
    """A media fetch that did not produce bytes; ``str()`` is safe to log and store."""


class MediaRefused(MediaError):
    """The URL (or a redirect) is outside the policy: nothing was requested from it."""


class MediaTooLarge(MediaError):
    """Declared or actual size over the cap; reading stopped at the cap."""


class MediaFetchFailed(MediaError):
    """Network error, timeout, or a non-200 answer."""


@dataclass(frozen=True)
class Origin:
    """An exact scheme://host:port the operator configured (trusted even on a private address)."""

    scheme: str
    host: str
    port: int
    path_prefix: str = "/"

    @classmethod
    def of(cls, base_url: str, path_prefix: str = "/") -> Origin | None:
        url = URL(base_url)
        if not url.is_absolute() or url.host is None or url.port is None:
            return None
        return cls(url.scheme, url.host.lower(), url.port, path_prefix)


@dataclass(frozen=True)
class MediaPolicy:
    """What one provider's media fetches may reach."""

    hosts: tuple[str, ...]
    max_bytes: int
    path_prefix: str = "/"
    origins: tuple[Origin, ...] = ()
    max_redirects: int = 3
    timeout_s: float = 30.0
    connect_timeout_s: float = 10.0

    def trusted_origin(self, url: URL) -> bool:
        host = (url.host or "").lower()
        return any(o.scheme == url.scheme and o.host == host and o.port == url.port
                   and url.path.startswith(o.path_prefix) for o in self.origins)

    def check(self, url: URL) -> None:
        """Raise ``MediaRefused`` unless ``url`` may be requested under this policy."""
        if not url.is_absolute() or not url.host:
            raise MediaRefused("not an absolute URL")
        if url.user is not None or url.password is not None:
            raise MediaRefused("credentials in the URL")
        if self.trusted_origin(url):
            return
        host = url.host.lower()
        if url.scheme != "https":
            raise MediaRefused(f"scheme {url.scheme!r} is not https")
        if url.port != 443:
            raise MediaRefused(f"port {url.port} on {host}")
        if not any(_host_matches(host, pattern) for pattern in self.hosts):
            raise MediaRefused(f"host {host} is not a media host of this provider")
        if not url.path.startswith(self.path_prefix):
            raise MediaRefused(f"path outside {self.path_prefix} on {host}")
        literal = _ip_literal(host)
        if literal is not None and not _public(literal):
            raise MediaRefused(f"address {host} is not public")

    def private_ok(self) -> frozenset[str]:
        """Configured origins that may sit on a private address: never a provider's public host."""
        return frozenset(o.host for o in self.origins
                         if not any(_host_matches(o.host, pattern) for pattern in self.hosts))


@dataclass
class Media:
    data: bytes
    mime: str | None
    hops: list[str] = field(default_factory=list)  # hosts visited, for diagnostics


def meta_policy(graph_url: str, max_bytes: int) -> MediaPolicy:
    """Meta's CDNs, plus the configured Graph API origin."""
    origin = Origin.of(graph_url)
    return MediaPolicy(hosts=META_MEDIA_HOSTS, max_bytes=max_bytes, origins=(origin,) if origin else ())


def telegram_policy(api_url: str, max_bytes: int) -> MediaPolicy:
    """Files of the Bot API only: ``<root>/file/bot…`` on api.telegram.org or the configured root."""
    root = URL(api_url.rstrip("/"))
    origin = Origin.of(api_url, path_prefix=root.path.rstrip("/") + TELEGRAM_FILE_PREFIX)
    return MediaPolicy(hosts=TELEGRAM_MEDIA_HOSTS, max_bytes=max_bytes, path_prefix=TELEGRAM_FILE_PREFIX,
                       origins=(origin,) if origin else ())


async def fetch_media(url: str, policy: MediaPolicy, *, headers: Mapping[str, str] | None = None) -> Media:
    """Download ``url`` under ``policy``; raise a ``MediaError`` subclass otherwise.

    ``headers`` (e.g. the bearer token WhatsApp media downloads need) go only to hops on the
    first URL's host, never to a host a redirect names.
    """
    try:
        target = URL(url, encoded=False)
    except (ValueError, TypeError):
        raise MediaRefused("unparsable URL") from None
    timeout = aiohttp.ClientTimeout(total=policy.timeout_s, sock_connect=policy.connect_timeout_s)
    connector = aiohttp.TCPConnector(resolver=PublicResolver(policy.private_ok()), use_dns_cache=False,
                                     limit=2)
    try:
        async with (
            aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                  auto_decompress=False) as session,
            asyncio.timeout(policy.timeout_s),
        ):
            return await _follow(session, target, policy, dict(headers or {}))
    except MediaError:
        raise
    except TimeoutError:
        raise MediaFetchFailed("timed out") from None
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise MediaFetchFailed(f"{type(exc).__name__}") from None


async def _follow(session: aiohttp.ClientSession, url: URL, policy: MediaPolicy,
                  headers: dict[str, str] | None = None) -> Media:
    hops: list[str] = []
    first_host = url.host
    for _ in range(policy.max_redirects + 1):
        policy.check(url)
        hops.append(url.host or "")
        sent = {**(headers or {}), "Accept-Encoding": "identity"} if url.host == first_host else {
            "Accept-Encoding": "identity"}
        async with session.get(url, allow_redirects=False, headers=sent) as resp:
            if resp.status in _REDIRECTS:
                location = resp.headers.get("Location")
                if not location:
                    raise MediaFetchFailed(f"HTTP {resp.status} without Location")
                url = url.join(URL(location))
                continue
            if resp.status != 200:
                raise MediaFetchFailed(f"HTTP {resp.status} from {url.host}")
            encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise MediaRefused(f"compressed response ({encoding}) from {url.host}")
            data = await _read_capped(resp, policy.max_bytes)
            mime = resp.content_type if resp.content_type != "application/octet-stream" else None
            return Media(data=data, mime=mime, hops=hops)
    raise MediaRefused(f"more than {policy.max_redirects} redirects")


async def _read_capped(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise MediaTooLarge(f"{resp.content_length} bytes declared, cap {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await resp.content.read(_CHUNK)  # at most _CHUNK bytes past the cap are ever held
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise MediaTooLarge(f"over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _host_matches(host: str, pattern: str) -> bool:
    pattern = pattern.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return _public(mapped)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


class PublicResolver(AbstractResolver):
    """Resolve with the default resolver, refuse names with any non-public address.

    The addresses checked are the addresses aiohttp connects to, so a name cannot pass the check
    and then rebind to an internal address. ``private_ok`` lists configured origins exempted.
    """

    def __init__(self, private_ok: frozenset[str] = frozenset()) -> None:
        self._inner = DefaultResolver()
        self._private_ok = private_ok

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if host.lower() in self._private_ok:
            return results
        for res in results:
            ip = _ip_literal(str(res["host"]))
            if ip is None or not _public(ip):
                raise MediaRefused(f"{host} resolves to a non-public address")
        return results

    async def close(self) -> None:
        await self._inner.close()

