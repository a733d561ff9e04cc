//! CRC-16/Modbus (polynomial 0xA001 reflected, initial value 0xFFFF), sent low byte first.

/// The Modbus CRC of `bytes`.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// Appends the CRC of `frame` to it, low byte first as the wire carries it.
pub fn append_crc(frame: &mut Vec<u8>) {
    let crc = crc16(frame);
    frame.extend_from_slice(&crc.to_le_bytes());
}

/// Whether the last two bytes of `frame` are the CRC of the bytes before them.
pub fn crc_ok(frame: &[u8]) -> bool {
    match frame.len().checked_sub(2) {
        Some(n) if n > 0 => crc16(&frame[..n]).to_le_bytes() == [frame[n], frame[n + 1]],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_of_the_catalogue() {
        // The check value of CRC-16/MODBUS in the CRC catalogue: crc("123456789") = 0x4B37.
        assert_eq!(crc16(b"123456789"), 0x4B37);
    }

    #[test]
    fn known_request_frame() {
        // Read holding register 1, count 1, unit 1: 01 03 00 01 00 01 D5 CA.
        let mut f = vec![0x01, 0x03, 0x00, 0x01, 0x00, 0x01];
        append_crc(&mut f);
        assert_eq!(f, [0x01, 0x03, 0x00, 0x01, 0x00, 0x01, 0xD5, 0xCA]);
        assert!(crc_ok(&f));
        f[3] ^= 1;
        assert!(!crc_ok(&f));
        assert!(!crc_ok(&[0x01]));
        assert!(!crc_ok(&[]));
    }
}
