import LVXCore
import Testing

/// The hand-written SHA-256 against FIPS 180-4's known answers and the padding boundaries.
@Suite("SHA-256") struct SHA256Tests {
    @Test(
        "FIPS 180-4 known answers and messages either side of the padding boundaries",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            // 55 bytes: the length fits the same block; 56: it needs a second one.
            (String(repeating: "a", count: 55), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
            (String(repeating: "a", count: 56), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
            (String(repeating: "a", count: 63), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
            (String(repeating: "a", count: 64), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
        ]
    )
    func knownAnswers(_ message: String, _ digest: String) {
        #expect(SHA256.hex(message) == digest)
    }

    @Test("one million 'a' (FIPS 180-4), in one update and in uneven pieces")
    func millionA() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        let bytes = [UInt8](repeating: 0x61, count: 1_000_000)
        var whole = SHA256()
        whole.update(bytes)
        #expect(whole.finalizeHex() == expected)

        var pieces = SHA256()
        var offset = 0
        var size = 1
        while offset < bytes.count {
            let end = min(offset + size, bytes.count)
            pieces.update(Array(bytes[offset..<end]))
            offset = end
            size = size % 97 + 13
        }
        #expect(pieces.finalizeHex() == expected)
    }
}
