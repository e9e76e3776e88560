//! `core_level`: which client core a request or session comes from.
//!
//! Every HTTP request and the WebSocket upgrade carry `platform`, `app_version` and
//! `core_level` headers; where headers cannot be set they ride at the end of `User-Agent`.
//! Precedence: login `extra` > headers > User-Agent > unknown (level 0, text only).

use std::{fmt, str::FromStr, sync::OnceLock};

use regex::Regex;

use crate::payload::LoginExtra;

/// Header names.
pub const HEADER_PLATFORM: &str = "platform";
pub const HEADER_APP_VERSION: &str = "app_version";
pub const HEADER_CORE_LEVEL: &str = "core_level";

/// The client platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Platform {
    Ios,
    Android,
    Mac,
    Win,
    Linux,
    Web,
    #[default]
    Unknown,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ios => "ios",
            Self::Android => "android",
            Self::Mac => "mac",
            Self::Win => "win",
            Self::Linux => "linux",
            Self::Web => "web",
            Self::Unknown => "unknown",
        }
    }

    /// The platform this binary was compiled for.
    pub fn current() -> Self {
        match std::env::consts::OS {
            "linux" => Self::Linux,
            "macos" => Self::Mac,
            "windows" => Self::Win,
            "ios" => Self::Ios,
            "android" => Self::Android,
            _ => Self::Unknown,
        }
    }
}

impl FromStr for Platform {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "ios" => Self::Ios,
            "android" => Self::Android,
            "mac" => Self::Mac,
            "win" => Self::Win,
            "linux" => Self::Linux,
            "web" => Self::Web,
            _ => return Err(()),
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a client says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientVersion {
    pub platform: Platform,
    pub app_version: String,
    /// Release date of the client core as `yyMMdd`; 0 = unknown.
    pub core_level: u32,
}

impl ClientVersion {
    /// A client that said nothing: treated as level 0 (text only).
    pub fn unknown() -> Self {
        Self::default()
    }

    /// From the three header values (any may be missing). `None` unless core_level parses.
    pub fn from_headers(
        platform: Option<&str>,
        app_version: Option<&str>,
        core_level: Option<&str>,
    ) -> Option<Self> {
        let core_level = parse_level(core_level?.trim())?;
        Some(Self {
            platform: platform
                .and_then(|p| p.trim().parse().ok())
                .unwrap_or_default(),
            app_version: app_version
                .map(str::trim)
                .filter(|v| is_semver(v))
                .unwrap_or_default()
                .to_owned(),
            core_level,
        })
    }

    /// From the `… platform/linux app_version/0.1.0 core_level/261124` tail of a User-Agent.
    pub fn from_user_agent(ua: &str) -> Option<Self> {
        static RE: OnceLock<Regex> = OnceLock::new();
        let re = RE.get_or_init(|| {
            Regex::new(
                r" platform/(ios|android|mac|win|linux|web) app_version/([0-9]+\.[0-9]+\.[0-9]+) core_level/([1-9][0-9]+)( |$)",
            )
            .expect("static regex")
        });
        let caps = re.captures(ua)?;
        Some(Self {
            platform: caps[1].parse().unwrap_or_default(),
            app_version: caps[2].to_owned(),
            core_level: parse_level(&caps[3])?,
        })
    }

    /// From the login packet's `extra` JSON text.
    pub fn from_login_extra(extra: &str) -> Option<Self> {
        let extra: LoginExtra = serde_json::from_str(extra).ok()?;
        Some(Self {
            platform: extra.platform.parse().unwrap_or_default(),
            app_version: extra.app_version,
            core_level: extra.core_level,
        })
    }

    /// Applies the precedence login extra > headers > User-Agent > unknown.
    pub fn resolve(
        login_extra: Option<&str>,
        headers: Option<ClientVersion>,
        user_agent: Option<&str>,
    ) -> Self {
        login_extra
            .and_then(Self::from_login_extra)
            .or(headers)
            .or_else(|| user_agent.and_then(Self::from_user_agent))
            .unwrap_or_default()
    }

    /// The User-Agent suffix that carries this version.
    pub fn user_agent_suffix(&self) -> String {
        format!(
            "platform/{} app_version/{} core_level/{}",
            self.platform, self.app_version, self.core_level
        )
    }

    /// Whether this client understands features introduced at `level`.
    pub fn supports(&self, level: u32) -> bool {
        self.core_level >= level
    }
}

fn parse_level(s: &str) -> Option<u32> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_semver(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_tail_is_parsed() {
        let ua = "Mozilla/5.0 (X11; Linux x86_64) Hongyan platform/linux app_version/0.1.0 core_level/261124";
        let v = ClientVersion::from_user_agent(ua).expect("matches");
        assert_eq!(v.platform, Platform::Linux);
        assert_eq!(v.app_version, "0.1.0");
        assert_eq!(v.core_level, 261_124);
    }

    #[test]
    fn user_agent_needs_the_exact_shape() {
        for ua in [
            "platform/linux app_version/0.1.0 core_level/261124", // no leading space
            "x platform/beos app_version/0.1.0 core_level/261124",
            "x platform/linux app_version/0.1 core_level/261124",
            "x platform/linux app_version/0.1.0 core_level/061124",
            "x platform/linux app_version/0.1.0 core_level/261124x",
            "Mozilla/5.0",
        ] {
            assert_eq!(ClientVersion::from_user_agent(ua), None, "{ua}");
        }
        let mid = "x platform/web app_version/1.2.3 core_level/99 trailing";
        assert_eq!(
            ClientVersion::from_user_agent(mid).map(|v| v.core_level),
            Some(99)
        );
    }

    #[test]
    fn headers_need_a_valid_level() {
        let v = ClientVersion::from_headers(Some("android"), Some("2.0.1"), Some("261201"))
            .expect("valid");
        assert_eq!((v.platform, v.core_level), (Platform::Android, 261_201));
        assert_eq!(ClientVersion::from_headers(Some("linux"), None, None), None);
        assert_eq!(ClientVersion::from_headers(None, None, Some("abc")), None);
        assert_eq!(ClientVersion::from_headers(None, None, Some("-5")), None);
        let odd = ClientVersion::from_headers(Some("?"), Some("x"), Some("7")).expect("level ok");
        assert_eq!(
            (odd.platform, odd.app_version.as_str()),
            (Platform::Unknown, "")
        );
    }

    #[test]
    fn precedence_is_extra_then_headers_then_user_agent() {
        let extra =
            r#"{"platform":"linux","app_version":"0.3.0","core_level":261130,"device":"d"}"#;
        let headers = ClientVersion::from_headers(Some("web"), Some("0.2.0"), Some("261125"));
        let ua = "UA platform/mac app_version/0.1.0 core_level/261120";
        assert_eq!(
            ClientVersion::resolve(Some(extra), headers.clone(), Some(ua)).core_level,
            261_130
        );
        assert_eq!(
            ClientVersion::resolve(Some("not json"), headers.clone(), Some(ua)).core_level,
            261_125
        );
        assert_eq!(
            ClientVersion::resolve(None, None, Some(ua)).core_level,
            261_120
        );
        assert_eq!(
            ClientVersion::resolve(None, None, None),
            ClientVersion::unknown()
        );
    }

    #[test]
    fn suffix_round_trips_through_the_regex() {
        let v = ClientVersion {
            platform: Platform::Win,
            app_version: "1.0.0".into(),
            core_level: 261_124,
        };
        let ua = format!("Hongyan {}", v.user_agent_suffix());
        assert_eq!(ClientVersion::from_user_agent(&ua), Some(v.clone()));
        assert!(v.supports(261_124) && !v.supports(261_201));
    }
}
