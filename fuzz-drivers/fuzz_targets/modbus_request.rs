//! Fuzzes the Modbus RTU request decoder (the device side): for any bytes it never panics, and
//! every request it accepts encodes back to exactly the bytes it consumed.
#![no_main]

use athanor_drivers::modbus::{decode_request, Decoded};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match decode_request(data) {
        Ok(Decoded::Complete { frame: (unit, request), consumed }) => {
            assert!(consumed <= data.len());
            let again = request.encode(unit).expect("an accepted request encodes");
            assert_eq!(again, &data[..consumed]);
        }
        Ok(Decoded::Incomplete { needed }) => assert!(needed > data.len()),
        Err(_) => {}
    }
});
