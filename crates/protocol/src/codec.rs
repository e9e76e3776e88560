//! TCP framing: a 4-byte big-endian body length, then the UTF-8 JSON envelope.
//!
//! The codec only cuts frames; turning a body into an [`Envelope`] is a separate step so a
//! malformed body (1104) does not break framing, while an oversized length (1103) does:
//! after it the stream position is unknown and the connection must close.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::envelope::{Envelope, MAX_BODY};

const HEADER_LEN: usize = 4;

/// Why framing failed.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The length prefix announces a body larger than the codec's limit.
    #[error("frame body of {0} bytes exceeds the limit")]
    TooLarge(usize),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Length-prefixed frame codec. Decodes bodies as [`Bytes`]; encodes [`Envelope`]s.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max_body: usize,
}

impl FrameCodec {
    /// A codec that accepts bodies up to `max_body` bytes.
    pub fn new(max_body: usize) -> Self {
        Self { max_body }
    }
}

impl Default for FrameCodec {
    /// The MobileIMSDK limit, [`MAX_BODY`].
    fn default() -> Self {
        Self::new(MAX_BODY)
    }
}

impl Decoder for FrameCodec {
    type Item = Bytes;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, FrameError> {
        if src.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if len > self.max_body {
            return Err(FrameError::TooLarge(len));
        }
        if src.len() < HEADER_LEN + len {
            src.reserve(HEADER_LEN + len - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        Ok(Some(src.split_to(len).freeze()))
    }
}

impl Encoder<&Envelope> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, env: &Envelope, dst: &mut BytesMut) -> Result<(), FrameError> {
        let body = env.encode();
        self.encode(Bytes::from(body), dst)
    }
}

impl Encoder<Bytes> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, body: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLarge(body.len()))?;
        dst.reserve(HEADER_LEN + body.len());
        dst.put_u32(len);
        dst.extend_from_slice(&body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PacketType;

    fn frame(body: &[u8]) -> BytesMut {
        let mut b = BytesMut::new();
        b.put_u32(body.len() as u32);
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn encode_then_decode_round_trips() {
        let env = Envelope::chat("1", "2", "fp", 1, "héllo 你好");
        let mut buf = BytesMut::new();
        FrameCodec::default()
            .encode(&env, &mut buf)
            .expect("encode");
        let body = FrameCodec::default()
            .decode(&mut buf)
            .expect("ok")
            .expect("frame");
        assert_eq!(Envelope::decode(&body).expect("env"), env);
        assert!(buf.is_empty());
    }

    #[test]
    fn waits_for_partial_frames_byte_by_byte() {
        let whole = frame(br#"{"type":1,"from":"1","to":"0"}"#);
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::new();
        for (i, byte) in whole.iter().enumerate() {
            buf.put_u8(*byte);
            let got = codec.decode(&mut buf).expect("no error");
            assert_eq!(got.is_some(), i == whole.len() - 1);
            if let Some(body) = got {
                let env = Envelope::decode(&body).expect("env");
                assert_eq!(env.packet_type, PacketType::Keepalive);
            }
        }
    }

    #[test]
    fn two_frames_in_one_read() {
        let mut buf = frame(b"{}");
        buf.extend_from_slice(&frame(b"[1]"));
        let mut codec = FrameCodec::default();
        assert_eq!(&codec.decode(&mut buf).expect("ok").expect("1")[..], b"{}");
        assert_eq!(&codec.decode(&mut buf).expect("ok").expect("2")[..], b"[1]");
        assert!(codec.decode(&mut buf).expect("ok").is_none());
    }

    #[test]
    fn oversized_length_is_an_error_before_reading_the_body() {
        let mut buf = BytesMut::new();
        buf.put_u32((MAX_BODY + 1) as u32);
        match FrameCodec::default().decode(&mut buf) {
            Err(FrameError::TooLarge(n)) => assert_eq!(n, MAX_BODY + 1),
            other => panic!("expected TooLarge, got {other:?}"),
        }
        let mut exact = frame(&vec![b'x'; MAX_BODY]);
        assert!(FrameCodec::default()
            .decode(&mut exact)
            .expect("ok")
            .is_some());
    }
}
