#pragma once
// The socket side of ftp/address.hpp: the address codecs speak HostPort, a plain value; the
// sockets speak Asio's TCP endpoint. These convert one into the other.
#include <asio/ip/tcp.hpp>

#include "ftp/address.hpp"

namespace rsexec {

using Endpoint = asio::ip::tcp::endpoint;

inline asio::ip::address to_asio(const IpAddress& address) {
    if (address.is_v4()) return asio::ip::address_v4(address.v4_bytes());
    return asio::ip::address_v6(address.v6_bytes());
}

// An IPv6 zone (scope id) has no place in what FTP sends: it is dropped.
inline IpAddress ip_address_of(const asio::ip::address& address) {
    if (address.is_v4()) return IpAddress(address.to_v4().to_bytes());
    return IpAddress(address.to_v6().to_bytes());
}

inline Endpoint to_endpoint(const HostPort& where) { return {to_asio(where.address), where.port}; }

inline HostPort host_port_of(const Endpoint& endpoint) { return {ip_address_of(endpoint.address()), endpoint.port()}; }

} // namespace rsexec
