"""Trusted reverse proxies: the client's scheme, host and address from ``Forwarded``/``X-Forwarded-*``.

Every webhook provider calls only https, so in production the gateway sits behind a
TLS-terminating proxy. The forwarded headers are believed only when the TCP peer is listed in
``LAPOR_TRUSTED_PROXIES`` (addresses or CIDRs); from anyone else they are ignored, so a client
cannot claim another address or scheme. The client address is found by walking the chain from
the right (nearest hop) past every trusted proxy: the first untrusted hop is the client.

Why not ``aiohttp-remotes``: its strict classes answer 400 to any direct peer that is not a
listed proxy (health checks and the metrics scraper connect directly) and need one trusted set
per hop; the relaxed ones trust any peer. This is the small middle we need, tested on its own.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$")
_SCHEMES = ("http", "https")


def parse_networks(spec: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks (validated by the settings already)."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip())


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not value:
        return None
    v = value.strip().strip('"')
    if v.startswith("["):  # Forwarded: for="[2001:db8::1]:4711"
        v = v[1:v.find("]")] if "]" in v else v[1:]
    elif v.count(":") == 1:  # 192.0.2.1:4711
        v = v.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(v)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        return addr.ipv4_mapped
    return addr


@dataclass(frozen=True)
class ClientView:
    scheme: str
    host: str | None
    remote: str | None


_TRUST_CACHE_MAX = 4096


class TrustedProxies:
    def __init__(self, networks: tuple[IPNetwork, ...]) -> None:
        self.networks = networks
        # peer address -> trusted: parsing an address with ``ipaddress`` costs more than the rest of
        # the check, and a gateway sees few distinct peers (proxies, keep-alive clients); bounded
        self._trusted: dict[str | None, bool] = {}

    @classmethod
    def from_spec(cls, spec: str) -> TrustedProxies:
        return cls(parse_networks(spec))

    def trusts(self, address: str | None) -> bool:
        if not self.networks:
            return False
        known = self._trusted.get(address)
        if known is not None:
            return known
        ip = _ip(address)
        trusted = ip is not None and any(ip in n for n in self.networks)
        if len(self._trusted) >= _TRUST_CACHE_MAX:
            self._trusted.clear()
        self._trusted[address] = trusted
        return trusted

    def view(self, request: web.BaseRequest) -> ClientView | None:
        """What the client sent to the outermost trusted proxy, or None when the peer is not trusted."""
        peer = request.transport.get_extra_info("peername") if request.transport else None
        peer_addr = peer[0] if isinstance(peer, tuple | list) and peer else None
        if not self.networks or not self.trusts(peer_addr):
            return None
        if "Forwarded" in request.headers:
            hops = [dict(h) for h in request.forwarded]
            fors = [h.get("for") for h in hops]
            i = self._client_index(fors)
            if i is None:
                return ClientView(request.scheme, None, None)
            hop = hops[i]
            return ClientView(_scheme(hop.get("proto")) or "http", _host(hop.get("host")), _addr(fors[i]))
        xff = _split(request.headers.get("X-Forwarded-For"))
        i = self._client_index(xff)
        protos = _split(request.headers.get("X-Forwarded-Proto"))
        hosts = _split(request.headers.get("X-Forwarded-Host"))
        scheme = _scheme(_aligned(protos, xff, i)) or ("http" if protos else request.scheme)
        return ClientView(scheme, _host(_aligned(hosts, xff, i)), _addr(xff[i]) if i is not None else None)

    def _client_index(self, chain: list[str | None]) -> int | None:
        """Right to left past trusted hops; the first untrusted (or the leftmost) hop is the client."""
        if not chain:
            return None
        for i in range(len(chain) - 1, -1, -1):
            if not self.trusts(chain[i]):
                return i
        return 0


def _split(header: str | None) -> list[str | None]:
    return [p.strip() or None for p in header.split(",")] if header else []


def _aligned(values: list[str | None], chain: list[str | None], i: int | None) -> str | None:
    """The value written by the same proxy as the client's hop when the lists line up, else the nearest."""
    if not values:
        return None
    if i is not None and len(values) == len(chain):
        return values[i]
    return values[-1]


def _scheme(v: str | None) -> str | None:
    v = (v or "").strip().lower()
    return v if v in _SCHEMES else None


def _host(v: str | None) -> str | None:
    v = (v or "").strip().strip('"')
    return v if v and _HOST.match(v) else None


def _addr(v: str | None) -> str | None:
    ip = _ip(v)
    return str(ip) if ip is not None else None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def proxy_middleware(proxies: TrustedProxies) -> Middleware:
    """Rewrite ``request.scheme/host/remote`` (so ``request.secure``, Origin checks, cookies and the
    login limiter see the client) when, and only when, the peer is a trusted proxy."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        view = proxies.view(request)
        if view is None:
            return await handler(request)
        changes: dict[str, str] = {"scheme": view.scheme}
        if view.host:
            changes["host"] = view.host
        if view.remote:
            changes["remote"] = view.remote
        return await handler(request.clone(**changes))  # type: ignore[arg-type]

    return middleware
