//! The client's address behind reverse proxies, and the address rate limits
//! count by.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// The client of a request that reached us from `peer` with these
/// `X-Forwarded-For` values (each may list several hops, oldest first).
///
/// Only proxies in `trusted` are believed: walking the hops from the
/// right (the hop nearest to us) past trusted proxies, the first address
/// that is not one is the client. Everything further left was written by
/// the client itself (nginx's `$proxy_add_x_forwarded_for` appends to what
/// the client sent), so the leftmost entry is never taken on trust. An
/// entry that does not parse ends the walk at the last trusted hop.
pub fn client_address(peer: IpAddr, forwarded: &[&str], trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&unmapped(ip)));
    if !is_trusted(peer) {
        return unmapped(peer);
    }
    let mut client = peer;
    for hop in forwarded.iter().rev().flat_map(|v| v.rsplit(',')) {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if is_trusted(ip) => client = ip,
            Ok(ip) => return unmapped(ip),
            Err(_) => break,
        }
    }
    unmapped(client)
}

/// The address a rate limit counts: IPv4 as it is, IPv6 by its /64 (one
/// home or host usually has a whole /64, so counting single addresses
/// would give it 2^64 buckets).
pub fn limit_bucket(ip: IpAddr) -> IpAddr {
    match unmapped(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// `::ffff:a.b.c.d` is the IPv4 client `a.b.c.d` (a dual-stack socket).
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// A `trusted_proxies` entry: a CIDR (`10.0.0.0/8`) or one address.
pub fn parse_proxy(entry: &str) -> Result<IpNet, String> {
    let entry = entry.trim();
    entry
        .parse::<IpNet>()
        .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("'{}' is not an address or a CIDR block such as 10.0.0.0/8", entry.chars().take(60).collect::<String>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|e| parse_proxy(e).unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let proxies = nets(&["127.0.0.1", "10.0.0.0/8"]);
        // nginx appended the client's address to what the client sent.
        assert_eq!(client_address(ip("127.0.0.1"), &["6.6.6.6, 203.0.113.7"], &proxies), ip("203.0.113.7"));
        // Two proxies in a row, and a second header.
        assert_eq!(client_address(ip("127.0.0.1"), &["1.1.1.1, 203.0.113.7", "10.1.2.3"], &proxies), ip("203.0.113.7"));
        // From an untrusted peer the header is ignored.
        assert_eq!(client_address(ip("198.51.100.9"), &["203.0.113.7"], &proxies), ip("198.51.100.9"));
        // No header: the proxy itself.
        assert_eq!(client_address(ip("127.0.0.1"), &[], &proxies), ip("127.0.0.1"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(client_address(ip("127.0.0.1"), &["junk, 10.0.0.2"], &proxies), ip("10.0.0.2"));
        // Nothing trusted (the default): always the peer.
        assert_eq!(client_address(ip("127.0.0.1"), &["203.0.113.7"], &[]), ip("127.0.0.1"));
        // A dual-stack socket's mapped address is the IPv4 client.
        assert_eq!(client_address(ip("::ffff:127.0.0.1"), &["203.0.113.7"], &proxies), ip("203.0.113.7"));
    }

    #[test]
    fn ipv6_is_limited_per_64() {
        assert_eq!(limit_bucket(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_bucket(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(limit_bucket(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_bucket(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(limit_bucket(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
        assert!(parse_proxy("10.0.0.0/33").is_err() && parse_proxy("proxy.local").is_err());
    }
}
