#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpus of fuzz_vif_spec (fuzz/corpus/vif_spec/seed-*):
one xl vif specification as the definition file would hold it, covering
every form docs/vm-config.md describes and every kind of error.
Usage: vif_spec.py OUTDIR"""

from seedlib import write_seeds

SPECS = {
    # accepted
    "empty": "",
    "commas": ",, ,",
    "backend": "backend=ndvm",
    "mac": "mac=02:16:3E:74:3d:76",
    "ip": "ip=10.0.0.5",
    "ips": "ip=10.0.0.5 192.168.1.7\t172.16.0.1",
    "all": "backend=lan0, mac=02:00:00:00:00:01, ip=10.0.0.5, "
           "model=hmxnet, type=vif, untrusted",
    "blanks": "  backend = ndvm ,\tmac=02:00:00:00:00:02  ,",
    # errors
    "bad-twice": "mac=02:00:00:00:00:01,mac=02:00:00:00:00:02",
    "bad-backend-empty": "backend=",
    "bad-backend-name": "backend=-x",
    "bad-backend-keyword": "backend=host",
    "bad-mac-short": "mac=02:00:00:00:00",
    "bad-mac-long": "mac=02:00:00:00:00:00:00",
    "bad-mac-sep": "mac=02-00-00-00-00-01",
    "bad-mac-hex": "mac=02:00:00:00:00:0g",
    "bad-mac-multicast": "mac=01:00:5e:00:00:01",
    "bad-mac-broadcast": "mac=ff:ff:ff:ff:ff:ff",
    "bad-mac-zero": "mac=00:00:00:00:00:00",
    "bad-mac-hmxnet": "mac=02:48:4d:00:03:00",
    "bad-ip-empty": "ip=",
    "bad-ip-v6": "ip=fe80::1",
    "bad-ip-octal": "ip=10.0.0.05",
    "bad-ip-range": "ip=10.0.0.256",
    "bad-ip-short": "ip=10.0.0",
    "bad-ip-loopback": "ip=127.0.0.1",
    "bad-ip-multicast": "ip=224.0.0.1",
    "bad-ip-broadcast": "ip=255.255.255.255",
    "bad-ip-zero": "ip=0.0.0.0",
    "bad-ip-twice": "ip=10.0.0.1 10.0.0.1",
    "bad-ip-many": "ip=" + " ".join(f"10.0.0.{i}" for i in range(1, 10)),
    "bad-model": "model=e1000",
    "bad-model-unknown": "model=tulip",
    "bad-type": "type=ioemu",
    "bad-type-unknown": "type=pv",
    "bad-bridge": "bridge=xenbr0",
    "bad-script": "script=vif-route",
    "bad-rate": "rate=10Mb/s@20ms",
    "bad-vifname": "vifname=web0",
    "bad-mtu": "mtu=9000",
    "bad-devid": "devid=3",
    "bad-colo": "colo_sock_mirror_port=1",
    "bad-trusted": "trusted",
    "bad-untrusted-twice": "untrusted,untrusted",
    "bad-flag": "mac",
    "bad-key": "Mac=02:00:00:00:00:01",
    "bad-unknown": "bogus=1",
    "bad-equals": "=x",
    "bad-utf8": "backend=caf\u00e9",
}

write_seeds({name: spec.encode() for name, spec in SPECS.items()})
