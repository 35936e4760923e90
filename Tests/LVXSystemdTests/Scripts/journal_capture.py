#!/usr/bin/python3
"""Captures what a program sends to the systemd journal, for LVXSystemd's tests.

Usage (as root in a private mount namespace, see JournalCapture.swift):
    journal_capture.py OUT.json -- COMMAND [ARG...]

libsystemd hard-codes the journal's socket, /run/systemd/journal/socket. This script mounts
nothing itself: it expects to run where /run/systemd (or /run) is a fresh tmpfs private to it, as
`unshare --mount` followed by `mount -t tmpfs` gives. It binds an AF_UNIX datagram socket at that
path, runs COMMAND, then reads every datagram that arrived and decodes journald's native protocol
(`NAME=value\n`, or `NAME\n` + 64-bit little-endian length + bytes + `\n` for binary values).

OUT.json gets {"exit": N, "entries": [[["NAME", "value"], ...], ...]} with the fields of each
entry in the order sent. Only the Python standard library is used.
"""
import json
import os
import socket
import struct
import subprocess
import sys

SOCKET = "/run/systemd/journal/socket"


def decode(datagram):
    fields = []
    rest = datagram
    while rest:
        newline = rest.find(b"\n")
        if newline < 0:
            raise ValueError("field without a terminating newline: %r" % rest[:80])
        line = rest[:newline]
        rest = rest[newline + 1 :]
        if b"=" in line:
            name, value = line.split(b"=", 1)
        else:
            (size,) = struct.unpack("<Q", rest[:8])
            name, value = line, rest[8 : 8 + size]
            if rest[8 + size : 9 + size] != b"\n":
                raise ValueError("binary field %r not followed by a newline" % line)
            rest = rest[9 + size :]
        fields.append([name.decode(), value.decode("utf-8", "replace")])
    return fields


def main():
    out = sys.argv[1]
    if sys.argv[2] != "--":
        sys.exit("usage: journal_capture.py OUT.json -- COMMAND [ARG...]")
    command = sys.argv[3:]
    os.makedirs(os.path.dirname(SOCKET), exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    sock.bind(SOCKET)
    exit_code = subprocess.call(command)
    sock.setblocking(False)
    entries = []
    while True:
        try:
            entries.append(decode(sock.recv(16 * 1024 * 1024)))
        except BlockingIOError:
            break
    with open(out, "w") as f:
        json.dump({"exit": exit_code, "entries": entries}, f)


if __name__ == "__main__":
    main()
