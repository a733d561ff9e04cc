//! The Modbus RTU codec against frames recorded from pymodbus 3.11.4's RTU framer (an
//! independent implementation), and against damaged input: CRC errors, partial frames, garbage,
//! exception responses.

// Test helpers outside #[test] functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used)]

use athanor_drivers::modbus::{
    decode_request, decode_response, encode_response, Decoded, ExceptionCode, FrameError, Request,
    Response,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// Recorded with pymodbus.framer.FramerRTU.buildFrame (pymodbus 3.11.4), unit 1.
const REQ_READ_8002_2: &str = "0103800200024c0b";
const RESP_READ_20_0: &str = "01030441a00000ee2d";
const REQ_WRITE_MULTI_8004: &str = "011080040002044454a000beba";
const RESP_WRITE_MULTI_8004: &str = "01108004000229c9";
const REQ_WRITE_23_1: &str = "010600170001f80e";
const REQ_READ_INPUT_1_1: &str = "010400010001600a";
const RESP_READ_INPUT_200: &str = "01040200c8b8a6";
const EXC_READ_ILLEGAL_ADDRESS: &str = "018302c0f1";
const EXC_WRITE_BUSY: &str = "018606c262";

#[test]
fn requests_encode_as_pymodbus_frames_them() {
    let cases = [
        (
            Request::ReadHolding {
                address: 0x8002,
                count: 2,
            },
            REQ_READ_8002_2,
        ),
        (
            Request::WriteMultiple {
                address: 0x8004,
                values: vec![0x4454, 0xA000],
            },
            REQ_WRITE_MULTI_8004,
        ),
        (
            Request::WriteSingle {
                address: 23,
                value: 1,
            },
            REQ_WRITE_23_1,
        ),
        (
            Request::ReadInput {
                address: 1,
                count: 1,
            },
            REQ_READ_INPUT_1_1,
        ),
    ];
    for (req, frame) in cases {
        assert_eq!(req.encode(1).unwrap(), hex(frame), "{req:?}");
        let Ok(Decoded::Complete {
            frame: (unit, back),
            consumed,
        }) = decode_request(&hex(frame))
        else {
            panic!("{frame}")
        };
        assert_eq!((unit, back, consumed), (1, req, frame.len() / 2));
    }
}

#[test]
fn recorded_responses_decode() {
    let read = Request::ReadHolding {
        address: 0x8002,
        count: 2,
    };
    assert_eq!(
        decode_response(1, &read, &hex(RESP_READ_20_0)),
        Ok(Decoded::Complete {
            frame: Response::Registers(vec![0x41A0, 0]),
            consumed: 9
        })
    );
    let write = Request::WriteMultiple {
        address: 0x8004,
        values: vec![0x4454, 0xA000],
    };
    assert_eq!(
        decode_response(1, &write, &hex(RESP_WRITE_MULTI_8004)),
        Ok(Decoded::Complete {
            frame: Response::WroteMultiple {
                address: 0x8004,
                count: 2
            },
            consumed: 8
        })
    );
    let single = Request::WriteSingle {
        address: 23,
        value: 1,
    };
    // A write-single answer echoes the request.
    assert_eq!(
        decode_response(1, &single, &hex(REQ_WRITE_23_1)),
        Ok(Decoded::Complete {
            frame: Response::WroteSingle {
                address: 23,
                value: 1
            },
            consumed: 8
        })
    );
    let input = Request::ReadInput {
        address: 1,
        count: 1,
    };
    assert_eq!(
        decode_response(1, &input, &hex(RESP_READ_INPUT_200)),
        Ok(Decoded::Complete {
            frame: Response::Registers(vec![200]),
            consumed: 7
        })
    );
    // Our encoder produces the same bytes.
    assert_eq!(
        encode_response(1, 3, &Response::Registers(vec![0x41A0, 0])).unwrap(),
        hex(RESP_READ_20_0)
    );
}

#[test]
fn exception_responses() {
    let read = Request::ReadHolding {
        address: 999,
        count: 1,
    };
    assert_eq!(
        decode_response(1, &read, &hex(EXC_READ_ILLEGAL_ADDRESS)),
        Ok(Decoded::Complete {
            frame: Response::Exception {
                function: 3,
                code: ExceptionCode::IllegalDataAddress
            },
            consumed: 5
        })
    );
    let single = Request::WriteSingle {
        address: 23,
        value: 1,
    };
    let Ok(Decoded::Complete {
        frame: Response::Exception { code, .. },
        ..
    }) = decode_response(1, &single, &hex(EXC_WRITE_BUSY))
    else {
        panic!()
    };
    assert_eq!(code, ExceptionCode::ServerDeviceBusy);
    assert!(code.is_transient());
    assert_eq!(
        encode_response(
            1,
            3,
            &Response::Exception {
                function: 3,
                code: ExceptionCode::IllegalDataAddress
            }
        )
        .unwrap(),
        hex(EXC_READ_ILLEGAL_ADDRESS)
    );
}

#[test]
fn partial_frames_ask_for_more() {
    let read = Request::ReadHolding {
        address: 0x8002,
        count: 2,
    };
    let full = hex(RESP_READ_20_0);
    for cut in 0..full.len() {
        match decode_response(1, &read, &full[..cut]) {
            Ok(Decoded::Incomplete { needed }) => assert!(
                needed > cut && needed <= full.len(),
                "cut {cut}: needed {needed}"
            ),
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    let req = hex(REQ_WRITE_MULTI_8004);
    for cut in 0..req.len() {
        assert!(
            matches!(decode_request(&req[..cut]), Ok(Decoded::Incomplete { .. })),
            "cut {cut}"
        );
    }
}

#[test]
fn crc_errors_are_typed() {
    let read = Request::ReadHolding {
        address: 0x8002,
        count: 2,
    };
    let mut bad = hex(RESP_READ_20_0);
    bad[4] ^= 0x01; // one bit flipped in the data
    assert!(matches!(
        decode_response(1, &read, &bad),
        Err(FrameError::Crc { .. })
    ));
    let mut bad = hex(EXC_READ_ILLEGAL_ADDRESS);
    bad[4] ^= 0xFF;
    assert!(matches!(
        decode_response(1, &read, &bad),
        Err(FrameError::Crc { .. })
    ));
    let mut bad = hex(REQ_WRITE_23_1);
    bad[7] ^= 0x10;
    assert!(matches!(decode_request(&bad), Err(FrameError::Crc { .. })));
}

#[test]
fn garbage_and_mismatches_are_refused() {
    let read = Request::ReadHolding {
        address: 0x8002,
        count: 2,
    };
    // Noise before a frame: another function code.
    let mut noisy = vec![0x00, 0xFF];
    noisy.extend(hex(RESP_READ_20_0));
    assert!(matches!(
        decode_response(1, &read, &noisy),
        Err(FrameError::UnexpectedFunction { .. })
    ));
    // Answer with a byte count that does not match the request (1 register instead of 2).
    assert_eq!(
        decode_response(
            1,
            &read,
            &hex(RESP_READ_INPUT_200)
                .iter()
                .map(|b| if *b == 4 { 3 } else { *b })
                .collect::<Vec<_>>()
        ),
        Err(FrameError::ByteCount {
            expected: 4,
            found: 2
        })
    );
    // Another unit's answer, CRC intact.
    let other = encode_response(2, 3, &Response::Registers(vec![0x41A0, 0])).unwrap();
    assert_eq!(
        decode_response(1, &read, &other),
        Err(FrameError::UnexpectedUnit {
            expected: 1,
            found: 2
        })
    );
    // A write echo that differs from the request.
    let single = Request::WriteSingle {
        address: 23,
        value: 2,
    };
    assert_eq!(
        decode_response(1, &single, &hex(REQ_WRITE_23_1)),
        Err(FrameError::EchoMismatch)
    );
    // Unknown function on the device side.
    assert_eq!(
        decode_request(&[1, 0x2B, 0, 0]),
        Err(FrameError::UnsupportedFunction(0x2B))
    );
    // Requests the protocol does not allow are refused before encoding.
    assert!(Request::ReadHolding {
        address: 0,
        count: 126
    }
    .encode(1)
    .is_err());
    assert!(Request::ReadHolding {
        address: 0xFFFF,
        count: 2
    }
    .encode(1)
    .is_err());
    assert!(Request::WriteMultiple {
        address: 0,
        values: vec![]
    }
    .encode(1)
    .is_err());
}

#[test]
fn a_write_multiple_whose_quantity_contradicts_its_byte_count_is_refused() {
    // Found by the modbus_request fuzz target: quantity 0xFFFF with byte count 2 and a valid CRC
    // overflowed the expected byte count (2 · quantity) instead of being refused.
    let mut frame = vec![0x01, 0x10, 0x00, 0x00, 0xFF, 0xFF, 0x02, 0x00, 0x00];
    athanor_drivers::modbus::crc::append_crc(&mut frame);
    assert_eq!(
        decode_request(&frame),
        Err(FrameError::ByteCount {
            expected: 255,
            found: 2
        })
    );
    let artifact = [0x01u8, 0x10, 0xFF, 0xFF, 0xFF, 0xFF];
    assert!(matches!(
        decode_request(&artifact),
        Ok(Decoded::Incomplete { .. })
    ));
}

#[test]
fn no_answer_is_decoded_for_a_request_the_protocol_does_not_allow() {
    // 129 registers: 2 · 129 = 258 would wrap a one-byte count to 2.
    let read = Request::ReadHolding {
        address: 0,
        count: 129,
    };
    let mut frame = vec![0x01, 0x03, 0x02, 0x00, 0x00];
    athanor_drivers::modbus::crc::append_crc(&mut frame);
    assert!(matches!(
        decode_response(1, &read, &frame),
        Err(FrameError::InvalidRequest(_))
    ));
}
