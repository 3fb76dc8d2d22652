# SPDX-License-Identifier: GPL-2.0-only
"""A client for bulkhead-hv's control protocol (docs/control-protocol.md)."""

import array
import json
import os
import socket

PROTOCOL_VERSION = 1
MAX_MSG = 64 * 1024


class ControlError(Exception):
    """The hypervisor refused a request; str() is its error message."""


class HvClient:
    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.next_id = 1
        self.events = []
        self.hello = self.call("hello", version=PROTOCOL_VERSION)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data, fds=()):
        anc = []
        if fds:
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    array.array("i", fds).tobytes())]
        self.sock.sendmsg([data], anc)

    def recv_message(self):
        data = self.sock.recv(MAX_MSG + 1)
        if not data:
            raise ConnectionError("hypervisor closed the control connection")
        return json.loads(data)

    def call(self, op, fds=(), **fields):
        """Sends a request and returns its reply; events seen on the way
        are kept in self.events. Raises ControlError if ok is false."""
        rid = self.next_id
        self.next_id += 1
        msg = dict(fields, op=op, id=rid)
        self.send_raw(json.dumps(msg).encode(), fds)
        while True:
            reply = self.recv_message()
            if "event" in reply:
                self.events.append(reply)
                continue
            if reply.get("id") != rid:
                raise ConnectionError(f"reply for id {reply.get('id')}, "
                                      f"expected {rid}")
            if not reply.get("ok"):
                raise ControlError(reply.get("error", "unknown error"))
            return reply

    def wait_event(self, match, timeout=None):
        """Returns the first event (kept or arriving) for which
        match(event) is true."""
        for i, ev in enumerate(self.events):
            if match(ev):
                return self.events.pop(i)
        old = self.sock.gettimeout()
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            while True:
                ev = self.recv_message()
                if "event" in ev and match(ev):
                    return ev
                self.events.append(ev)
        finally:
            self.sock.settimeout(old)

    def create_vm(self, name, kernel, memory_mib=256, vcpus=1, cmdline="",
                  initrd=None, console_log=None, start=True, domid=None,
                  hmx=None, disks=(), nics=(), **extra):
        """Opens the files here and passes them as fds, as a toolstack does;
        disks: (name, connected vhost-user socket) pairs, in slot order;
        nics: the same for virtio-net devices, after the disks;
        extra: more vm.create fields (vsock_socket)."""
        files = [open(kernel, "rb")]
        fields = dict(name=name, memory_mib=memory_mib, vcpus=vcpus,
                      cmdline=cmdline, kernel_fd=0, start=start, **extra)
        if domid is not None:
            fields["domid"] = domid
        if hmx is not None:
            fields["hmx"] = hmx
        if initrd:
            files.append(open(initrd, "rb"))
            fields["initrd_fd"] = len(files) - 1
        if console_log:
            files.append(open(console_log, "ab"))
            fields["console_fd"] = len(files) - 1
        fds = [f.fileno() for f in files]
        if disks or nics:
            fields["devices"] = []
            for kind, devs in (("virtio-blk", disks), ("virtio-net", nics)):
                for dev, sock in devs:
                    fields["devices"].append(
                        dict(type=kind, name=dev, fd=len(fds)))
                    fds.append(sock.fileno())
        try:
            return self.call("vm.create", fds=fds, **fields)["vm"]
        finally:
            for f in files:
                f.close()

    def attach_console(self, name, history=True):
        """Returns our end of a socket carrying the VM's console."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.call("vm.console", fds=[theirs.fileno()], name=name, fd=0,
                      history=history)
        finally:
            theirs.close()
        return ours
