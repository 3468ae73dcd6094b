//! Who may open the page: anyone on loopback (only this machine's users, and whoever
//! they forward the port to), a token holder anywhere else. The page is read-only, but
//! what a cluster sounds like is still the operator's business: an address reachable
//! from the network without a token is never served.

use std::net::ToSocketAddrs;

use anyhow::{bail, Context, Result};

/// The token policy of one `--web` listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// What every request must carry; `None` on loopback without `--web-token`.
    pub token: Option<String>,
    /// The token was made up here (so it is printed in the URL for the user to open).
    pub generated: bool,
}

impl Access {
    /// The policy for `--web ADDR:PORT` and `--web-token`: a given token is always
    /// required; without one, loopback is open and any other address gets a random
    /// token.
    pub fn decide(addr: &str, given: Option<&str>) -> Result<Access> {
        if let Some(t) = given {
            if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
                bail!("--web-token: give a non-empty token without spaces");
            }
            return Ok(Access {
                token: Some(t.to_string()),
                generated: false,
            });
        }
        let resolved: Vec<_> = addr
            .to_socket_addrs()
            .with_context(|| format!("--web {addr}: not ADDR:PORT (e.g. 127.0.0.1:8080)"))?
            .collect();
        if resolved.is_empty() {
            bail!("--web {addr}: the address resolves to nothing");
        }
        if resolved.iter().all(|a| a.ip().is_loopback()) {
            return Ok(Access {
                token: None,
                generated: false,
            });
        }
        Ok(Access {
            token: Some(random_token()),
            generated: true,
        })
    }

    /// Whether a request for `url` (path and query) with these `Authorization` header
    /// values may be answered.
    pub fn allows<'a>(&self, url: &str, authorization: impl IntoIterator<Item = &'a str>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let in_query = url
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter_map(|pair| pair.strip_prefix("token="))
            .any(|t| same(&percent_decode(t), token));
        in_query
            || authorization
                .into_iter()
                .filter_map(|h| h.trim().strip_prefix("Bearer "))
                .any(|t| same(t.trim(), token))
    }
}

/// 128 random bits, in hex: enough that guessing is no attack.
pub fn random_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Compares without stopping at the first difference, so the time taken says nothing
/// about how much of a guess was right.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `%XX` and `+` as a browser encodes a query value; anything malformed is kept as is
/// (and so fails the comparison).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_needs_no_token() {
        for addr in ["127.0.0.1:0", "[::1]:8080", "127.0.0.2:9"] {
            let a = Access::decide(addr, None).unwrap();
            assert_eq!(a.token, None, "{addr}");
            assert!(a.allows("/events", []), "{addr}");
        }
    }

    #[test]
    fn any_other_address_gets_a_random_token() {
        let a = Access::decide("0.0.0.0:8080", None).unwrap();
        let b = Access::decide("192.0.2.7:8080", None).unwrap();
        for access in [&a, &b] {
            assert!(access.generated);
            let token = access.token.as_deref().unwrap();
            assert_eq!(token.len(), 32);
            assert!(token.bytes().all(|c| c.is_ascii_hexdigit()));
            assert!(!access.allows("/", []), "no token, no page");
        }
        assert_ne!(a.token, b.token, "each run its own token");
    }

    #[test]
    fn a_given_token_is_required_everywhere_even_on_loopback() {
        let a = Access::decide("127.0.0.1:0", Some("s3cret/+x")).unwrap();
        assert!(!a.generated);
        assert!(!a.allows("/", []));
        assert!(!a.allows("/?token=wrong", []));
        assert!(!a.allows("/?token=s3cre", []), "a prefix is not the token");
        assert!(a.allows("/?token=s3cret%2F%2Bx", []));
        assert!(a.allows("/events?x=1&token=s3cret/%2bx", []));
        assert!(a.allows("/state", ["Bearer s3cret/+x"]));
        assert!(!a.allows("/state", ["Bearer nope", "Basic s3cret/+x"]));
    }

    #[test]
    fn an_empty_token_or_a_bad_address_is_refused() {
        assert!(Access::decide("127.0.0.1:0", Some("")).is_err());
        assert!(Access::decide("127.0.0.1:0", Some("a b")).is_err());
        let err = Access::decide("no-port-here", None).unwrap_err();
        assert!(format!("{err:#}").contains("ADDR:PORT"), "{err:#}");
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%41+b"), "A b");
    }
}
