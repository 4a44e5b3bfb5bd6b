"""Binary codecs for ``inet`` and ``cidr``, mapped to :mod:`ipaddress` objects as asyncpg does.

Wire form: family (2 = IPv4, 3 = IPv6), prefix length, is-cidr flag,
address length, address bytes. ``inet`` decodes to ``IPv4Address`` /
``IPv6Address`` when the prefix covers the whole address and to
``IPv4Interface`` / ``IPv6Interface`` otherwise; ``cidr`` decodes to
``IPv4Network`` / ``IPv6Network``. Encoders accept those objects or ``str``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

__all__ = ["inet_encode", "inet_decode", "cidr_encode", "cidr_decode"]

_PGSQL_AF_INET = 2
_PGSQL_AF_INET6 = 3

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _pack(address: _Address, prefix: int, is_cidr: int) -> bytes:
    packed = address.packed
    family = _PGSQL_AF_INET if address.version == 4 else _PGSQL_AF_INET6
    return bytes((family, prefix, is_cidr, len(packed))) + packed


def _unpack(data: bytes) -> tuple[_Address, int]:
    family, prefix, _is_cidr, size = data[0], data[1], data[2], data[3]
    raw = data[4 : 4 + size]
    if family == _PGSQL_AF_INET and size == 4:
        return ipaddress.IPv4Address(raw), prefix
    if family == _PGSQL_AF_INET6 and size == 16:
        return ipaddress.IPv6Address(raw), prefix
    raise ValueError(f"invalid address family {family} in inet/cidr value")


def inet_encode(value: Any) -> bytes:
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return _pack(value.network_address, value.prefixlen, 0)
    if isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        return _pack(value.ip, value.network.prefixlen, 0)
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return _pack(value, value.max_prefixlen, 0)
    if isinstance(value, (str, bytes, int)):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            interface = ipaddress.ip_interface(value)
            return _pack(interface.ip, interface.network.prefixlen, 0)
        return _pack(address, address.max_prefixlen, 0)
    raise TypeError(f"expected str or an ipaddress object, got {type(value).__name__}")


def inet_decode(data: bytes) -> Any:
    address, prefix = _unpack(data)
    if prefix == address.max_prefixlen:
        return address
    return ipaddress.ip_interface((address, prefix))


def cidr_encode(value: Any) -> bytes:
    if isinstance(value, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        network = value
    elif isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        network = ipaddress.ip_network(value)
    elif isinstance(value, (ipaddress.IPv4Interface, ipaddress.IPv6Interface)):
        network = ipaddress.ip_network(value.with_prefixlen)
    elif isinstance(value, (str, bytes, int)):
        network = ipaddress.ip_network(value)
    else:
        raise TypeError(f"expected str or an ipaddress object, got {type(value).__name__}")
    return _pack(network.network_address, network.prefixlen, 1)


def cidr_decode(data: bytes) -> Any:
    address, prefix = _unpack(data)
    return ipaddress.ip_network((address, prefix))
