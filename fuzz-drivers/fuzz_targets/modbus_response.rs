//! Fuzzes the Modbus RTU response decoder: for any bytes and any request it answers, decoding
//! never panics, never claims more bytes than it was given, and every frame it accepts encodes
//! back to exactly the bytes it consumed.
#![no_main]

use athanor_drivers::modbus::{decode_response, encode_response, Decoded, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let unit = data[0];
    let address = u16::from_be_bytes([data[1], data[2]]);
    let n = u16::from(data[3] % 130);
    let request = match data[3] >> 6 {
        0 => Request::ReadHolding { address, count: n },
        1 => Request::ReadInput { address, count: n },
        2 => Request::WriteSingle { address, value: n },
        _ => Request::WriteMultiple { address, values: vec![0; usize::from(n)] },
    };
    let bytes = &data[4..];
    if let Ok(Decoded::Complete { frame, consumed }) = decode_response(unit, &request, bytes) {
        assert!(consumed <= bytes.len());
        let again = encode_response(unit, request.function(), &frame).expect("an accepted frame encodes");
        assert_eq!(again, &bytes[..consumed]);
    }
    if let Ok(Decoded::Incomplete { needed }) = decode_response(unit, &request, bytes) {
        assert!(needed > bytes.len());
    }
});
