/// Splits the bytes a client sends into request frames, as the inverter's UART/USB firmware would.
///
/// A frame runs to its CR. 0x00 bytes before a frame starts are discarded: they are the padding of a
/// hidraw client's last 8-byte report (a 0x00 inside a frame, such as a CRC byte in the PDF's
/// convention, is kept). A run of more than ``limit`` bytes without a CR is cut off and handed on as
/// one (unparseable) frame, so junk cannot grow the buffer without bound.
struct FrameBuffer {
    private var pending: [UInt8] = []
    /// The longest frame kept before it is cut off.
    let limit: Int

    init(limit: Int = 1024) { self.limit = limit }

    /// Adds bytes and returns every frame they complete.
    mutating func append(_ bytes: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        for byte in bytes {
            if pending.isEmpty && byte == 0x00 { continue }
            pending.append(byte)
            if byte == 0x0D || pending.count >= limit {
                frames.append(pending)
                pending.removeAll(keepingCapacity: true)
            }
        }
        return frames
    }

    /// Whether a partial frame is waiting for its CR.
    var hasPartialFrame: Bool { !pending.isEmpty }
}
