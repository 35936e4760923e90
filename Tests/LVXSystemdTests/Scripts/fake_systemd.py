#!/usr/bin/python3
"""A stand-in for systemd's manager on a private D-Bus, for LVXSystemd's tests.

Usage: fake_systemd.py CONFIG.json

CONFIG holds:
  "dir":   a scratch directory; the bus socket, the daemon's config, the call record and the
           ready file are made there
  "units": {"a.service": {"state": "active", "stop_result": "done", "start_result": "done",
                          "stop_error": null, "signal_before_reply": false, "job_ms": 20}, ...}
           stop_result / start_result: the JobRemoved result ("done", "failed"...), or null to
           never remove the job (a hung job); stop_error: a D-Bus error name StopUnit answers with.

It starts its own dbus-daemon (private, everything allowed), owns org.freedesktop.systemd1 on it,
and serves GetUnit, Subscribe, Unsubscribe, StopUnit, StartUnit, the Unit's ActiveState property
and the JobRemoved signal (sent only to a bus with a subscriber, as systemd does). Every call is
appended to DIR/calls.log as one tab-separated line ("StopUnit\ta.service\treplace"), and when
the name is owned the bus address is written to DIR/ready.

It exits, killing its dbus-daemon, on SIGTERM or when its standard input reaches end of file
(so the daemon never outlives a test process that died).

Needs: the dbus-daemon binary (Debian package dbus-daemon) and python3-dbus + python3-gi.
"""
import json
import os
import signal
import subprocess
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

MANAGER = "org.freedesktop.systemd1.Manager"
UNIT = "org.freedesktop.systemd1.Unit"
PROPERTIES = "org.freedesktop.DBus.Properties"

DAEMON_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
"""


def escape_label(name):
    """systemd's bus_label_escape: alphanumerics kept, anything else as _xx."""
    return "".join(c if c.isascii() and c.isalnum() else "_%02x" % ord(c) for c in name)


class Recorder:
    def __init__(self, path):
        self.path = path

    def __call__(self, *fields):
        with open(self.path, "a") as f:
            f.write("\t".join(str(x) for x in fields) + "\n")


class UnitObject(dbus.service.Object):
    def __init__(self, bus, path, manager, name):
        super().__init__(bus, path)
        self.manager = manager
        self.name = name

    @dbus.service.method(PROPERTIES, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        if interface == UNIT and prop == "ActiveState":
            return dbus.String(self.manager.units[self.name]["state"])
        if interface == UNIT and prop == "Id":
            return dbus.String(self.name)
        raise dbus.exceptions.DBusException(
            "unknown property %s.%s" % (interface, prop), name="org.freedesktop.DBus.Error.UnknownProperty"
        )


class Manager(dbus.service.Object):
    def __init__(self, bus, units, record):
        super().__init__(bus, "/org/freedesktop/systemd1")
        self.bus = bus
        self.units = units
        self.record = record
        self.subscribers = 0
        self.next_job = 1
        self.unit_objects = {}
        for name in units:
            path = "/org/freedesktop/systemd1/unit/" + escape_label(name)
            self.unit_objects[name] = (path, UnitObject(bus, path, self, name))

    @dbus.service.method(MANAGER, in_signature="", out_signature="")
    def Subscribe(self):
        self.record("Subscribe")
        self.subscribers += 1

    @dbus.service.method(MANAGER, in_signature="", out_signature="")
    def Unsubscribe(self):
        self.record("Unsubscribe")
        self.subscribers = max(0, self.subscribers - 1)

    @dbus.service.method(MANAGER, in_signature="s", out_signature="o")
    def GetUnit(self, name):
        self.record("GetUnit", name)
        if name not in self.units:
            raise dbus.exceptions.DBusException(
                "Unit %s not loaded." % name, name="org.freedesktop.systemd1.NoSuchUnit"
            )
        return dbus.ObjectPath(self.unit_objects[name][0])

    @dbus.service.method(MANAGER, in_signature="ss", out_signature="o")
    def StopUnit(self, name, mode):
        self.record("StopUnit", name, mode)
        return self.enqueue(name, "stop", "inactive")

    @dbus.service.method(MANAGER, in_signature="ss", out_signature="o")
    def StartUnit(self, name, mode):
        self.record("StartUnit", name, mode)
        return self.enqueue(name, "start", "active")

    @dbus.service.signal(MANAGER, signature="uoss")
    def JobRemoved(self, job_id, job, unit, result):
        self.record("JobRemoved", job_id, job, unit, result)

    def enqueue(self, name, verb, final_state):
        unit = self.units.get(name)
        if unit is None:
            raise dbus.exceptions.DBusException(
                "Unit %s not found." % name, name="org.freedesktop.systemd1.NoSuchUnit"
            )
        error = unit.get(verb + "_error")
        if error:
            raise dbus.exceptions.DBusException("%s refused by the stand-in" % verb, name=error)
        job_id = self.next_job
        self.next_job += 1
        job = dbus.ObjectPath("/org/freedesktop/systemd1/job/%d" % job_id)
        result = unit.get(verb + "_result", "done")

        def finish():
            if result == "done":
                unit["state"] = final_state
            elif result == "failed":
                unit["state"] = "failed"
            if self.subscribers > 0:
                self.JobRemoved(dbus.UInt32(job_id), job, name, result)
            return False

        if result is not None:
            if unit.get("signal_before_reply"):
                finish()
            else:
                GLib.timeout_add(int(unit.get("job_ms", 20)), finish)
        return job


def main():
    # A test process may start us with signals blocked (threads of the Swift test runner do);
    # unblock them so that SIGTERM reaches us and the dbus-daemon we start.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with open(sys.argv[1]) as f:
        config = json.load(f)
    scratch = config["dir"]
    socket_path = os.path.join(scratch, "bus")
    daemon_conf = os.path.join(scratch, "bus.conf")
    with open(daemon_conf, "w") as f:
        f.write(DAEMON_CONFIG.format(socket=socket_path))
    daemon = subprocess.Popen(
        ["dbus-daemon", "--config-file=" + daemon_conf, "--nofork", "--nopidfile", "--print-address"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    address = daemon.stdout.readline().decode().strip()
    if not address:
        sys.exit("dbus-daemon did not start (exit %s)" % daemon.poll())

    loop = GLib.MainLoop()

    def quit(*_):
        loop.quit()
        return False

    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    manager = Manager(bus, config["units"], Recorder(os.path.join(scratch, "calls.log")))
    name = dbus.service.BusName("org.freedesktop.systemd1", bus, do_not_queue=True)

    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, quit)
    GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, lambda fd, cond: quit() if not os.read(fd, 4096) else True)

    ready = os.path.join(scratch, "ready")
    with open(ready + ".tmp", "w") as f:
        f.write(address + "\n")
    os.rename(ready + ".tmp", ready)
    try:
        loop.run()
    finally:
        del name, manager
        daemon.terminate()
        try:
            daemon.wait(timeout=5)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


if __name__ == "__main__":
    main()
