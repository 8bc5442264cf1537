//! CRC-32 (IEEE 802.3, as zlib and Go's `crc32.ChecksumIEEE`), for the sealed format's chunks and
//! headers, gzip headers and NovusPack entries: zlib-rs's braided CRC with the `zlib-rs`
//! feature (its tables are in the module already, for inflate; one set of tables instead of
//! two keeps the wasm module small), crc32fast's otherwise. Both run at about 2 GB/s in wasm.

/// A running CRC-32.
#[derive(Clone, Debug, Default)]
pub struct Crc32 {
    #[cfg(feature = "zlib-rs")]
    value: u32,
    #[cfg(not(feature = "zlib-rs"))]
    hasher: crc32fast::Hasher,
}

impl Crc32 {
    /// A CRC of nothing yet.
    pub fn new() -> Crc32 {
        Crc32::default()
    }

    /// Adds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        #[cfg(feature = "zlib-rs")]
        {
            self.value = zlib_rs::crc32::crc32(self.value, bytes);
        }
        #[cfg(not(feature = "zlib-rs"))]
        self.hasher.update(bytes);
    }

    /// The CRC of everything added.
    pub fn finalize(&self) -> u32 {
        #[cfg(feature = "zlib-rs")]
        return self.value;
        #[cfg(not(feature = "zlib-rs"))]
        self.hasher.clone().finalize()
    }
}

/// The CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_value_and_pieces_agree() {
        // The CRC-32 check value of "123456789" (the catalogue's).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        let mut crc = Crc32::new();
        for piece in data.chunks(777) {
            crc.update(piece);
        }
        assert_eq!(crc.finalize(), crc32(&data));
        assert_eq!(crc32(&data), crc32fast::hash(&data));
    }
}
