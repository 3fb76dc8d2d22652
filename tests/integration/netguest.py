# SPDX-License-Identifier: GPL-2.0-only
"""Shell pieces the networking tests' Debian guests run (busybox sh):
waiting for carrier, DHCP (udhcpc with a hook script), interface
counters, an NDVM's hotplug loop that bridges the vifs hmxnet makes on
demand, and the NAT an NDVM or VPN VM puts in front of its guests."""

# up IF: wait for carrier; noip6 IF; dhcp IF TAG: an address only;
# dhcpr IF TAG: an address and the default route; nstat IF: counters;
# dumpstate TAG: every counter and HMX's state; stallwatch FILE TAG: that,
# once FILE stops growing for 30 s; waitgo TAG: waits for "go", dumping
# on "dump" (the test sends it to a service VM when a guest stalls).
PRELUDE = """up() { i=0; until [ "$(cat /sys/class/net/$1/carrier 2>/dev/null)" = 1 ]
do sleep 0.2; i=$((i+1)); [ $i -lt 600 ] && continue
echo "no carrier on $1"; ip link; cat /sys/module/hmx_core/parameters/state
cat /sys/module/hmxnet/parameters/state
dmesg | grep -i -e hmx -e vif | tail -20; break; done; }
noip6() { echo 1 > /proc/sys/net/ipv6/conf/$1/disable_ipv6; }
dhcp() { printf '[ "$1" = bound ] && ip addr add $ip/$mask dev $interface\n' \
>/tmp/d.sh; chmod +x /tmp/d.sh; udhcpc -i $1 -n -q -t 20 -s /tmp/d.sh >/dev/null 2>&1
echo "$2-ip $(ip -4 -o addr show $1 | awk '{print $4}')"; }
nstat() { echo "stat $1 $(for f in rx_packets rx_bytes tx_packets tx_bytes \
rx_errors tx_errors tx_dropped; do
printf '%s=%s ' $f $(cat /sys/class/net/$1/statistics/$f); done)"; }
dumpstate() { echo "== $1 state"; for d in /sys/class/net/*; do nstat ${d##*/}
done; cat /sys/module/hmx_core/parameters/state \
/sys/module/hmxnet/parameters/state 2>/dev/null; grep -e ^Ip: -e ^Tcp: /proc/net/snmp
dmesg | tail -15; echo "== $1 end"; }
stallwatch() { (s=-1; n=0; while sleep 10; do c=$(wc -c <$1 2>/dev/null || echo 0)
if [ "$c" = "$s" ]; then n=$((n+1)); [ $n = 3 ] && dumpstate "$2 stalled at $c"
else n=0; s=$c; fi; done) & }
waitgo() { while read l; do [ "$l" = dump ] && dumpstate $1
[ "$l" = go ] && break; done; }
dhcpr() { printf '[ "$1" = bound ] && ip addr add $ip/$mask dev $interface && ip route add default via $router\\n' \\
>/tmp/dr.sh; chmod +x /tmp/dr.sh; udhcpc -i $1 -n -q -t 20 -s /tmp/dr.sh >/dev/null 2>&1
echo "$2-ip $(ip -4 -o addr show $1 | awk '{print $4}')"; }
"""


def bridge_vifs(who, gone=False):
    """A background loop adding each vif* hmxnet makes to br0 (printing
    "WHO-port IF"), and with gone, "WHO-gone IF" when one goes."""
    left = ('for n in $known; do case " $now " in *" $n "*) ;; '
            '*) echo "' + who + '-gone $n";; esac\ndone; ') if gone else ""
    return ('(known=""; while :; do now=$(for d in /sys/class/net/vif*; do\n'
            '[ -e "$d" ] && echo "${d##*/}"; done)\n'
            # One line, space-separated: the case patterns below match
            # " NAME " (with two vifs the newline made them miss, and
            # every pass re-added the vifs and called them gone).
            'now=$(echo $now)\n'
            'for n in $now; do case " $known " in *" $n "*) ;; *) noip6 $n\n'
            ' ip link set $n up; brctl addif br0 $n && echo "' + who +
            '-port $n";; esac; done\n' + left +
            'known="$now"; sleep 0.3; done) &\n')


def nat_rules(out_if, ok):
    """nftables: the guests on br0 NATed out of out_if, and nothing else
    forwarded (OpenXT's brshared); prints ok once nft took them."""
    return (f"nft -f - <<'EOF' && echo {ok}\n"
            "table ip nat {\n"
            "  chain post {\n"
            "    type nat hook postrouting priority 100;\n"
            f'    oifname "{out_if}" masquerade\n'
            "  }\n}\n"
            "table inet filter {\n"
            "  chain forward {\n"
            "    type filter hook forward priority 0; policy drop;\n"
            f'    iifname "br0" oifname "{out_if}" accept\n'
            f'    iifname "{out_if}" oifname "br0" ct state '
            "established,related accept\n"
            "  }\n}\nEOF\n")


def wait_or_dump(ts, guest, text, services, timeout):
    """ts.wait_log(guest, text); on a timeout first has each service VM
    (its script in waitgo) print dumpstate into its console log."""
    try:
        return ts.wait_log(guest, text, timeout=timeout)
    except TimeoutError:
        for name in services:
            try:
                ts.console_send(name, b"dump\n", wait_for=f"== {name} end")
            except Exception as e:  # the dump is a diagnosis, not the test
                print(f"no state from {name}: {e}")
        raise
