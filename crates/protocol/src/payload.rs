//! Typed payloads that ride as JSON text in `dataContent`.

use serde::{Deserialize, Serialize};

use crate::version::ClientVersion;

/// Type 0 payload (MobileIMSDK `PLoginInfo`). Its `Debug` never prints the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginInfo {
    #[serde(rename = "loginUserId")]
    pub login_user_id: String,
    #[serde(rename = "loginToken", default)]
    pub login_token: String,
    /// Free-form text; Hongyan puts a JSON [`LoginExtra`] here.
    #[serde(default)]
    pub extra: Option<String>,
    /// Time of this app run's first login; reused by automatic re-logins.
    #[serde(rename = "firstLoginTime", default)]
    pub first_login_time: i64,
}

impl std::fmt::Debug for LoginInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginInfo")
            .field("login_user_id", &self.login_user_id)
            .field("login_token", &"<redacted>")
            .field("extra", &self.extra)
            .field("first_login_time", &self.first_login_time)
            .finish()
    }
}

/// Hongyan's `extra` in [`LoginInfo`]: who is logging in with which client core.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginExtra {
    pub platform: String,
    pub app_version: String,
    pub core_level: u32,
    #[serde(default)]
    pub device: String,
}

impl LoginExtra {
    /// The extra a client with `version` on `device` sends.
    pub fn new(version: &ClientVersion, device: impl Into<String>) -> Self {
        Self {
            platform: version.platform.as_str().to_owned(),
            app_version: version.app_version.clone(),
            core_level: version.core_level,
            device: device.into(),
        }
    }
}

/// Type 50 payload (MobileIMSDK `PLoginInfoResponse` plus Hongyan fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub code: i32,
    #[serde(rename = "firstLoginTime", default)]
    pub first_login_time: i64,
    /// Hongyan: newest seq in the user's mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    /// Hongyan: the server's core_level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_level: Option<u32>,
    /// Hongyan: a human-readable reason when `code != 0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
}

/// Type 52 payload (MobileIMSDK `PErrorResponse` plus the rejected message's fp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(rename = "errorCode")]
    pub error_code: i32,
    #[serde(rename = "errorMsg", default)]
    pub error_msg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp: Option<String>,
}

impl ErrorResponse {
    pub fn new(code: i32, msg: impl Into<String>, fp: Option<String>) -> Self {
        Self {
            error_code: code,
            error_msg: msg.into(),
            fp,
        }
    }
}

/// Type 54 payload (MobileIMSDK `PKickoutInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KickoutInfo {
    pub code: i32,
    #[serde(default)]
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_info_debug_holds_no_token() {
        let info = LoginInfo {
            login_user_id: "10001".into(),
            login_token: "tok-5be2".into(),
            extra: None,
            first_login_time: 1,
        };
        let text = format!("{info:?}");
        assert!(
            text.contains("10001") && !text.contains("tok-5be2"),
            "{text}"
        );
    }

    #[test]
    fn login_response_matches_the_stock_shape() {
        let resp = LoginResponse {
            code: 0,
            first_login_time: 5,
            seq: None,
            core_level: None,
            msg: None,
        };
        assert_eq!(
            serde_json::to_string(&resp).expect("json"),
            r#"{"code":0,"firstLoginTime":5}"#
        );
    }

    #[test]
    fn error_response_round_trips_with_fp() {
        let err = ErrorResponse::new(1105, "from mismatch", Some("f".into()));
        let text = serde_json::to_string(&err).expect("json");
        assert_eq!(
            text,
            r#"{"errorCode":1105,"errorMsg":"from mismatch","fp":"f"}"#
        );
        assert_eq!(
            serde_json::from_str::<ErrorResponse>(&text).expect("back"),
            err
        );
    }

    #[test]
    fn stock_error_without_fp_decodes() {
        let err: ErrorResponse =
            serde_json::from_str(r#"{"errorCode":301,"errorMsg":"not logged in"}"#).expect("ok");
        assert_eq!(err.fp, None);
    }

    #[test]
    fn kickout_round_trips() {
        let k = KickoutInfo {
            code: 1,
            reason: "logged in elsewhere".into(),
        };
        let text = serde_json::to_string(&k).expect("json");
        assert_eq!(serde_json::from_str::<KickoutInfo>(&text).expect("back"), k);
    }
}
