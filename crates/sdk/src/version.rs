//! What this SDK says about itself: `core_level`, platform, app version and the
//! headers / User-Agent every request carries (see PROTOCOL.md, "core_level").

use hongyan_protocol::version::{HEADER_APP_VERSION, HEADER_CORE_LEVEL, HEADER_PLATFORM};
use hongyan_protocol::{ClientVersion, Platform};

/// Release date of this client core as `yyMMdd`; larger = newer. Set in the workspace
/// `Cargo.toml` (`[workspace.metadata.hongyan] core-level`, read by build.rs). 261201
/// (issue 7): this core shows images and stickers, so it announces
/// `kinds::STICKER_CORE_LEVEL` and receives stickers as themselves, not as text fallbacks.
pub const CORE_LEVEL: u32 = match u32::from_str_radix(env!("HONGYAN_CORE_LEVEL"), 10) {
    Ok(level) => level,
    Err(_) => panic!("HONGYAN_CORE_LEVEL is not a number"),
};

/// The SDK crate version, used as the default `app_version`.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The app version sent when the app does not set one.
pub const DEFAULT_APP_VERSION: &str = SDK_VERSION;

/// The platform this binary runs on.
pub fn default_platform() -> Platform {
    Platform::current()
}

/// The version facts for an app at `app_version` on this platform.
pub fn client_version(app_version: &str) -> ClientVersion {
    ClientVersion {
        platform: default_platform(),
        app_version: app_version.to_owned(),
        core_level: CORE_LEVEL,
    }
}

/// The User-Agent: `Hongyan/<sdk version> platform/… app_version/… core_level/…`.
pub fn user_agent(version: &ClientVersion) -> String {
    format!("Hongyan/{SDK_VERSION} {}", version.user_agent_suffix())
}

/// The three version headers every HTTP request and the WebSocket upgrade carry.
pub fn headers(version: &ClientVersion) -> [(&'static str, String); 3] {
    [
        (HEADER_PLATFORM, version.platform.as_str().to_owned()),
        (HEADER_APP_VERSION, version.app_version.clone()),
        (HEADER_CORE_LEVEL, version.core_level.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_user_agent_carry_the_same_facts() {
        let v = client_version("1.2.3");
        let h = headers(&v);
        assert_eq!(h[0].0, "platform");
        assert_eq!(h[0].1, v.platform.as_str());
        assert_eq!(h[1], ("app_version", "1.2.3".to_owned()));
        assert_eq!(h[2], ("core_level", CORE_LEVEL.to_string()));
        let ua = user_agent(&v);
        assert!(ua.ends_with(&v.user_agent_suffix()), "{ua}");
        if v.platform != Platform::Unknown {
            let parsed = ClientVersion::from_user_agent(&ua).expect("server can parse it");
            assert_eq!(parsed, v);
        }
        for (name, value) in h {
            reqwest::header::HeaderName::from_static(name);
            reqwest::header::HeaderValue::from_str(&value).expect("valid header value");
        }
    }

    #[test]
    fn core_level_is_a_date() {
        assert!((200_101..=991_231).contains(&CORE_LEVEL));
        const { assert!(CORE_LEVEL >= hongyan_protocol::kinds::STICKER_CORE_LEVEL) };
    }
}
