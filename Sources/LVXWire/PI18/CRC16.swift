/// CRC-16/XMODEM as PI18 uses it: polynomial 0x1021, initial value 0, no reflection, no final XOR.
public enum PI18CRC {
    /// The plain CRC-16/XMODEM of `bytes` (check value for ASCII `123456789` is 0x31C3).
    public static func xmodem<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }

    /// The two CRC bytes sent on the wire, high byte first, after the PI18 fix-up.
    ///
    /// A byte equal to `(` (0x28), CR (0x0D) or LF (0x0A) is sent as that value plus one, so a CR
    /// never appears inside a frame. (Some libraries also bump 0x00; the PDF does not, and
    /// ``matches(_:over:)`` accepts either.)
    public static func wireBytes<C: Collection>(_ bytes: C) -> (UInt8, UInt8) where C.Element == UInt8 {
        let crc = xmodem(bytes)
        return (fixUp(UInt8(crc >> 8)), fixUp(UInt8(crc & 0xFF)))
    }

    /// Whether `sent` is the wire CRC of `bytes`, with or without the 0x00 -> 0x01 variant.
    public static func matches<C: Collection>(_ sent: (UInt8, UInt8), over bytes: C) -> Bool
    where C.Element == UInt8 {
        let (high, low) = wireBytes(bytes)
        func same(_ got: UInt8, _ want: UInt8) -> Bool { got == want || (want == 0 && got == 1) }
        return same(sent.0, high) && same(sent.1, low)
    }

    private static func fixUp(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x28, 0x0D, 0x0A: byte &+ 1
        default: byte
        }
    }
}
