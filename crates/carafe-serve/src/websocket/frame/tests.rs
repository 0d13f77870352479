use super::*;

/// A masked client frame.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut out = vec![first];
    match payload.len() {
        len @ 0..=125 => out.push(0x80 | len as u8),
        len @ 126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, k)| b ^ k));
    out
}

fn decode_all(decoder: &mut Decoder, bytes: &[u8]) -> Result<Vec<Message>, WebSocketError> {
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(message) = decoder.decode(&mut buf)? {
        out.push(message);
    }
    Ok(out)
}

fn one(bytes: &[u8]) -> Result<Vec<Message>, WebSocketError> {
    decode_all(&mut Decoder::new(&WebSocketConfig::default()), bytes)
}

fn protocol_error(bytes: &[u8]) -> String {
    match one(bytes) {
        Err(WebSocketError::Protocol(what)) => what,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn unmask_matches_the_bytewise_definition_at_every_length() {
    let mask = [1, 2, 3, 0xff];
    for len in 0..40 {
        let data: Vec<u8> = (0..len as u8).collect();
        let mut fast = data.clone();
        unmask(&mut fast, mask);
        let slow: Vec<u8> = data
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        assert_eq!(fast, slow, "length {len}");
    }
}

#[test]
fn lengths_of_7_16_and_64_bits_decode() {
    for len in [0, 125, 126, 65535, 65536] {
        let payload = vec![7; len];
        let messages = one(&frame(0x82, &payload)).expect("decodes");
        assert_eq!(messages, [Message::Binary(payload.into())], "length {len}");
    }
}

#[test]
fn a_frame_arriving_byte_by_byte_decodes_once_whole() {
    let bytes = frame(0x81, "héllo".as_bytes());
    let mut decoder = Decoder::new(&WebSocketConfig::default());
    let mut buf = BytesMut::new();
    for (i, byte) in bytes.iter().enumerate() {
        buf.extend_from_slice(&[*byte]);
        let got = decoder.decode(&mut buf).expect("no error");
        assert_eq!(got.is_some(), i + 1 == bytes.len(), "after byte {i}");
    }
}

#[test]
fn fragments_join_with_control_frames_in_between() {
    let mut bytes = frame(0x01, b"hel");
    bytes.extend(frame(0x89, b"p"));
    bytes.extend(frame(0x00, b"l"));
    bytes.extend(frame(0x80, b"o"));
    assert_eq!(
        one(&bytes).expect("decodes"),
        [Message::Ping("p".into()), Message::text("hello")]
    );
}

#[test]
fn utf8_cut_between_fragments_is_fine_but_invalid_utf8_fails_at_its_fragment() {
    let euro = "€".as_bytes();
    let mut bytes = frame(0x01, &euro[..1]);
    bytes.extend(frame(0x80, &euro[1..]));
    assert_eq!(one(&bytes).expect("decodes"), [Message::text("€")]);

    // The first fragment is already invalid: fail without waiting for the rest.
    let mut decoder = Decoder::new(&WebSocketConfig::default());
    let error = decode_all(&mut decoder, &frame(0x01, b"ok\xff")).expect_err("must fail");
    assert!(matches!(error, WebSocketError::InvalidUtf8));
    // A character still cut at the final frame is invalid.
    assert!(matches!(
        one(&frame(0x81, &euro[..2])),
        Err(WebSocketError::InvalidUtf8)
    ));
}

#[test]
fn each_framing_violation_is_a_protocol_error() {
    let mut unmasked = frame(0x81, b"x");
    unmasked[1] &= 0x7f;
    assert!(protocol_error(&unmasked).contains("masked"));
    assert!(protocol_error(&frame(0xa1, b"x")).contains("RSV2"));
    assert!(protocol_error(&frame(0xc1, b"x")).contains("RSV1"));
    assert!(protocol_error(&frame(0x83, b"x")).contains("reserved"));
    assert!(protocol_error(&frame(0x8b, b"x")).contains("reserved"));
    assert!(protocol_error(&frame(0x09, b"x")).contains("fragmented"));
    assert!(protocol_error(&frame(0x89, &[0; 126])).contains("125"));
    assert!(protocol_error(&frame(0x80, b"x")).contains("continue"));
    let mut twice = frame(0x01, b"a");
    twice.extend(frame(0x01, b"b"));
    assert!(protocol_error(&twice).contains("previous"));
    let mut huge = vec![0x82, 0xff];
    huge.extend_from_slice(&u64::MAX.to_be_bytes());
    huge.extend_from_slice(&[0; 4]);
    assert!(protocol_error(&huge).contains("64-bit"));
}

#[test]
fn close_frames_are_checked_for_code_and_reason() {
    assert_eq!(
        one(&frame(0x88, b"")).expect("empty"),
        [Message::Close(None)]
    );
    let mut bye = 1000u16.to_be_bytes().to_vec();
    bye.extend_from_slice(b"bye");
    assert_eq!(
        one(&frame(0x88, &bye)).expect("valid"),
        [Message::Close(Some(CloseFrame::new(1000, "bye")))]
    );
    assert!(protocol_error(&frame(0x88, b"x")).contains("1-byte"));
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        assert!(protocol_error(&frame(0x88, &code.to_be_bytes())).contains("close code"));
    }
    for code in [1001u16, 1003, 1007, 1011, 1014, 3000, 4999] {
        assert!(one(&frame(0x88, &code.to_be_bytes())).is_ok(), "{code}");
    }
    let mut bad = 1000u16.to_be_bytes().to_vec();
    bad.push(0xff);
    assert!(matches!(
        one(&frame(0x88, &bad)),
        Err(WebSocketError::InvalidUtf8)
    ));
}

#[test]
fn limits_fail_on_the_head_before_the_payload_arrives() {
    let config = WebSocketConfig::default()
        .max_message_size(10)
        .max_frame_size(8);
    let mut decoder = Decoder::new(&config);
    // Only the head of a 9-byte frame: already too big.
    let head = &frame(0x82, &[0; 9])[..6];
    assert!(matches!(
        decode_all(&mut decoder, head),
        Err(WebSocketError::MessageTooBig { size: 9, max: 8 })
    ));
    let mut decoder = Decoder::new(&config);
    let mut bytes = frame(0x02, &[0; 6]);
    bytes.extend_from_slice(&frame(0x80, &[0; 6])[..6]);
    assert!(matches!(
        decode_all(&mut decoder, &bytes),
        Err(WebSocketError::MessageTooBig { size: 12, max: 10 })
    ));
}

#[test]
fn compressed_messages_need_deflate_and_rsv1_on_the_first_frame_only() {
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let config = WebSocketConfig::default();
    let mut decoder = Decoder::with_permessage_deflate(&config);
    let mut bytes = frame(0x41, &hello[..3]);
    bytes.extend(frame(0x80, &hello[3..]));
    bytes.extend(frame(0x82, b"plain"));
    assert_eq!(
        decode_all(&mut decoder, &bytes).expect("decodes"),
        [Message::text("Hello"), Message::binary(&b"plain"[..])]
    );
    let mut decoder = Decoder::with_permessage_deflate(&config);
    let mut bytes = frame(0x41, &hello[..3]);
    bytes.extend(frame(0xc0, &hello[3..]));
    assert!(
        matches!(decode_all(&mut decoder, &bytes), Err(WebSocketError::Protocol(what)) if what.contains("continuation"))
    );
    let mut decoder = Decoder::with_permessage_deflate(&config);
    assert!(
        matches!(decode_all(&mut decoder, &frame(0xc9, b"")), Err(WebSocketError::Protocol(what)) if what.contains("control"))
    );
}

#[test]
fn a_compressed_bomb_is_refused_at_max_message_size() {
    let mut compressor = super::super::deflate::Compressor::new(&super::super::deflate::Agreed {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
    });
    let bomb = compressor.compress(&vec![b'a'; 4 << 20]).expect("compress");
    let config = WebSocketConfig::default().max_message_size(64 * 1024);
    let mut decoder = Decoder::with_permessage_deflate(&config);
    let error = decode_all(&mut decoder, &frame(0xc2, &bomb)).expect_err("must fail");
    assert!(
        matches!(error, WebSocketError::MessageTooBig { max: 65536, .. }),
        "{error:?}"
    );
}

#[test]
fn server_frame_heads_use_the_shortest_length() {
    for (len, expected) in [
        (5, vec![0x82, 5]),
        (126, vec![0x82, 126, 0, 126]),
        (70000, vec![0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]),
    ] {
        let mut out = BytesMut::new();
        encode_head(&mut out, opcode::BINARY, false, len);
        assert_eq!(&out[..], &expected[..], "length {len}");
    }
    let mut out = BytesMut::new();
    encode_head(&mut out, opcode::TEXT, true, 1);
    assert_eq!(&out[..], &[0xc1, 1]);
}
