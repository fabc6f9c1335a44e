#!/usr/bin/env bash
# Differential protocol conformance: tierdns against Knot DNS (knotd), both serving the same
# test zones (written here), queried with the same matrix of names x types x flags x
# transports, plus a set of adversarial packets. Prints a summary of the differences, each
# classified as EXPECTED (tierdns policy or a Knot quirk, with the reason), KNOWN DEFECT
# (open tierdns bugs, with the RFC), or UNCLASSIFIED (new: review it).
#
#   bash scripts/conformance.sh            # summary with 2 example dig commands per kind
#                                          # (their -p is this run's tierdns port: use your own)
#   EXAMPLES=5 bash scripts/conformance.sh
#   STRICT=1   bash scripts/conformance.sh # exit 1 when any KNOWN DEFECT or UNCLASSIFIED remains
#   KEEP=1     bash scripts/conformance.sh # keep the work dir (zones, knot.conf, results.json, logs)
#   TIERDNS_NATIVE=0 bash scripts/conformance.sh   # UDP through Node's dgram instead of the addon
#
# Needs: node (dist/ is rebuilt when src/ is newer), python3 (stdlib only), knotd + knotc, dig.
# Starts one knotd and one tierdns on free 127.0.0.1 ports, kills exactly those PIDs on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

for tool in node python3 knotd knotc dig; do
  command -v "$tool" >/dev/null || { echo "conformance: $tool not found (knot: apt-get install knot knot-dnsutils)" >&2; exit 2; }
done

# Rebuild when any source file is newer than the build (type errors elsewhere still emit JS).
if [ -z "${NO_BUILD:-}" ] && { [ ! -f dist/cli.js ] || [ -n "$(find src -name '*.ts' -newer dist/cli.js -print -quit)" ]; }; then
  echo "conformance: dist/ is stale, running tsc" >&2
  npx tsc -p . >/dev/null 2>&1 || echo "conformance: tsc reported errors (JS emitted anyway)" >&2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tierdns-conformance.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "conformance: work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat > "$WORK/conf.py" <<'PY'
#!/usr/bin/env python3
"""Zones, query matrix, wire codec, diff and classification for scripts/conformance.sh."""
import collections, json, os, random, re, socket, struct, sys, time

# ------------------------------------------------------------------------------ test data
ZONE = r'''$TTL 3600
$ORIGIN conf.test.
@       3600 IN SOA ns1.conf.test. hostmaster.conf.test. 2024010101 7200 3600 1209600 300
@       NS   ns1.conf.test.
@       NS   ns2.conf.test.
@       NS   ns.out-of-zone.example.
@       A    192.0.2.10
@       AAAA 2001:db8::10
@       MX   10 mail.conf.test.
@       MX   20 mail.other.test.
@       MX   30 mx.elsewhere.example.
@       TXT  "v=spf1 -all"
@       CAA  0 issue "letsencrypt.org"
@       CAA  128 tbs "critical"
ns1     A    192.0.2.1
ns1     AAAA 2001:db8::1
ns2     A    192.0.2.2
mail    A    192.0.2.25
mail    AAAA 2001:db8::25
www     A    192.0.2.80
www     AAAA 2001:db8::80
txt     TXT  "hello" "world"
txt     TXT  "second string"
ttlmix  300 A 192.0.2.61
ttlmix  600 A 192.0.2.62
_sip._tcp SRV 10 60 5060 sip.conf.test.
_sip._tcp SRV 20 0 5060 sip.other.test.
sip     A    192.0.2.50
ptr     PTR  www.conf.test.
naptr   NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .
unk     TYPE65534 \# 4 deadbeef
unk0    TYPE65534 \# 0
cname   CNAME www
chain1  CNAME chain2
chain2  CNAME chain3
chain3  CNAME www
ext     CNAME www.example.net.
cross   CNAME www.other.test.
crossnx CNAME nope.other.test.
dangling CNAME nothere.conf.test.
tonodata CNAME txt
toent   CNAME ent
todeleg CNAME host.sub.conf.test.
towild  CNAME foo.wild
todname CNAME x.dn
tobig   CNAME bigtxt
tobigaaaa CNAME bigaaaa
tows    CNAME ws
tov4pool CNAME v4pool
tobigdeleg CNAME x.bigdeleg
tonods  CNAME ns.nods
loop1   CNAME loop2
loop2   CNAME loop1
self    CNAME self
long1   CNAME long2
long2   CNAME long3
long3   CNAME long4
long4   CNAME long5
long5   CNAME long6
long6   CNAME long7
long7   CNAME long8
long8   CNAME long9
long9   CNAME long10
long10  CNAME long11
long11  CNAME www
*.wild  A    192.0.2.100
*.wild  TXT  "wildcard"
*.wild  MX   10 mail.conf.test.
exists.wild A 192.0.2.101
x.sub.wild A 192.0.2.102
*.wcname CNAME www
*.wcext  CNAME target.example.net.
*.wcloop CNAME a.wcloop
*.e.ent3 A 192.0.2.103
a.b.ent A    192.0.2.30
sub     NS   ns1.sub.conf.test.
sub     NS   ns2.conf.test.
sub     NS   ns.out-of-zone.example.
sub     DS   12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE4B9F5BF5C4A2C0A2B1B2C3D4
ns1.sub A    192.0.2.53
ns1.sub AAAA 2001:db8::53
nods    NS   ns.nods.conf.test.
ns.nods A    192.0.2.54
oob     NS   ns.out-of-zone.example.
oob     NS   ns.other.test.
dn      DNAME other.test.
dn2     DNAME target.conf.test.
x.target A   192.0.2.111
dnlong  DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.example.
MiXeD   A    192.0.2.77
Upper.CaSe TXT "mixed case owner"
casecname CNAME WWW.Conf.Test.
esc\.dot A   192.0.2.88
sp\032ace A  192.0.2.89
\065bc  A    192.0.2.90
bin\255ary A 192.0.2.91
back\\slash A 192.0.2.92
ws      TXT  "pool with static txt"
'''
ZONE += ''.join('medium A 198.51.100.%d\n' % i for i in range(1, 41))
ZONE += ''.join('bigtxt TXT "record-%03d-padding-padding-padding-padding-padding"\n' % i for i in range(40))
ZONE += ''.join('bigaaaa AAAA 2001:db8:1::%x\n' % i for i in range(1, 81))
ZONE += ''.join('bigdeleg NS ns%d.bigdeleg.conf.test.\n' % i for i in range(1, 16))
ZONE += ''.join('ns%d.bigdeleg A 192.0.2.%d\nns%d.bigdeleg AAAA 2001:db8:2::%x\n' % (i, 150 + i, i, i) for i in range(1, 16))
ZONE += ''.join('bigmx MX %d mx%d.conf.test.\nmx%d A 203.0.113.%d\nmx%d AAAA 2001:db8:3::%x\n' % (i, i, i, i, i, i) for i in range(1, 31))

OTHER = '''$TTL 3600
$ORIGIN other.test.
@    SOA ns1.other.test. hostmaster.other.test. 1 7200 3600 1209600 600
@    NS  ns1.other.test.
ns1  A   192.0.2.201
www  A   192.0.2.202
mail A   192.0.2.203
sip  A   192.0.2.204
ns   A   192.0.2.205
'''
# tierdns pools (check none, ttl 20); Knot serves the same members as static records.
POOLS = {
    'ws': '192.0.2.70 192.0.2.71 192.0.2.72 2001:db8::70 2001:db8::71'.split(),
    'v4pool': ['192.0.2.73', '192.0.2.74'],
    'bigpool': ['198.51.100.%d' % i for i in range(101, 141)],
    'p.dn2': ['192.0.2.98'],  # below a DNAME: occluded (RFC 6672 2.4); Knot gets no record for it
}
OCCLUDED = {'p.dn2'}


def gen(work):
    os.makedirs(work + '/zones', exist_ok=True)
    os.makedirs(work + '/knot/zones', exist_ok=True)
    os.makedirs(work + '/knot/db', exist_ok=True)
    open(work + '/zones/conf.test.zone', 'w').write(ZONE)
    open(work + '/zones/other.test.zone', 'w').write(OTHER)
    static = ''.join('%s 20 %s %s\n' % (p, 'AAAA' if ':' in ip else 'A', ip)
                     for p, ips in POOLS.items() if p not in OCCLUDED for ip in ips)
    open(work + '/knot/zones/conf.test.zone', 'w').write(ZONE + static)
    open(work + '/knot/zones/other.test.zone', 'w').write(OTHER)
    with open(work + '/pools.txt', 'w') as f:
        for p, ips in POOLS.items():
            f.write('%s.conf.test %s\n' % (p, ' '.join(ips)))


def free_ports(n):
    out = []
    while len(out) < n:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(('127.0.0.1', 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(('127.0.0.1', port))
            if port not in out:
                out.append(port)
        except OSError:
            pass
        finally:
            u.close(); t.close()
    return out


# ------------------------------------------------------------------------------ wire codec
TYPES = {'A': 1, 'NS': 2, 'CNAME': 5, 'SOA': 6, 'PTR': 12, 'HINFO': 13, 'MX': 15, 'TXT': 16, 'AAAA': 28,
         'SRV': 33, 'NAPTR': 35, 'DNAME': 39, 'OPT': 41, 'DS': 43, 'RRSIG': 46, 'NSEC': 47, 'DNSKEY': 48,
         'TKEY': 249, 'TSIG': 250, 'IXFR': 251, 'AXFR': 252, 'MAILB': 253, 'MAILA': 254, 'ANY': 255, 'CAA': 257}
TNAME = {v: k for k, v in TYPES.items()}
RCODES = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN',
          9: 'NOTAUTH', 16: 'BADVERS', 23: 'BADCOOKIE'}
CLASSES = {1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY'}
OPCODES = {0: 'QUERY', 1: 'IQUERY', 2: 'STATUS', 4: 'NOTIFY', 5: 'UPDATE', 6: 'DSO'}


def tname(t):
    return TNAME.get(t, 'TYPE%d' % t)


def qcode(t):
    return TYPES[t] if t in TYPES else int(t[4:])


def name_to_wire(name):
    if name in ('.', ''):
        return b'\x00'
    labels, cur, i = [], bytearray(), 0
    while i < len(name):
        c = name[i]
        if c == '\\':
            d = name[i + 1:i + 4]
            if len(d) == 3 and d.isdigit():
                cur.append(int(d)); i += 4; continue
            cur += name[i + 1].encode(); i += 2; continue
        if c == '.':
            labels.append(bytes(cur)); cur = bytearray(); i += 1; continue
        cur += c.encode(); i += 1
    if cur:
        labels.append(bytes(cur))
    return b''.join(bytes([len(l)]) + l for l in labels) + b'\x00'


def label_text(l):
    out = ''
    for b in l:
        ch = chr(b)
        if ch in '.\\"();@$':
            out += '\\' + ch
        elif b <= 0x20 or b >= 0x7f:
            out += '\\%03d' % b
        else:
            out += ch
    return out


def read_name(buf, off):
    labels, end, hops = [], None, 0
    while True:
        if off >= len(buf):
            raise ValueError('name past end')
        l = buf[off]
        if l == 0:
            off += 1
            break
        if l & 0xc0 == 0xc0:
            if off + 1 >= len(buf):
                raise ValueError('pointer past end')
            if end is None:
                end = off + 2
            off = ((l & 0x3f) << 8) | buf[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError('pointer loop')
            continue
        if l & 0xc0:
            raise ValueError('bad label type')
        labels.append(bytes(buf[off + 1:off + 1 + l]))
        off += 1 + l
    return labels, (end if end is not None else off)


def labels_text(labels, fold=True):
    if not labels:
        return '.'
    s = '.'.join(label_text(l) for l in labels) + '.'
    return s.lower() if fold else s


NAME_RDATA = {2: 'n', 5: 'n', 12: 'n', 39: 'n', 15: 'Hn', 33: 'HHHn', 6: 'nnIIIII'}


def rdata_text(buf, off, rdlen, rtype):
    rd = buf[off:off + rdlen]
    try:
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntop(socket.AF_INET, rd)
        if rtype == 28 and rdlen == 16:
            return socket.inet_ntop(socket.AF_INET6, rd)
        if rtype in NAME_RDATA:
            parts, p = [], off
            for f in NAME_RDATA[rtype]:
                if f == 'n':
                    labels, p = read_name(buf, p)
                    parts.append(labels_text(labels))
                elif f == 'H':
                    parts.append(str(struct.unpack('!H', buf[p:p + 2])[0])); p += 2
                else:
                    parts.append(str(struct.unpack('!I', buf[p:p + 4])[0])); p += 4
            return ' '.join(parts)
        if rtype == 16:
            parts, p = [], 0
            while p < len(rd):
                l = rd[p]
                parts.append('"' + rd[p + 1:p + 1 + l].decode('latin1') + '"'); p += 1 + l
            return ' '.join(parts)
    except Exception:
        return '\\# BAD ' + rd.hex()
    return '\\# %d %s' % (rdlen, rd.hex())


def build_query(qname='conf.test.', qtype=1, qclass=1, qid=0x1234, opcode=0, rd=False, cd=False, ad=False,
                z=False, edns=None):
    flags = (opcode & 0xf) << 11 | (0x0100 if rd else 0) | (0x0020 if ad else 0) | (0x0010 if cd else 0) | (0x0040 if z else 0)
    q = name_to_wire(qname) + struct.pack('!HH', qtype, qclass)
    opt = b''
    if edns is not None:
        opts = b''.join(struct.pack('!HH', c, len(v)) + v for c, v in edns.get('options', []))
        ttl = (edns.get('version', 0) << 16) | (0x8000 if edns.get('do') else 0) | edns.get('zflags', 0)
        opt = b'\x00' + struct.pack('!HHIH', 41, edns.get('size', 1232), ttl, len(opts)) + opts
    return struct.pack('!HHHHHH', qid, flags, 1, 0, 0, 1 if opt else 0) + q + opt


class Resp:
    pass


def parse(buf):
    r = Resp()
    r.size, r.error, r.opt = len(buf), None, None
    r.question, r.sections = [], [[], [], []]
    if len(buf) < 12:
        r.error = 'short(%d)' % len(buf)
        return r
    r.id, flags, qd, an, ns, ar = struct.unpack('!HHHHHH', buf[:12])
    r.counts = (qd, an, ns, ar)
    r.opcode = (flags >> 11) & 0xf
    r.flags = [f for f, bit in (('qr', 15), ('aa', 10), ('tc', 9), ('rd', 8), ('ra', 7), ('z', 6), ('ad', 5), ('cd', 4))
               if flags >> bit & 1]
    r.rcode = flags & 0xf
    off = 12
    try:
        for _ in range(qd):
            labels, off = read_name(buf, off)
            qt, qc = struct.unpack('!HH', buf[off:off + 4]); off += 4
            r.question.append('%s/%s/%s' % (labels_text(labels, False), tname(qt), CLASSES.get(qc, qc)))
        for si, cnt in enumerate((an, ns, ar)):
            for _ in range(cnt):
                labels, off = read_name(buf, off)
                rt, rc, ttl, rdlen = struct.unpack('!HHIH', buf[off:off + 10]); off += 10
                if rt == 41:
                    o = {'size': rc, 'ercode': ttl >> 24, 'version': (ttl >> 16) & 0xff, 'do': (ttl >> 15) & 1,
                         'z': ttl & 0x7fff, 'options': []}
                    p = off
                    while p + 4 <= off + rdlen:
                        c, l = struct.unpack('!HH', buf[p:p + 4])
                        o['options'].append((c, buf[p + 4:p + 4 + l].hex())); p += 4 + l
                    if r.opt is not None or si != 2 or labels:
                        r.error = 'misplaced or second OPT'
                    r.opt = o
                else:
                    r.sections[si].append((labels_text(labels), tname(rt), CLASSES.get(rc, rc), ttl,
                                           rdata_text(buf, off, rdlen, rt), labels_text(labels, False)))
                off += rdlen
        if off != len(buf):
            r.error = 'trailing %d bytes' % (len(buf) - off)
    except Exception as e:
        r.error = 'unparseable: %s' % e
    return r


def udp(addr, msg, timeout=1.5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(msg, addr)
        return s.recvfrom(65535)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def recv_exact(s, n):
    out = b''
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def tcp(addr, msg, timeout=2.0, raw=None, count=1):
    """One framed message (or raw bytes) on a new connection; `count` answers, or 'closed'/'timeout'/'reset'."""
    s = socket.create_connection(addr, timeout=timeout)
    out = []
    try:
        s.sendall(raw if raw is not None else struct.pack('!H', len(msg)) + msg)
        for _ in range(count):
            try:
                h = recv_exact(s, 2)
                body = recv_exact(s, struct.unpack('!H', h)[0]) if h else None
                out.append(body if body is not None else 'closed')
                if body is None:
                    break
            except socket.timeout:
                out.append('timeout'); break
            except ConnectionResetError:
                out.append('reset'); break
    finally:
        s.close()
    return out


def summarize(raw):
    if raw is None:
        return {'result': 'no answer'}
    if isinstance(raw, str):
        return {'result': raw}
    r = parse(raw)
    if r.error and r.error.startswith('short'):
        return {'result': r.error}
    rcode = r.rcode | ((r.opt['ercode'] << 4) if r.opt else 0)
    d = {'result': 'answer', 'rcode': RCODES.get(rcode, str(rcode)), 'flags': ' '.join(r.flags),
         'opcode': OPCODES.get(r.opcode, r.opcode), 'question': ' '.join(r.question) or '-', 'size': r.size,
         'counts': r.counts}
    for si, nm in enumerate(('answer', 'authority', 'additional')):
        recs = r.sections[si]
        d[nm] = sorted('%s %s %s %s' % (o, t, c, rd) for (o, t, c, ttl, rd, _) in recs)
        d[nm + '.ttl'] = sorted('%s %s %d' % (o, t, ttl) for (o, t, c, ttl, rd, _) in recs)
        d[nm + '.case'] = sorted(set('%s %s' % (raw_o, t) for (o, t, c, ttl, rd, raw_o) in recs))
    if r.opt:
        d['opt'] = 'v%d do=%d size=%d z=%x' % (r.opt['version'], r.opt['do'], r.opt['size'], r.opt['z'])
        d['opt.options'] = ' '.join('%d:%s' % o for o in r.opt['options']) or '-'
    else:
        d['opt'], d['opt.options'] = 'none', '-'
    if r.error:
        d['malformed'] = r.error
    return d


FACETS = ['result', 'rcode', 'opcode', 'flags', 'question', 'answer', 'authority', 'additional', 'opt', 'opt.options',
          'answer.ttl', 'authority.ttl', 'answer.case', 'malformed', 'size']


def diff(ref, sut):
    out = []
    for f in FACETS:
        a, b = ref.get(f), sut.get(f)
        if a == b:
            continue
        if f.endswith('.ttl') or f.endswith('.case'):
            if ref.get(f.split('.')[0]) != sut.get(f.split('.')[0]):
                continue  # the records differ already
        if f == 'size':
            if out or a is None or b is None:
                continue  # only worth a line when nothing else differs
        if isinstance(a, list) and isinstance(b, list):
            out.append((f, 'knot-only=%s tierdns-only=%s' % ([x for x in a if x not in b], [x for x in b if x not in a])))
        else:
            out.append((f, 'knot=%s tierdns=%s' % (a, b)))
    return out


# ------------------------------------------------------------------------------ the matrix
Z = 'conf.test.'
NAMES = [Z, 'ns1', 'ns2', 'mail', 'www', 'WwW', 'txt', 'ttlmix', '_sip._tcp', 'sip', 'ptr', 'naptr', 'unk', 'unk0',
         'cname', 'chain1', 'ext', 'cross', 'crossnx', 'dangling', 'tonodata', 'toent', 'todeleg', 'towild',
         'todname', 'tobig', 'tobigaaaa', 'tows', 'tov4pool', 'tobigdeleg', 'tonods', 'loop1', 'self', 'long1',
         'foo.wild', 'FOO.Wild', 'exists.wild', 'wild', 'sub.wild', 'q.sub.wild', 'x.sub.wild', '\\*.wild',
         'a.b.wild', 'a.wcname', 'a.b.wcname', 'a.wcext', 'a.wcloop', 'foo.e.ent3', 'e.ent3', 'ent3', 'ent', 'b.ent',
         'a.b.ent', 'x.a.b.ent', 'sub', 'SUB', 'host.sub', 'ns1.sub', 'deep.host.sub', 'nods', 'ns.nods', 'oob',
         'x.oob', 'dn', 'x.dn', 'www.dn', 'a.b.dn', 'mail.DN', 'dn2', 'x.dn2', 'y.dn2', 'target', 'x.target',
         'dnlong', ('p' * 60) + '.dnlong', 'MiXeD', 'mixed', 'upper.case', 'UPPER.CASE', 'case', 'casecname',
         'esc\\.dot', 'esc.dot', 'sp\\032ace', 'abc', 'ABC', 'bin\\255ary', 'back\\\\slash', 'medium', 'bigtxt',
         'bigaaaa', 'bigdeleg', 'x.bigdeleg', 'ns1.bigdeleg', 'bigmx', 'ws', 'WS', 'x.ws', 'v4pool', 'bigpool',
         'p.dn2', 'nx', 'a.nx', 'x.www', 'x.cname', 'other.test.', 'www.other.test.', 'nx.other.test.', 'outside.example.',
         'test.', '.', 'conf.test.other.test.']
TYPES_MAIN = ['A', 'AAAA', 'NS', 'SOA', 'MX', 'TXT', 'CNAME', 'DS', 'ANY', 'TYPE65534', 'PTR', 'SRV', 'NAPTR',
              'CAA', 'DNAME']
REPS = [(Z, 'SOA'), (Z, 'NS'), ('www', 'A'), ('nx', 'A'), ('txt', 'AAAA'), ('chain1', 'A'), ('sub', 'A'),
        ('foo.wild', 'A'), ('x.dn2', 'A'), ('ws', 'A'), ('ws', 'AAAA'), ('v4pool', 'AAAA'), ('bigtxt', 'TXT'),
        ('medium', 'A'), ('bigaaaa', 'AAAA'), ('bigdeleg', 'A'), ('bigmx', 'MX'), ('bigpool', 'A'),
        ('outside.example.', 'A'), ('sub', 'DS')]
E = {'size': 1232}
VARIANTS = [
    (['+rec'], dict(rd=True, edns=E)),
    (['+cd'], dict(cd=True, edns=E)),
    (['+adflag'], dict(ad=True, edns=E)),
    (['+dnssec'], dict(edns={'size': 1232, 'do': True})),
    (['+nsid'], dict(edns={'size': 1232, 'options': [(3, b'')]})),
    (['+cookie=0102030405060708'], dict(edns={'size': 1232, 'options': [(10, bytes.fromhex('0102030405060708'))]})),
    (['+ednsopt=65000:abcd'], dict(edns={'size': 1232, 'options': [(65000, b'\xab\xcd')]})),
    (['+edns=1'], dict(edns={'size': 1232, 'version': 1})),
    (['+edns=1', '+dnssec'], dict(edns={'size': 1232, 'version': 1, 'do': True})),
    (['+noedns'], dict()),
    (['+bufsize=512'], dict(edns={'size': 512})),
    (['+bufsize=1232'], dict(edns=E)),
    (['+bufsize=4096'], dict(edns={'size': 4096})),
    (['+bufsize=100'], dict(edns={'size': 100})),
    (['+bufsize=0'], dict(edns={'size': 0})),
    (['+ednsflags=0x7fff'], dict(edns={'size': 1232, 'zflags': 0x7fff})),
    (['+zflag'], dict(z=True, edns=E)),
    (['+ignore', '+tcp'], dict(edns=E)),
    (['+ignore', '+tcp', '+noedns'], dict()),
    (['+padding=128'], dict(edns={'size': 1232, 'options': [(12, b'\x00' * 100)]})),
    (['+subnet=192.0.2.0/24'], dict(edns={'size': 1232, 'options': [(8, bytes.fromhex('00011800c00002'))]})),
]


def fq(n):
    return n if n.endswith('.') else n + '.' + Z


def cases():
    out = []
    for n in NAMES:
        for t in TYPES_MAIN:
            out.append(('main', ['+norec', '+bufsize=1232'], fq(n), t, dict(edns=E), 'udp'))
        for t in ('A', 'TXT', 'AAAA', 'MX', 'NS', 'ANY'):
            out.append(('noedns', ['+norec', '+noedns', '+ignore'], fq(n), t, {}, 'udp'))
            out.append(('tcp', ['+norec', '+tcp'], fq(n), t, dict(edns=E), 'tcp'))
        for t in ('AXFR', 'IXFR'):
            out.append(('xfr', ['+norec', '+notcp'], fq(n), t, dict(edns=E), 'udp'))
            out.append(('xfr', ['+norec', '+tcp'], fq(n), t, dict(edns=E), 'tcp'))
    for n, t in REPS:
        for opts, kw in VARIANTS:
            out.append(('flags', ['+norec'] + opts, fq(n), t, kw, 'tcp' if '+tcp' in opts else 'udp'))
    for n, t in ((Z, 'SOA'), ('www', 'A'), ('outside.example.', 'A')):
        for op in (1, 2, 3, 4, 5, 6, 7, 15):
            out.append(('opcode', ['+opcode=%d' % op], fq(n), t, dict(opcode=op, edns=E), 'udp'))
            out.append(('opcode', ['+opcode=%d' % op, '+noedns'], fq(n), t, dict(opcode=op), 'udp'))
        for cl, cn in ((3, 'CH'), (255, 'ANY'), (254, 'NONE'), (4, 'HS'), (2, 'CLASS2')):
            out.append(('class', ['-c', cn], fq(n), t, dict(qclass=cl, edns=E), 'udp'))
    for n in ('version.bind.', 'id.server.', 'hostname.bind.', 'version.server.'):
        out.append(('class', ['-c', 'CH'], n, 'TXT', dict(qclass=3), 'udp'))
    for t in ('TYPE0', 'OPT', 'TSIG', 'TKEY', 'MAILA', 'MAILB', 'TYPE128', 'TYPE248', 'RRSIG', 'NSEC', 'DNSKEY', 'TYPE65535'):
        for n in (Z, 'www', 'nx'):
            out.append(('qtype', ['+norec'], fq(n), t, dict(edns=E), 'udp'))
    return out


# ------------------------------------------------------------------------------ classification
# Each rule: (tag, description, predicate(case, facet, knot_summary, tierdns_summary)). First match wins.
CROSS = re.compile(r'^(cross|crossnx|x\.dn|www\.dn|a\.b\.dn|mail\.dn|todname)\.conf\.test\.$', re.I)
META = {'TYPE0', 'OPT', 'TSIG', 'TKEY', 'MAILA', 'MAILB', 'TYPE128', 'TYPE248'}


def only_cd(k, t):
    return set(t.get('flags', '').split()) ^ set(k.get('flags', '').split()) == {'cd'}


def ref_single_cname(c, k):
    return c['qtype'] == 'ANY' and len(k.get('answer', [])) == 1 and ' CNAME ' in k['answer'][0]


RULES = [
    # ---- known tierdns defects (see the conformance review); a fix should make these vanish
    ('DEFECT-1', 'ANY at a CNAME owner chases the CNAME (RFC 1034 4.3.2 step 3a: ANY matches CNAME; answer is the CNAME alone)',
     lambda c, f, k, t: ref_single_cname(c, k)),
    ('DEFECT-2', 'QTYPE=CNAME below a DNAME: synthesized CNAME is not the final answer, tierdns keeps chasing (NXDOMAIN/NODATA SOA added)',
     lambda c, f, k, t: c['qtype'] == 'CNAME' and re.match(r'^[^.]+\.dn2?\.', c['qname'], re.I)
     and f in ('rcode', 'authority')),
    ('DEFECT-3', 'DNAME substitution longer than 255 octets must be YXDOMAIN (RFC 6672 2.2)',
     lambda c, f, k, t: k.get('rcode') == 'YXDOMAIN'),
    ('DEFECT-4', 'CNAME whose target is below a zone cut: no referral (NS + glue) in authority (RFC 1034 4.3.2 step 3b)',
     lambda c, f, k, t: f in ('authority', 'additional', 'flags') and any(' NS ' in x for x in k.get('authority', []))
     and any(' CNAME ' in x for x in k.get('answer', [])) and not t.get('authority')),
    ('DEFECT-5', 'truncated answer still carries additional records of a dropped RRset (glue without NS, MX addresses without MX)',
     lambda c, f, k, t: 'tc' in t.get('flags', '') and t.get('additional') and f in ('authority', 'additional')
     and not any(' NS ' in x for x in t.get('authority', [])) and not any(' MX ' in x for x in t.get('answer', []))),
    ('DEFECT-6', 'names inside RDATA (NS/SOA/MX/SRV/CNAME/PTR/DNAME) never compressed: larger answers, needless TC on referrals',
     lambda c, f, k, t: (f == 'size' and (t.get('size') or 0) > (k.get('size') or 0)) or (f in ('flags', 'additional') and 'bigdeleg' in c['qname']
                                          and 'tc' in t.get('flags', '') and 'tc' not in k.get('flags', ''))),
    ('DEFECT-7', 'OPT missing from NOTIMP/FORMERR answers to queries that carried one (RFC 6891 7)',
     lambda c, f, k, t: f == 'opt' and t.get('opt') == 'none' and k.get('opt', 'none') != 'none'),
    ('DEFECT-8', 'pool below a DNAME answers A/AAAA from the pool while other types get DNAME synthesis (RFC 6672 2.4: names below a DNAME are occluded)',
     lambda c, f, k, t: c['qname'].lower().startswith('p.dn2.') and any(x.startswith('p.dn2.conf.test. A') for x in t.get('answer', []))),
    # ---- expected: tierdns policy (PRODUCT.md section 9) or a defensible choice, or a Knot quirk
    ('EXPECTED', 'same records, tierdns message smaller (both compress; pointer choices differ, e.g. MNAME/RNAME)',
     lambda c, f, k, t: f == 'size' and (t.get('size') or 0) < (k.get('size') or 0)),
    ('EXPECTED', 'AXFR/IXFR -> REFUSED (PRODUCT 9); Knot says NOTAUTH/NOTIMP',
     lambda c, f, k, t: c['qtype'] in ('AXFR', 'IXFR') and t.get('rcode') == 'REFUSED' and f in ('rcode', 'opt.options')),
    ('EXPECTED', 'Knot adds NSID/Extended DNS Error options; both optional (RFC 5001, 8914)',
     lambda c, f, k, t: f == 'opt.options' and t.get('opt.options') == '-'
     and all(o.split(':')[0] in ('3', '15') for o in k.get('opt.options', '').split())),
    ('EXPECTED', 'tierdns copies CD into the answer (RFC 4035 3.1.6 MUST); Knot clears it',
     lambda c, f, k, t: f == 'flags' and only_cd(k, t) and 'cd' in t.get('flags', '')),
    ('EXPECTED', 'class other than IN -> REFUSED (PRODUCT 9); Knot answers QCLASS ANY from IN data and CH id/version',
     lambda c, f, k, t: c['label'] == 'class' and t.get('rcode') == 'REFUSED'),
    ('EXPECTED', 'meta/reserved QTYPE -> NOTIMP/FORMERR instead of a lookup (RFC 6895 3.1)',
     lambda c, f, k, t: c['qtype'] in META and t.get('rcode') in ('NOTIMP', 'FORMERR')),
    ('EXPECTED', 'NOTIFY/UPDATE -> NOTIMP (RFC 1996 / RFC 2136: not implemented); Knot NOTAUTH/FORMERR',
     lambda c, f, k, t: c['label'] == 'opcode' and f == 'rcode' and t.get('rcode') == 'NOTIMP'),
    ('EXPECTED', 'CNAME/DNAME chains continue into other.test, which tierdns also serves (RFC 1034 4.3.2 step 3a restarts at step 1); Knot stops at the zone edge',
     lambda c, f, k, t: bool(CROSS.match(c['qname'])) or any('other.test.' in x.split()[0] for x in t.get('answer', []) + t.get('authority', []) if f in ('rcode', 'answer', 'authority'))),
    ('EXPECTED', 'additional-section policy: tierdns adds addresses from its other zone; Knot adds additional data for ANY',
     lambda c, f, k, t: f == 'additional' and (c['qtype'] == 'ANY' or all('other.test.' in x.split()[0] for x in t['additional'] if x not in k.get('additional', [])))),
    ('EXPECTED', 'ANY: RFC 8482 lets each server pick the RRset(s) it returns',
     lambda c, f, k, t: c['qtype'] == 'ANY' and f in ('answer', 'answer.ttl', 'flags', 'authority') and k.get('rcode') == t.get('rcode')),
    ('EXPECTED', 'CNAME chain cut at a different length (tierdns follows 8 links, Knot fewer); no RFC limit, the resolver continues',
     lambda c, f, k, t: c['qname'].startswith('long1.') and f in ('answer', 'flags') and k.get('rcode') == t.get('rcode')),
    ('EXPECTED', 'RRset with mixed TTLs served at the lowest (RFC 2181 5.2); Knot keeps another',
     lambda c, f, k, t: f == 'answer.ttl' and 'ttlmix' in c['qname']),
    ('EXPECTED', 'Knot repeats the synthesized CNAME of a self-looping wildcard; tierdns sends it once (RFC 2181 5)',
     lambda c, f, k, t: 'wcloop' in c['qname'] and f == 'answer'),
]


def classify(c, f, k, t):
    for tag, desc, pred in RULES:
        try:
            if pred(c, f, k, t):
                return tag, desc
        except Exception:
            pass
    return 'UNCLASSIFIED', None


def dig(port, qname, qtype, opts):
    qt = qtype if qtype in TYPES or qtype.startswith('TYPE') else qtype
    return "dig @127.0.0.1 -p %d '%s' %s %s" % (port, qname, qt, ' '.join(opts))


def run_matrix(ref, sut, examples, json_out):
    results = []
    for label, opts, qname, qt, kw, tr in cases():
        msg = build_query(qname=qname, qtype=qcode(qt), **kw)
        sums = []
        for port in (ref, sut):
            addr = ('127.0.0.1', port)
            raw = udp(addr, msg) if tr == 'udp' else tcp(addr, msg)[0]
            sums.append(summarize(raw))
        c = dict(label=label, opts=opts, qname=qname, qtype=qt, transport=tr)
        d = [(f, txt) + classify(c, f, sums[0], sums[1]) for f, txt in diff(*sums)]
        results.append((c, d, sums))
    total = len(results)
    differing = [r for r in results if r[1]]
    by_tag = collections.OrderedDict()
    for c, d, s in results:
        for f, txt, tag, desc in d:
            key = (tag, desc if tag != 'UNCLASSIFIED' else '%s: %s' % (f, normalise(txt, c['qname'])))
            by_tag.setdefault(key, []).append((c, f, txt))
    real = [r for r in differing if any(x[2] != 'EXPECTED' for x in r[1])]
    print('== matrix: %d queries, %d identical, %d differ (%d only in EXPECTED ways)' % (
        total, total - len(differing), len(differing), len(differing) - len(real)))
    order = lambda kv: (0 if kv[0][0] == 'UNCLASSIFIED' else 1 if kv[0][0].startswith('DEFECT') else 2, kv[0][0], -len(kv[1]))
    for (tag, desc), items in sorted(by_tag.items(), key=order):
        qs = len({(c['qname'], c['qtype'], tuple(c['opts'])) for c, f, txt in items})
        print('\n[%s] %d queries  %s' % (tag, qs, desc))
        if tag == 'EXPECTED' and examples < 3:
            n = 1
        else:
            n = examples
        seen = set()
        for c, f, txt in items:
            k = (c['qname'], c['qtype'], tuple(c['opts']))
            if k in seen:
                continue
            seen.add(k)
            if len(seen) > n:
                break
            print('    %s    # %s: %s' % (dig(sut, c['qname'], c['qtype'], c['opts']), f, txt[:200]))
    if json_out:
        with open(json_out, 'w') as fh:
            json.dump([dict(case=c, diff=d, knot=s[0], tierdns=s[1]) for c, d, s in results], fh, indent=1, default=str)
    counts = collections.Counter(tag for (tag, desc) in by_tag)
    return sum(1 for (tag, _) in by_tag if tag != 'EXPECTED')


def normalise(text, qname):
    t = text.replace(qname.lower(), '<QNAME>').replace(qname, '<QNAME>')
    t = re.sub(r'\d+\.\d+\.\d+\.\d+', '<IP4>', t)
    t = re.sub(r"\[('[^']*',? ?){3,}\]", '[<many>]', t)
    return t[:160]


# ------------------------------------------------------------------------------ adversarial
def opt_rr(size=1232, version=0, options=b'', owner=b'\x00'):
    return owner + struct.pack('!HHIH', 41, size, version << 16, len(options)) + options


def adversarial(ref, sut):
    Q = name_to_wire('www.conf.test.') + struct.pack('!HH', 1, 1)
    H = lambda qd=1, an=0, ns=0, ar=0, flags=0: struct.pack('!HHHHHH', 0xbeef, flags, qd, an, ns, ar)
    trd = name_to_wire('hmac-sha256.') + struct.pack('!HIH', 0, int(time.time()), 300) + struct.pack('!H', 32) + b'\x11' * 32 + struct.pack('!HHH', 0xbeef, 0, 0)
    TSIG = name_to_wire('key.') + struct.pack('!HHIH', 250, 255, 0, len(trd)) + trd
    bigpad = opt_rr(options=struct.pack('!HH', 12, 4400) + b'\x00' * 4400)
    probes = [
        ('11-byte packet', H()[:11], 'drop (RFC 8906)'),
        ('QR=1', H(flags=0x8000) + Q, 'drop'),
        ('qdcount=0, no OPT', H(qd=0), 'FORMERR'),
        ('qdcount=0 with OPT', H(qd=0, ar=1) + opt_rr(), 'FORMERR with OPT (RFC 6891 7)'),
        ('qdcount=0, OPT version 1', H(qd=0, ar=1) + opt_rr(version=1), 'BADVERS or FORMERR, with OPT'),
        ('qdcount=2', H(qd=2) + Q + Q, 'FORMERR (PRODUCT 9)'),
        ('question cut short', H() + Q[:-2], 'FORMERR or drop'),
        ('compression pointer loop in question', H() + b'\xc0\x0c' + struct.pack('!HH', 1, 1), 'FORMERR or drop, no hang'),
        ('compression pointer to header', H() + b'\x03www\xc0\x00' + struct.pack('!HH', 1, 1), 'FORMERR or drop'),
        ('label of 64 octets', H() + b'\x40' + b'a' * 64 + b'\x00' + struct.pack('!HH', 1, 1), 'FORMERR or drop'),
        ('name of 256 octets', H() + (b'\x3f' + b'a' * 63) * 4 + b'\x00' + struct.pack('!HH', 1, 1), 'FORMERR or drop'),
        ('two OPTs', H(ar=2) + Q + opt_rr() + opt_rr(), 'FORMERR (RFC 6891 6.1.1)'),
        ('OPT in answer section', H(an=1) + Q + opt_rr(), 'FORMERR'),
        ('OPT in authority section', H(ns=1) + Q + opt_rr(), 'FORMERR'),
        ('OPT owner not root', H(ar=1) + Q + opt_rr(owner=name_to_wire('x.')), 'FORMERR or tolerate'),
        ('OPT options overrun RDATA', H(ar=1) + Q + b'\x00' + struct.pack('!HHIH', 41, 1232, 0, 4) + struct.pack('!HH', 10, 8), 'FORMERR'),
        ('arcount=1, nothing there', H(ar=1) + Q, 'FORMERR'),
        ('TSIG last (unknown key)', H(ar=1) + Q + TSIG, 'NOTAUTH/BADKEY if TSIG is implemented; ignored otherwise'),
        ('TSIG then OPT (TSIG not last)', H(ar=2) + Q + TSIG + opt_rr(), 'FORMERR (RFC 8945 5.1) or ignored'),
        ('trailing garbage', H() + Q + b'\xde\xad\xbe\xef', 'FORMERR or answer'),
        ('trailing garbage after OPT', H(ar=1) + Q + opt_rr() + b'\xde\xad\xbe\xef', 'FORMERR or answer'),
        ('NOTIFY with OPT', H(ar=1, flags=4 << 11) + Q + opt_rr(), 'NOTIMP with OPT'),
        ('UDP query of 4.5 KB (padding)', H(ar=1) + Q + bigpad, 'an answer (RFC 8906 3.1)'),
    ]

    def show(port, msg, tr):
        raw = udp(('127.0.0.1', port), msg) if tr == 'udp' else tcp(('127.0.0.1', port), msg)[0]
        s = summarize(raw)
        if s['result'] != 'answer':
            return s['result'] if s['result'] not in ('timeout',) else 'no answer (timeout)'
        return '%s [%s] counts=%s opt=%s%s' % (s['rcode'], s['flags'], '/'.join(map(str, s['counts'])), s['opt'],
                                           (' ' + s['malformed']) if 'malformed' in s else '')
    print('\n== adversarial packets (knot | tierdns | what the RFCs allow)')
    for name, msg, want in probes:
        for tr in ('udp', 'tcp'):
            a, b = show(ref, msg, tr), show(sut, msg, tr)
            print('%s %-38s %s  knot: %-42s tierdns: %-42s want: %s' % ('  ' if a == b else '!=', name, tr, a, b, want))
    print('\n== TCP behaviour')
    for port, who in ((ref, 'knot'), (sut, 'tierdns')):
        addr = ('127.0.0.1', port)
        q = build_query('www.conf.test.', 1, edns=E)
        res = tcp(addr, None, raw=b'\x00\x00' + struct.pack('!H', len(q)) + q, count=2, timeout=2)
        line = ['zero-length msg then query: %s' % [summarize(x).get('rcode', x) if isinstance(x, bytes) else x for x in res]]
        pad = 65535 - len(q) - 4
        big = build_query('www.conf.test.', 1, edns={'size': 1232, 'options': [(12, b'\x00' * pad)]})
        res = tcp(addr, big, timeout=3)
        line.append('64KiB query: %s' % [summarize(x).get('rcode', x) if isinstance(x, bytes) else x for x in res])
        msgs = b''.join(struct.pack('!H', len(m)) + m for m in (build_query('www.conf.test.', 1, qid=i) for i in range(20)))
        res = tcp(addr, None, raw=msgs, count=20)
        line.append('20 pipelined: %d answers' % sum(isinstance(x, bytes) for x in res))
        s = socket.create_connection(addr, timeout=15)
        s.sendall(b'\x00\x40abc')
        t0 = time.time()
        try:
            s.recv(10)
            line.append('stalled partial message: closed after %.1fs' % (time.time() - t0))
        except socket.timeout:
            line.append('stalled partial message: still open after 15s')
        s.close()
        print('%-8s %s' % (who, '; '.join(line)))


def fuzz(sut, n=4000, seed=7):
    rnd = random.Random(seed)
    seeds = [build_query(fq(nm), qcode(t), edns=e) for nm in NAMES[:40] for t in ('A', 'ANY', 'MX', 'NS', 'DS')
             for e in (None, {'size': 1232, 'options': [(10, b'x' * 8)]})]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    answered = servfail = 0
    for _ in range(n):
        m = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 6)):
            op = rnd.random()
            if op < 0.5:
                m[rnd.randrange(len(m))] = rnd.randrange(256)
            elif op < 0.7 and len(m) > 13:
                del m[rnd.randrange(12, len(m)):]
            elif op < 0.85:
                m += bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 30)))
            elif len(m) > 12:
                j = rnd.randrange(12, len(m)); m[j:j] = b'\xc0' + bytes([rnd.randrange(256)])
        m[2] &= 0x7f
        s.sendto(bytes(m), ('127.0.0.1', sut))
        try:
            d = s.recvfrom(65535)[0]
            answered += 1
            servfail += (d[3] & 0xf) == 2
        except socket.timeout:
            pass
    alive = udp(('127.0.0.1', sut), build_query('www.conf.test.', 1)) is not None
    print('\n== fuzz: %d mutated queries, %d answered, %d SERVFAIL (answer-path exceptions), server alive after: %s'
          % (n, answered, servfail, alive))
    return servfail == 0 and alive


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'gen':
        gen(sys.argv[2])
    elif cmd == 'ports':
        print(' '.join(map(str, free_ports(int(sys.argv[2])))))
    elif cmd == 'run':
        ref, sut, examples, json_out = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        problems = run_matrix(ref, sut, examples, json_out)
        adversarial(ref, sut)
        ok = fuzz(sut)
        print('\n== summary: %d difference kinds that are not EXPECTED (KNOWN DEFECT or UNCLASSIFIED); fuzz %s'
              % (problems, 'ok' if ok else 'FAILED'))
        sys.exit(0 if problems == 0 and ok else 1)
PY

python3 "$WORK/conf.py" gen "$WORK"
read -r KNOT_PORT TIERDNS_PORT < <(python3 "$WORK/conf.py" ports 2)

# ---- tierdns: pools in a private file store, then the server
STORE="file:$WORK/store.json"
while read -r pool ips; do
  node dist/cli.js pool set "$pool" --check none --ttl 20 --store "$STORE" --zones "$WORK/zones" >/dev/null
  for ip in $ips; do node dist/cli.js member add "$pool" "$ip" --store "$STORE" --zones "$WORK/zones" >/dev/null; done
done < "$WORK/pools.txt"
node dist/cli.js serve --zones "$WORK/zones" --listen "127.0.0.1:$TIERDNS_PORT" --store "$STORE" \
  --state-dir "$WORK/state" --log-level warn >"$WORK/tierdns.log" 2>&1 &
PIDS+=($!)

# ---- knotd with the same zones (pool members as static records)
cat > "$WORK/knot/knot.conf" <<EOF
server:
    rundir: "$WORK/knot"
    pidfile: "$WORK/knot/knot.pid"
    listen: 127.0.0.1@$KNOT_PORT
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$WORK/knot/db"
control:
    listen: "$WORK/knot/knot.sock"
template:
  - id: default
    storage: "$WORK/knot/zones"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: conf.test
    file: "conf.test.zone"
  - domain: other.test
    file: "other.test.zone"
EOF
knotc -c "$WORK/knot/knot.conf" conf-check >/dev/null
knotd -c "$WORK/knot/knot.conf" >"$WORK/knot.log" 2>&1 &
PIDS+=($!)

# ---- wait until both answer the apex SOA over UDP and TCP
for port in "$KNOT_PORT" "$TIERDNS_PORT"; do
  for i in $(seq 1 100); do
    if dig @127.0.0.1 -p "$port" conf.test SOA +short +tries=1 +time=1 2>/dev/null | grep -q hostmaster \
       && dig @127.0.0.1 -p "$port" conf.test SOA +tcp +short +tries=1 +time=1 2>/dev/null | grep -q hostmaster; then
      break
    fi
    if [ "$i" = 100 ]; then
      echo "conformance: server on port $port never answered; logs:" >&2
      cat "$WORK/tierdns.log" "$WORK/knot.log" >&2
      exit 2
    fi
    sleep 0.2
  done
done
echo "conformance: knotd $(knotd --version | grep -o '[0-9][0-9.]*' | head -1) on 127.0.0.1:$KNOT_PORT, tierdns on 127.0.0.1:$TIERDNS_PORT (TIERDNS_NATIVE=${TIERDNS_NATIVE:-unset})"

set +e
python3 "$WORK/conf.py" run "$KNOT_PORT" "$TIERDNS_PORT" "${EXAMPLES:-2}" "$WORK/results.json"
rc=$?
set -e
if [ -s "$WORK/tierdns.log" ]; then echo; echo "== tierdns log (warnings and errors)"; head -20 "$WORK/tierdns.log"; fi
if [ -n "${STRICT:-}" ]; then exit "$rc"; fi
exit 0
