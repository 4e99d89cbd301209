//! IP-literal hosts answered directly: ureq's `DefaultResolver` resolves before every
//! request on a freshly spawned thread whenever a timeout is set (this adapter always sets
//! one), even for `127.0.0.1` — about 6 % of get-many's CPU. Names go to the default resolver.

use std::net::{IpAddr, SocketAddr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::{
    resolver::DefaultResolver, resolver::ResolvedSocketAddrs, resolver::Resolver, transport::NextTimeout,
};

/// Answers IP-literal hosts itself; asks [`DefaultResolver`] for names.
#[derive(Debug, Default)]
pub(crate) struct LiteralFirstResolver {
    names: DefaultResolver,
}

/// The socket address of `uri` when its host is an IP literal.
fn literal_addr(uri: &Uri) -> Option<SocketAddr> {
    let authority = uri.authority()?;
    let ip: IpAddr = authority.host().trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    let default_port = match uri.scheme_str()? {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    Some(SocketAddr::new(ip, authority.port_u16().unwrap_or(default_port)))
}

impl Resolver for LiteralFirstResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some(addr) = literal_addr(uri) else {
            // The lookup's own `io::Error` (getaddrinfo's) is a name that did not resolve.
            return self.names.resolve(uri, config, timeout).map_err(|e| match e {
                ureq::Error::Io(_) => ureq::Error::HostNotFound,
                other => other,
            });
        };
        let mut addrs = self.empty();
        addrs.push(addr);
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_answered_directly() {
        let addr = |u: &str| literal_addr(&u.parse().unwrap()).map(|a| a.to_string());
        assert_eq!(addr("http://127.0.0.1:8080/v3/x").as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(addr("https://127.0.0.1/v3/x").as_deref(), Some("127.0.0.1:443"));
        assert_eq!(addr("http://[::1]:9/v3").as_deref(), Some("[::1]:9"));
        assert_eq!((addr("https://api.mch.weixin.qq.com/v3/x"), addr("ftp://127.0.0.1/x")), (None, None));
    }
}
