//! The envelope every long-connection frame carries: MobileIMSDK v6's `Protocal`.

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::codes;
use crate::payload::{ErrorResponse, KickoutInfo, LoginInfo, LoginResponse};
use crate::SERVER_ID;

/// Largest envelope body accepted from a peer, in bytes (MobileIMSDK's limit).
pub const MAX_BODY: usize = 6144;

/// Packet types (`type`). Some codes travel in both directions (2 and 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i32", into = "i32")]
pub enum PacketType {
    /// Client → server: log in with a token.
    Login,
    /// Client → server: heartbeat.
    Keepalive,
    /// Both ways: application data (chat messages).
    CommonData,
    /// Client → server: log out and close.
    Logout,
    /// Both ways: acknowledges the `fp` in `dataContent`.
    Ack,
    /// Client → server: echo request.
    Echo,
    /// Server → client: answer to [`PacketType::Login`].
    LoginResp,
    /// Server → client: answer to [`PacketType::Keepalive`].
    KeepaliveResp,
    /// Server → client: an error with a code.
    Error,
    /// Server → client: answer to [`PacketType::Echo`].
    EchoResp,
    /// Server → client: this session was ended by another login or an admin.
    Kickout,
}

impl PacketType {
    /// The wire code.
    pub const fn code(self) -> i32 {
        match self {
            Self::Login => 0,
            Self::Keepalive => 1,
            Self::CommonData => 2,
            Self::Logout => 3,
            Self::Ack => 4,
            Self::Echo => 5,
            Self::LoginResp => 50,
            Self::KeepaliveResp => 51,
            Self::Error => 52,
            Self::EchoResp => 53,
            Self::Kickout => 54,
        }
    }
}

impl TryFrom<i32> for PacketType {
    type Error = String;

    fn try_from(code: i32) -> Result<Self, String> {
        Ok(match code {
            0 => Self::Login,
            1 => Self::Keepalive,
            2 => Self::CommonData,
            3 => Self::Logout,
            4 => Self::Ack,
            5 => Self::Echo,
            50 => Self::LoginResp,
            51 => Self::KeepaliveResp,
            52 => Self::Error,
            53 => Self::EchoResp,
            54 => Self::Kickout,
            other => return Err(format!("unknown packet type {other}")),
        })
    }
}

impl From<PacketType> for i32 {
    fn from(t: PacketType) -> i32 {
        t.code()
    }
}

/// Why a frame could not be turned into an [`Envelope`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The body is longer than [`MAX_BODY`].
    #[error("frame body of {0} bytes exceeds the {MAX_BODY}-byte limit")]
    TooLarge(usize),
    /// Not JSON, not an envelope, an unknown type, or a required field is missing.
    #[error("malformed envelope: {0}")]
    Malformed(String),
}

impl DecodeError {
    /// The error-packet code the server answers with (1103 or 1104).
    pub fn code(&self) -> i32 {
        match self {
            Self::TooLarge(_) => codes::ERR_FRAME_TOO_LARGE,
            Self::Malformed(_) => codes::ERR_MALFORMED,
        }
    }
}

/// One long-connection frame. Field names and defaults follow MobileIMSDK v6, whose Gson
/// encoder leaves out null fields, so every optional field has a default on decode.
/// Hongyan always writes every field and adds `seq` where it means something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Cross-server bridge flag; `false` from clients.
    #[serde(default)]
    pub bridge: bool,
    /// Packet type.
    #[serde(rename = "type")]
    pub packet_type: PacketType,
    /// Payload: a JSON document as a string for login/keepalive/error/kickout packets,
    /// the acknowledged `fp` for ACKs, the message body for chat.
    #[serde(rename = "dataContent", default)]
    pub data_content: Option<String>,
    /// Sender user id (`"0"` = server).
    pub from: String,
    /// Receiver: user id, `"0"` = server, `"g<digits>"` = group.
    pub to: String,
    /// Fingerprint = message id; required when `qos` is set.
    #[serde(default)]
    pub fp: Option<String>,
    /// The sender wants an ACK and resends until it gets one.
    #[serde(rename = "QoS", default)]
    pub qos: bool,
    /// Application message kind (see [`crate::kinds`]); `-1` = unset.
    #[serde(default = "minus_one_i32")]
    pub typeu: i32,
    /// Server time in ms when the server accepted the message; `-1` from clients.
    #[serde(default = "minus_one_i64")]
    pub sm: i64,
    /// Hongyan: position in the receiver's mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

fn minus_one_i32() -> i32 {
    -1
}

fn minus_one_i64() -> i64 {
    -1
}

impl Envelope {
    /// A bare envelope of `packet_type` with every optional field at its default.
    pub fn new(packet_type: PacketType, from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            bridge: false,
            packet_type,
            data_content: None,
            from: from.into(),
            to: to.into(),
            fp: None,
            qos: false,
            typeu: -1,
            sm: -1,
            seq: None,
        }
    }

    fn with_json<T: Serialize>(mut self, payload: &T) -> Self {
        // Serializing these plain structs cannot fail.
        self.data_content = serde_json::to_string(payload).ok();
        self
    }

    /// Type 0: log in as `info.login_user_id`.
    pub fn login(info: &LoginInfo) -> Self {
        Self::new(PacketType::Login, info.login_user_id.clone(), SERVER_ID).with_json(info)
    }

    /// Type 50: the server's answer to a login.
    pub fn login_response(to: impl Into<String>, resp: &LoginResponse) -> Self {
        Self::new(PacketType::LoginResp, SERVER_ID, to).with_json(resp)
    }

    /// Type 1: client heartbeat.
    pub fn keepalive(from: impl Into<String>) -> Self {
        let mut e = Self::new(PacketType::Keepalive, from, SERVER_ID);
        e.data_content = Some("{}".into());
        e
    }

    /// Type 51: server heartbeat answer.
    pub fn keepalive_response(to: impl Into<String>) -> Self {
        let mut e = Self::new(PacketType::KeepaliveResp, SERVER_ID, to);
        e.data_content = Some("{}".into());
        e
    }

    /// Type 2 with QoS: a chat message from `from` to `to`, identified by `fp`.
    pub fn chat(
        from: impl Into<String>,
        to: impl Into<String>,
        fp: impl Into<String>,
        typeu: i32,
        content: impl Into<String>,
    ) -> Self {
        let mut e = Self::new(PacketType::CommonData, from, to);
        e.fp = Some(fp.into());
        e.qos = true;
        e.typeu = typeu;
        e.data_content = Some(content.into());
        e
    }

    /// Type 4: acknowledges `fp`.
    pub fn ack(from: impl Into<String>, to: impl Into<String>, fp: impl Into<String>) -> Self {
        let mut e = Self::new(PacketType::Ack, from, to);
        e.data_content = Some(fp.into());
        e
    }

    /// Type 52: an error for `to`.
    pub fn error(to: impl Into<String>, err: &ErrorResponse) -> Self {
        Self::new(PacketType::Error, SERVER_ID, to).with_json(err)
    }

    /// Type 54: ends `to`'s session.
    pub fn kickout(to: impl Into<String>, info: &KickoutInfo) -> Self {
        Self::new(PacketType::Kickout, SERVER_ID, to).with_json(info)
    }

    /// Type 3: the client logs out.
    pub fn logout(from: impl Into<String>) -> Self {
        Self::new(PacketType::Logout, from, SERVER_ID)
    }

    /// Decodes one frame body, enforcing [`MAX_BODY`] and the QoS ⇒ fp rule.
    pub fn decode(body: &[u8]) -> Result<Self, DecodeError> {
        if body.len() > MAX_BODY {
            return Err(DecodeError::TooLarge(body.len()));
        }
        Self::decode_unbounded(body)
    }

    /// Decodes a frame body of any size (for bodies the server produced itself, e.g. sync).
    pub fn decode_unbounded(body: &[u8]) -> Result<Self, DecodeError> {
        let env: Envelope =
            serde_json::from_slice(body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
        if env.qos && env.fp.as_deref().is_none_or(str::is_empty) {
            return Err(DecodeError::Malformed(
                "QoS is set but fp is missing".into(),
            ));
        }
        Ok(env)
    }

    /// Encodes to the JSON text that goes on the wire.
    pub fn encode(&self) -> String {
        // An Envelope holds only strings, numbers and bools: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses `dataContent` as the JSON payload `T` (login, login response, error, kickout).
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        let text = self
            .data_content
            .as_deref()
            .ok_or_else(|| DecodeError::Malformed("dataContent is missing".into()))?;
        serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))
    }

    /// Whether the receiver is a group (`"g<digits>"`).
    pub fn is_to_group(&self) -> bool {
        is_group_id(&self.to)
    }
}

/// Whether `id` names a group: `g` followed by one or more ASCII digits.
pub fn is_group_id(id: &str) -> bool {
    id.strip_prefix('g')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds;

    /// A login frame exactly as MobileIMSDK v6's Java client writes it (Gson, nulls omitted).
    const STOCK_LOGIN: &str = r#"{"bridge":false,"type":0,"dataContent":"{\"loginUserId\":\"400069\",\"loginToken\":\"abc\",\"firstLoginTime\":1700000000000}","from":"400069","to":"0","QoS":false,"typeu":-1,"sm":-1}"#;

    /// A chat frame from a stock v6 client.
    const STOCK_CHAT: &str = r#"{"bridge":false,"type":2,"dataContent":"你好 hello","from":"400069","to":"400070","fp":"3c3e8e1a-7b2f-4d0e-9b67-9a1b2c3d4e5f","QoS":true,"typeu":-1,"sm":-1}"#;

    #[test]
    fn decodes_a_stock_login_frame() {
        let env = Envelope::decode(STOCK_LOGIN.as_bytes()).expect("decodes");
        assert_eq!(env.packet_type, PacketType::Login);
        assert_eq!(env.fp, None);
        assert_eq!(env.seq, None);
        let info: LoginInfo = env.payload().expect("login payload");
        assert_eq!(info.login_user_id, "400069");
        assert_eq!(info.login_token, "abc");
        assert_eq!(info.extra, None);
        assert_eq!(info.first_login_time, 1_700_000_000_000);
    }

    #[test]
    fn stock_chat_round_trips_field_for_field() {
        let env = Envelope::decode(STOCK_CHAT.as_bytes()).expect("decodes");
        assert_eq!(env.packet_type, PacketType::CommonData);
        assert!(env.qos);
        assert_eq!(env.data_content.as_deref(), Some("你好 hello"));
        let again: serde_json::Value = serde_json::from_str(&env.encode()).expect("json");
        let stock: serde_json::Value = serde_json::from_str(STOCK_CHAT).expect("json");
        assert_eq!(
            again, stock,
            "a stock frame must re-encode to the same JSON"
        );
    }

    #[test]
    fn hongyan_writes_every_field_and_seq_only_when_set() {
        let mut env = Envelope::chat("1", "2", "fp-1", kinds::TEXT, "hi");
        let v: serde_json::Value = serde_json::from_str(&env.encode()).expect("json");
        for key in [
            "bridge",
            "type",
            "dataContent",
            "from",
            "to",
            "fp",
            "QoS",
            "typeu",
            "sm",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert!(v.get("seq").is_none());
        env.seq = Some(7);
        env.sm = 42;
        let back = Envelope::decode(env.encode().as_bytes()).expect("decodes");
        assert_eq!(back, env);
    }

    #[test]
    fn ack_carries_the_fp_as_data_content() {
        let env = Envelope::ack("2", "1", "fp-9");
        assert_eq!(env.packet_type.code(), 4);
        assert_eq!(env.data_content.as_deref(), Some("fp-9"));
        assert!(!env.qos);
    }

    #[test]
    fn rejects_oversized_bodies_with_1103() {
        let body = vec![b' '; MAX_BODY + 1];
        let err = Envelope::decode(&body).expect_err("too large");
        assert_eq!(err, DecodeError::TooLarge(MAX_BODY + 1));
        assert_eq!(err.code(), codes::ERR_FRAME_TOO_LARGE);
    }

    #[test]
    fn rejects_malformed_input_with_1104() {
        for bad in [
            &b"not json"[..],
            br#"{"type":99,"from":"1","to":"0"}"#,
            br#"{"type":2,"to":"0"}"#,
            br#"{"type":2,"from":"1","to":"2","QoS":true}"#,
            br#"{"type":"2","from":"1","to":"2"}"#,
            br#"[]"#,
            b"",
        ] {
            let err = Envelope::decode(bad).expect_err("malformed");
            assert_eq!(
                err.code(),
                codes::ERR_MALFORMED,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn unknown_fields_are_ignored_like_stock_clients_do() {
        let json = r#"{"type":1,"from":"5","to":"0","dataContent":"{}","retryCount":3,"x":{}}"#;
        let env = Envelope::decode(json.as_bytes()).expect("decodes");
        assert_eq!(env.packet_type, PacketType::Keepalive);
        assert_eq!(env.typeu, -1);
        assert_eq!(env.sm, -1);
    }

    #[test]
    fn group_ids_are_g_and_digits() {
        assert!(is_group_id("g1") && is_group_id("g12345"));
        assert!(!is_group_id("g") && !is_group_id("12") && !is_group_id("gx1"));
    }
}
