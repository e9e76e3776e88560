//! Feeds arbitrary bytes through the TCP frame codec and the envelope decoder, exactly as the
//! server's TCP gateway does, plus every typed payload parser. Nothing may panic, and memory
//! stays bounded by the frame limit.
#![no_main]

use bytes::BytesMut;
use hongyan_protocol::{
    ClientVersion, Envelope, ErrorResponse, FrameCodec, KickoutInfo, LoginInfo, LoginResponse,
};
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    // 1. The raw bytes as one WebSocket text/binary message body.
    decode_body(data);

    // 2. The raw bytes as a TCP stream, delivered in two reads split at an arbitrary point.
    let split = data.first().map_or(0, |b| *b as usize % (data.len() + 1));
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    for chunk in [&data[..split], &data[split..]] {
        buf.extend_from_slice(chunk);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(body)) => decode_body(&body),
                Ok(None) => break,
                Err(_) => return, // the gateway closes the connection here
            }
        }
        assert!(buf.capacity() <= 4 + hongyan_protocol::MAX_BODY + data.len());
    }
});

fn decode_body(body: &[u8]) {
    let Ok(env) = Envelope::decode(body) else {
        return;
    };
    // Re-encoding a decoded envelope must decode to the same value.
    let again = Envelope::decode_unbounded(env.encode().as_bytes()).expect("re-encode decodes");
    assert_eq!(again, env);
    let _ = env.payload::<LoginInfo>();
    let _ = env.payload::<LoginResponse>();
    let _ = env.payload::<ErrorResponse>();
    let _ = env.payload::<KickoutInfo>();
    if let Some(text) = env.data_content.as_deref() {
        let _ = ClientVersion::from_login_extra(text);
        let _ = ClientVersion::from_user_agent(text);
    }
}
