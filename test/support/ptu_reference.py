"""NumPy reference for `qscope convert ptu` (single spot): decodes a PTU file with vectorised
NumPy from the format description and histograms every A-B photon pair of each window.
Usage: python3 ptu_reference.py FILE BINS RANGE_NS WINDOW_S CH_A CH_B  -> JSON {k, histograms, counts}"""
import json, struct, sys
import numpy as np

f, bins, range_ns, window_s, cha, chb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
data = open(f, 'rb').read()
assert data[:6] == b'PQTTTR'
off, tags = 16, {}
while True:
    ident = data[off:off + 32].split(b'\0')[0].decode()
    idx, typ = struct.unpack('<iI', data[off + 32:off + 40])
    val = data[off + 40:off + 48]
    off += 48
    if typ in (0x2001FFFF, 0x4001FFFF, 0x4002FFFF, 0xFFFFFFFF):
        off += struct.unpack('<q', val)[0]
        continue
    if ident == 'Header_End':
        break
    tags[ident] = struct.unpack('<d', val)[0] if typ in (0x20000008, 0x21000008) else struct.unpack('<q', val)[0]
rt, n = tags['TTResultFormat_TTTRRecType'], tags['TTResult_NumberOfRecords']
w = np.frombuffer(data, dtype='<u4', count=n, offset=off).astype(np.int64)
G = round(tags['MeasDesc_GlobalResolution'] * 1e12 * 1e6) / 1e6
R = round(tags['MeasDesc_Resolution'] * 1e12 * 1e6) / 1e6
fam = {0x00010303: 'pt3', 0x00010203: 'pt2'}.get(rt, 'ht3' if (rt & 0xFF00) == 0x0300 else 'ht2')
v1 = rt in (0x00010304, 0x00010204)
if fam == 'pt3':
    ch, dt, ns = w >> 28, (w >> 16) & 0xFFF, w & 0xFFFF
    ofl = np.cumsum((ch == 15) & ((dt & 15) == 0)) * 65536
    phot, c, t = ch != 15, ch, (ofl + ns) * G + dt * R
elif fam == 'pt2':
    ch, tm = w >> 28, w & 0x0FFFFFFF
    ofl = np.cumsum((ch == 15) & ((tm & 15) == 0)) * 210698240
    phot, c, t = ch != 15, ch, (ofl + tm) * G
elif fam == 'ht3':
    sp, ch, dt, ns = w >> 31, (w >> 25) & 63, (w >> 10) & 0x7FFF, w & 1023
    ovf = (sp == 1) & (ch == 63)
    ofl = np.cumsum(np.where(ovf, 1 if v1 else np.where(ns == 0, 1, ns), 0)) * 1024
    phot, c, t = sp == 0, ch + 1, (ofl + ns) * G + dt * R
else:
    sp, ch, tm = w >> 31, (w >> 25) & 63, w & 0x1FFFFFF
    ovf = (sp == 1) & (ch == 63)
    ofl = np.cumsum(np.where(ovf, 1, 0)) * 33552000 if v1 else np.cumsum(np.where(ovf, np.where(tm == 0, 1, tm), 0)) * 33554432
    phot, c, t = sp == 0, ch + 1, (ofl + tm) * G
wps = window_s * 1e12
k = int(np.floor(tags['MeasDesc_AcquisitionTime'] / 1000 * 1e12 / wps))
bw = range_ns * 1000 / bins
zero = bins // 2
lo = -(zero + 0.5) * bw
sel = phot & ((c == cha) | (c == chb))
t, c = t[sel], c[sel]
win = np.floor(t / wps)
H = np.zeros((k, bins), dtype=np.int64)
counts = np.zeros(k)
for j in range(k):
    a, b = t[(win == j) & (c == cha)], t[(win == j) & (c == chb)]
    counts[j] = len(a) + len(b)
    tau = (b[None, :] - a[:, None]).ravel()
    idx = np.floor((tau - lo) / bw)
    idx = idx[(idx >= 0) & (idx < bins)].astype(np.int64)
    H[j] = np.bincount(idx, minlength=bins)
print(json.dumps({'k': k, 'histograms': H.tolist(), 'counts': counts.tolist()}))
