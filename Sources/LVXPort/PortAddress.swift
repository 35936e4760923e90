// `PortAddress` and its parser live in LVXCore, so that `lvx validate` checks `port:` values with
// the parser the transports use. LVXPort re-exports both, so its users need not import LVXCore.
@_exported import enum LVXCore.PortAddress
@_exported import struct LVXCore.PortAddressError
