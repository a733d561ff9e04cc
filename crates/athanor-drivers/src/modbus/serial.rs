//! Opening a real serial port (tokio-serial) with the settings from an instrument's config.

use tokio_serial::{
    DataBits, Parity as SerialParity, SerialPortBuilderExt, SerialStream, StopBits,
};

use crate::instrument::{Parity, SerialSettings};

/// Opens the port named in `settings` with its baud rate, parity, data and stop bits.
pub fn open(settings: &SerialSettings) -> Result<SerialStream, tokio_serial::Error> {
    let parity = match settings.parity {
        Parity::None => SerialParity::None,
        Parity::Even => SerialParity::Even,
        Parity::Odd => SerialParity::Odd,
    };
    let data_bits = if settings.data_bits == 7 {
        DataBits::Seven
    } else {
        DataBits::Eight
    };
    let stop_bits = if settings.stop_bits == 2 {
        StopBits::Two
    } else {
        StopBits::One
    };
    tokio_serial::new(&settings.port, settings.baud)
        .parity(parity)
        .data_bits(data_bits)
        .stop_bits(stop_bits)
        .open_native_async()
}
