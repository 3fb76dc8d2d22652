#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_diskspec (fuzz/corpus/diskspec/seed-*):
a byte whose bit 0 set means "no base directory" (relative targets fail),
then one xl disk specification as the definition file would hold it. The
seeds cover every form docs/vm-config.md describes and every kind of
error. Usage: diskspec.py OUTDIR"""

from seedlib import write_seeds

WITH_BASE, NO_BASE = b"\x00", b"\x01"

SPECS = {
    # xl-disk-configuration(5)'s equivalent spellings
    "positional": "/dev/vg/guest-volume,raw,hda,rw",
    "positional-defaults": "/dev/vg/guest-volume,,hda",
    "named": "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
    "prefix-raw": "raw:/dev/vg/guest-volume,hda,w",
    "xlexample": "/dev/vg/guest-volume,raw,xvda,rw",
    "relative-qcow2-ro": "images/a.qcow2,qcow2,xvdb,ro",
    "target-commas": "vdev=xvda,target=/srv/a,b,c,",
    "empty-then-target": ",,xvdc,target=/x",
    "mixed": "access=ro,/x,qcow2,xvdaa",
    "flags": "/x,,sdp,discard,direct-io-safe,devtype=disk,specification=virtio",
    "no-discard": "no-discard,/x,,d7p0",
    "prefixes": "tap:aio:/img,xvda:disk,w",
    "prefix-qcow2": "tap:qcow2:/img,xvdb,r",
    "phy": "phy:/dev/sdb,xvdc,r",
    "backendtype": "backendtype=qdisk,/x,,xvdd",
    "vhost-user": "qsd/web.sock,,xvdb,ro,backendtype=vhost-user",
    "blanks": "  /x , raw,\txvda",
    # errors
    "bad-empty": "",
    "bad-no-vdev": "/x",
    "bad-no-target": ",,xvda",
    "bad-too-many": "/x,raw,xvdq,rw,bogus",
    "bad-key": "bogus=1,/x,,xvda",
    "bad-format": "/x,vhd,xvda",
    "bad-access": "/x,raw,xvda,rx",
    "bad-partition": "/x,,xvda1",
    "bad-hd": "/x,,hde",
    "bad-xenstore-number": "/x,,51712",
    "bad-cdrom": "/x,,hdc:cdrom",
    "bad-script": "script=block-iscsi,/x,,xvda",
    "bad-script-prefix": "nbd:host:1234,xvda",
    "bad-prefix": "data:/x,xvda",
    "bad-twice": "/x,,xvda,vdev=xvdb",
    "bad-discard": "/x,,xvda,discard,no-discard",
    "bad-vhost-qcow2": "/s,qcow2,xvda,backendtype=vhost-user",
    "bad-vhost-long": "backendtype=vhost-user,vdev=xvda,target=/" + "s" * 107,
    "bad-long-path": "vdev=xvda,target=/" + "p" * 4095,
    "bad-equals": "/a=b,,xvda",
    "bad-utf8": "/caf\u00e9,raw,xvda,rx",
}

seeds = {name: WITH_BASE + spec.encode() for name, spec in SPECS.items()}
seeds["bad-relative-no-base"] = NO_BASE + b"rel.img,,xvda"
seeds["absolute-no-base"] = NO_BASE + b"/abs.img,,xvda"
write_seeds(seeds)
