import LVXCore
import LVXWire

/// What one request frame produced: the bytes to send back and the log line to append.
public struct SimulatedExchange: Sendable, Hashable {
    /// The chunks to send, in order: garbage first when injected, then the reply.
    ///
    /// Empty when the reply was dropped or the unit hangs.
    public var output: [[UInt8]]
    /// The request log entry (its sequence number and wire time are filled in).
    public var entry: RequestLogEntry
    /// The serials of the units whose state changed (the receiver, and a routed setter's target).
    public var changed: [SerialNumber]
    /// Whether the receiving unit is unplugged now (`unplug-after`): its endpoint must go away.
    public var unplugs = false
}

/// Every simulated unit of one simulator, with the stack-wide rules and the request handling.
///
/// Pure: no I/O. Units that share a ``SimulatedInverter/stack`` name form a parallel stack:
/// `MCHGC`, `MUCHGC` and `PCP` carry a parallel digit `m` and write the member whose parallel index
/// is `m` (refused when there is none); a member whose twelve settings differ from its master's
/// reports fault 86, unless a fault is set or injected.
public struct SimulatedSite: Sendable, Hashable {
    /// The units, in the order given.
    public private(set) var units: [SimulatedInverter]

    /// A site of `units`.
    ///
    /// - Throws: ``SimulatorError`` when two units share a serial, or two members of a stack share a parallel index.
    public init(units: [SimulatedInverter]) throws(SimulatorError) {
        var serials: Set<SerialNumber> = []
        var slots: Set<String> = []
        for unit in units {
            guard serials.insert(unit.serial).inserted else {
                throw SimulatorError("serial \(unit.serial) is given twice; every unit needs its own serial")
            }
            guard slots.insert("\(unit.stack)#\(unit.parallelIndex)").inserted else {
                throw SimulatorError(
                    "stack '\(unit.stack)' has two units with parallel index \(unit.parallelIndex); give each its own index"
                )
            }
            guard (0...9).contains(unit.parallelIndex) else {
                throw SimulatorError("unit \(unit.serial): parallel index \(unit.parallelIndex) is not 0...9")
            }
        }
        self.units = units
    }

    init(uncheckedUnits units: [SimulatedInverter]) { self.units = units }

    /// The unit with `serial`.
    public subscript(serial: SerialNumber) -> SimulatedInverter? {
        units.first { $0.serial == serial }
    }

    /// Changes the unit with `serial` (no-op when there is none).
    public mutating func update(_ serial: SerialNumber, _ body: (inout SimulatedInverter) -> Void) {
        guard let i = units.firstIndex(where: { $0.serial == serial }) else { return }
        body(&units[i])
    }

    /// The members of `stack`, ordered by parallel index.
    public func members(of stack: String) -> [SimulatedInverter] {
        units.filter { $0.stack == stack }.sorted { $0.parallelIndex < $1.parallelIndex }
    }

    /// The fault code `FWS` reports for `unit`: an injected fault, else the unit's own, else 86 when it
    /// is a stack member (index != 0) whose settings differ from its master's, else `00`.
    public func reportedFault(of unit: SimulatedInverter) -> String {
        if let injected = unit.faults.fault { return injected }
        if unit.fault != "00" { return unit.fault }
        if unit.parallelIndex != 0,
            let master = units.first(where: { $0.stack == unit.stack && $0.parallelIndex == 0 }),
            master.settings != unit.settings
        {
            return "86"
        }
        return "00"
    }

    /// Handles one request frame received by the unit with `serial`, updating the site's state.
    ///
    /// - Parameters:
    ///   - frame: the request bytes ending in CR, leading 0x00 padding removed.
    ///   - serial: the receiving unit.
    ///   - baud: the simulated line speed; each exchange takes (request + reply bytes) x 10 / baud
    ///     seconds (0: instant).
    /// - Returns: what to send and log; `nil` when no unit has `serial`.
    public mutating func handle(frame: [UInt8], at serial: SerialNumber, baud: Int) -> SimulatedExchange? {
        guard let r = units.firstIndex(where: { $0.serial == serial }) else { return nil }
        units[r].requestCount += 1
        let sequence = units[r].requestCount
        var changed: Set<SerialNumber> = [serial]

        let parsed = PI18IncomingRequest.parse(frame)
        var kind: RequestLogEntry.Kind
        var payload: String
        switch parsed {
        case .success(let request):
            kind = request.kind == .query ? .query : .setter
            payload = RequestLogEntry.loggable(request.payload)
        case .failure:
            kind = .unparseable
            payload = RequestLogEntry.hex(frame)
        }

        var output: [[UInt8]] = []
        var replyKind: RequestLogEntry.Reply
        var notes: [String] = []

        if units[r].faults.unplugAfter == 0 {
            replyKind = .unplugged
        } else if units[r].faults.isHung {
            replyKind = .hang
        } else {
            if let remaining = units[r].faults.hangAfter { units[r].faults.hangAfter = remaining - 1 }
            if let remaining = units[r].faults.unplugAfter { units[r].faults.unplugAfter = remaining - 1 }
            var reply: [UInt8]
            switch parsed {
            case .success(let request):
                if !request.hadCRC {
                    notes.append("no-crc")
                } else if Self.usesNulBump(frame) {
                    notes.append("crc-00-sent-as-01")
                }
                if request.kind == .query {
                    if let data = units[r].queryPayload(request.payload, fault: reportedFault(of: units[r])) {
                        reply = PI18Reply.encodeData(data)
                        replyKind = .data
                    } else {
                        reply = PI18Reply.refusedFrame
                        replyKind = .nak
                        notes.append("unknown-query")
                    }
                } else {
                    let outcome = applySetter(request.payload, receiver: r)
                    reply = outcome.accepted ? PI18Reply.acceptedFrame : PI18Reply.refusedFrame
                    replyKind = outcome.accepted ? .ack : .nak
                    notes += outcome.notes
                    if let target = outcome.changed { changed.insert(target) }
                }
            case .failure(let error):
                reply = PI18Reply.refusedFrame
                replyKind = .nak
                notes.append(Self.describe(error))
            }
            if units[r].faults.dropReplies > 0 {
                units[r].faults.dropReplies -= 1
                replyKind = .dropped
            } else {
                if units[r].faults.garbageReplies > 0 {
                    units[r].faults.garbageReplies -= 1
                    output.append(Self.garbage(seed: serial.digits, sequence: sequence))
                    notes.append("garbage")
                }
                if units[r].faults.corruptReplies > 0 {
                    units[r].faults.corruptReplies -= 1
                    reply = Self.corruptCRC(reply)
                    notes.append("was-\(replyKind.rawValue)")
                    replyKind = .corrupt
                }
                output.append(reply)
            }
        }

        let bytesOnWire = frame.count + output.reduce(0) { $0 + $1.count }
        let wire = baud > 0 ? Double(bytesOnWire * 10) / Double(baud) : 0
        units[r].wireSeconds += wire
        let entry = RequestLogEntry(
            sequence: sequence,
            kind: kind,
            payload: payload,
            reply: replyKind,
            wireSeconds: wire,
            note: notes.isEmpty ? nil : notes.joined(separator: ",")
        )
        var exchange = SimulatedExchange(output: output, entry: entry, changed: changed.sorted())
        exchange.unplugs = replyKind == .unplugged
        return exchange
    }

    /// The result of one setter: whether it is acknowledged, why, and which unit changed.
    struct SetterOutcome {
        var accepted: Bool
        var notes: [String]
        var changed: SerialNumber?
    }

    /// Validates and applies a setter received by `units[r]` (see the type's rules).
    mutating func applySetter(_ payload: String, receiver r: Int) -> SetterOutcome {
        let setter = SimulatedSetter(payload: payload)
        let receiver = units[r]
        var t = r
        var notes: [String] = []
        if let m = setter.parallelIndex {
            guard let target = units.firstIndex(where: { $0.stack == receiver.stack && $0.parallelIndex == m }) else {
                return SetterOutcome(accepted: false, notes: ["no-unit-at-index-\(m)"], changed: nil)
            }
            t = target
            if t != r { notes.append("routed:\(units[t].serial)") }
        }
        let keys = setter.changes.keys
        let refused = keys.filter {
            units[r].faults.refusedKeys.contains($0) || units[t].faults.refusedKeys.contains($0)
        }
        if !refused.isEmpty {
            return SetterOutcome(accepted: false, notes: notes + ["injected-refuse"], changed: nil)
        }
        if let problem = setter.refusal(by: units[t]) {
            return SetterOutcome(accepted: false, notes: notes + [problem], changed: nil)
        }
        if setter.needsUserBatteryType, units[t].value(.batteryType) != 2 {
            return SetterOutcome(accepted: true, notes: notes + ["not-honoured:battery_type"], changed: nil)
        }
        var changedAny = false
        for (key, value) in setter.changes.entries {
            if units[r].faults.ignoredKeys.contains(key) || units[t].faults.ignoredKeys.contains(key) {
                notes.append("ignored:\(key.rawValue)")
                continue
            }
            if units[t].settings[key] != value { changedAny = true }
            units[t].settings[key] = value
        }
        return SetterOutcome(accepted: true, notes: notes, changed: changedAny ? units[t].serial : nil)
    }

    /// Junk sent before a reply: 6-12 random non-CR, non-NUL bytes, then a stray junk frame ending in CR.
    ///
    /// Deterministic for a given unit and sequence number.
    static func garbage(seed: String, sequence: Int) -> [UInt8] {
        var state = UInt64(truncatingIfNeeded: sequence) &* 0x9E37_79B9_7F4A_7C15
        for b in seed.utf8 { state = (state ^ UInt64(b)) &* 0x1000_0000_01B3 }
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var out: [UInt8] = []
        let count = 6 + Int(next() % 7)
        while out.count < count {
            let b = UInt8(truncatingIfNeeded: next())
            if b != 0x0D && b != 0x00 { out.append(b) }
        }
        out += Array("^D0".utf8)
        for _ in 0..<4 { out.append(0x41 + UInt8(next() % 26)) }
        out.append(0x0D)
        return out
    }

    /// The reply with its low CRC byte changed so the CRC no longer matches (never into a CR).
    static func corruptCRC(_ reply: [UInt8]) -> [UInt8] {
        guard reply.count >= 3 else { return reply }
        var out = reply
        let i = out.count - 2
        var b = out[i] ^ 0x55
        if b == 0x0D || b == 0x0A { b = out[i] ^ 0x5A }
        out[i] = b
        return out
    }

    /// Whether a CRC-bearing frame sent a raw 0x00 CRC byte as 0x01 (powermon's and mpp-solar's
    /// convention; the PDF's and esphome's send 0x00).
    static func usesNulBump(_ frame: [UInt8]) -> Bool {
        guard frame.count >= 8 else { return false }
        let (high, low) = PI18CRC.wireBytes(frame[0..<(frame.count - 3)])
        return (high == 0 && frame[frame.count - 3] == 1) || (low == 0 && frame[frame.count - 2] == 1)
    }

    private static func describe(_ error: PI18IncomingRequest.ParseError) -> String {
        switch error {
        case .notARequest: "not-a-request"
        case .badCRC: "bad-crc"
        case .badLength(let declared, let actual): "bad-length:\(declared)/\(actual)"
        }
    }
}
