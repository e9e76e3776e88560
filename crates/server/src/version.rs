//! Reading a client's [`ClientVersion`] off an HTTP request (headers, else User-Agent tail).

use std::convert::Infallible;

use axum::{extract::FromRequestParts, http::request::Parts};
use hongyan_protocol::{
    version::{HEADER_APP_VERSION, HEADER_CORE_LEVEL, HEADER_PLATFORM},
    ClientVersion,
};

/// The client version a request declares, if any (headers win over the User-Agent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo(pub Option<ClientVersion>);

impl ClientInfo {
    /// Parses `platform`/`app_version`/`core_level` headers or the User-Agent tail.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Self {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let version = ClientVersion::from_headers(
            get(HEADER_PLATFORM),
            get(HEADER_APP_VERSION),
            get(HEADER_CORE_LEVEL),
        )
        .or_else(|| get("user-agent").and_then(ClientVersion::from_user_agent));
        Self(version)
    }

    /// The level to serve this request at (0 = unknown: text only).
    pub fn core_level(&self) -> u32 {
        self.0.as_ref().map_or(0, |v| v.core_level)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let info = Self::from_headers(&parts.headers);
        if let Some(v) = &info.0 {
            tracing::debug!(
                platform = %v.platform,
                app_version = %v.app_version,
                core_level = v.core_level,
                "client version"
            );
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn headers_then_user_agent() {
        let mut h = HeaderMap::new();
        h.insert(
            "user-agent",
            "X platform/mac app_version/0.1.0 core_level/261120"
                .parse()
                .expect("v"),
        );
        assert_eq!(ClientInfo::from_headers(&h).core_level(), 261_120);
        h.insert("core_level", "261124".parse().expect("v"));
        h.insert("platform", "linux".parse().expect("v"));
        assert_eq!(ClientInfo::from_headers(&h).core_level(), 261_124);
        assert_eq!(
            ClientInfo::from_headers(&HeaderMap::new()),
            ClientInfo(None)
        );
    }
}
