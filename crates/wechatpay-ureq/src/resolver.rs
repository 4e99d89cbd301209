//! Name resolution for the default agent: IP-literal hosts are answered directly.
//!
//! ureq's `DefaultResolver` resolves before every request, even on a pooled connection, and
//! with a timeout in force (this adapter always sets one) it does so on a freshly spawned
//! thread — even for `127.0.0.1`. Measured with `wechatpay order get-many`, that thread per
//! query cost about 6 % of the client's CPU. Host names still go to the default resolver.

use std::net::{IpAddr, SocketAddr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Answers IP-literal hosts itself; asks [`DefaultResolver`] for names.
#[derive(Debug, Default)]
pub(crate) struct LiteralFirstResolver {
    names: DefaultResolver,
}

/// The socket address of `uri` when its host is an IP literal.
fn literal_addr(uri: &Uri) -> Option<SocketAddr> {
    let authority = uri.authority()?;
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = host.parse().ok()?;
    let port = match authority.port_u16() {
        Some(port) => port,
        None if uri.scheme_str() == Some("https") => 443,
        None if uri.scheme_str() == Some("http") => 80,
        None => return None,
    };
    Some(SocketAddr::new(ip, port))
}

impl Resolver for LiteralFirstResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match literal_addr(uri) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.names.resolve(uri, config, timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_answered_directly() {
        let addr = |u: &str| literal_addr(&u.parse().unwrap());
        assert_eq!(addr("http://127.0.0.1:8080/v3/x"), Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(addr("https://127.0.0.1/v3/x"), Some("127.0.0.1:443".parse().unwrap()));
        assert_eq!(addr("http://[::1]:9/v3"), Some("[::1]:9".parse().unwrap()));
        assert_eq!(addr("https://api.mch.weixin.qq.com/v3/x"), None);
        assert_eq!(addr("ftp://127.0.0.1/x"), None);
    }
}
