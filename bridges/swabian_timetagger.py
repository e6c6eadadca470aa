#!/usr/bin/env python3
"""qscope bridge for a Swabian Instruments Time Tagger as an HBT correlator (docs/BRIDGE.md, kind `hbt`).

    python3 swabian_timetagger.py --control tcp://127.0.0.1:5600 --channels 1,2            # the SDK (TimeTagger module)
    python3 swabian_timetagger.py --fake --control 'tcp://127.0.0.1:*'                     # no hardware, no SDK

Methods: `geometry`, `histogram {integrationMs}` (Time Tagger `Correlation`), `countRate {integrationMs}`
(`Countrate`), and `tags {integrationMs}` (`TimeTagStream`: raw tags as f64 [n, 2] = (time ps, channel)).

Bin width. `Correlation(tagger, channel_1, channel_2, binwidth, n_values)` takes the bin width as an integer
number of picoseconds, and qscope's default delay axis is 215 bins over 500 ns (2325.58 ps per bin). The bridge
asks for binwidth = round(rangeNs * 1000 / bins) = 2326 ps, so the axis really spans 215 × 2.326 ns = 500.09 ns,
and reports exactly that (`binWidthNs: 2.326`) in `geometry` and in every histogram's header: qscope's
estimators use the bin width the instrument reports, never the nominal one. The zero-delay bin is the one whose
`getIndex()` value is closest to 0 (the centre bin, 107, for an odd bin count); the delay is
t(channel_2) − t(channel_1), i.e. `--channels START,STOP`.
"""
import math
import random
import sys
import time

from qscope_bridge import BridgeError, BridgeServer, Frame, Instrument, announce, curve_from, main_args

INTEGRATION = {"type": "object", "additionalProperties": False, "required": ["integrationMs"],
               "properties": {"integrationMs": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600000, "unit": "ms"}}}


def integration_s(params):
    ms = params.get("integrationMs")
    if not isinstance(ms, (int, float)) or not (0 < ms <= 3600000):
        raise BridgeError("BAD_REQUEST", "integrationMs: must be a number in (0, 3600000], got %r" % (ms,))
    return ms / 1000.0


def poisson(rng, lam):
    if lam < 30:
        L, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= rng.random()
            if p <= L:
                return k
            k += 1
    return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))


class FakeTagger:
    """A single NV centre seen by two detectors: g2(τ) = 1 − 0.8·e^(−|τ|/12 ns), 40 kcounts/s, η = 0.01."""

    def __init__(self, seed, bins, bin_ps):
        self.rng = random.Random(seed)
        self.bins, self.bin_ps = bins, bin_ps
        self.index = [(i - (bins - 1) // 2) * bin_ps for i in range(bins)]
        self.rate = 40000.0

    def correlate(self, T):
        r = self.rate / 2
        h = []
        for tau in self.index:
            g2 = 1 - 0.8 * math.exp(-abs(tau) / 12000.0)
            h.append(poisson(self.rng, 0.01 * r * r * self.bin_ps * 1e-12 * T * g2))
        return h, poisson(self.rng, self.rate * T)

    def count(self, T):
        return poisson(self.rng, self.rate * T)

    def tags(self, T, channels):
        out, t = [], 0.0
        while True:
            t += self.rng.expovariate(self.rate) * 1e12
            if t >= T * 1e12:
                return out
            out.append((t, channels[self.rng.randrange(2)]))


class SdkTagger:
    """The Time Tagger SDK: Correlation + Countrate run together (SynchronizedMeasurements)."""

    def __init__(self, serial, channels, bins, bin_ps):
        import TimeTagger  # Swabian's Python module, installed with their software
        self.TT = TimeTagger
        self.tagger = TimeTagger.createTimeTagger(serial or "")
        self.channels = channels
        self.corr = TimeTagger.Correlation(self.tagger, channels[0], channels[1], binwidth=bin_ps, n_values=bins)
        self.index = list(self.corr.getIndex())
        self.countrate = TimeTagger.Countrate(self.tagger, list(channels))
        self.sdk_version = getattr(TimeTagger, "getVersion", lambda: "?")()
        self.model = self.tagger.getModel() if hasattr(self.tagger, "getModel") else "Time Tagger"
        self.serial = self.tagger.getSerial()

    def correlate(self, T):
        sm = self.TT.SynchronizedMeasurements(self.tagger)
        corr = self.TT.Correlation(sm.getTagger(), self.channels[0], self.channels[1], binwidth=self.index[1] - self.index[0], n_values=len(self.index))
        cr = self.TT.Countrate(sm.getTagger(), list(self.channels))
        sm.startFor(int(T * 1e12))
        sm.waitUntilFinished()
        return [int(x) for x in corr.getData()], int(round(sum(cr.getData()) * T))

    def count(self, T):
        self.countrate.startFor(int(T * 1e12))
        self.countrate.waitUntilFinished()
        return int(round(sum(self.countrate.getData()) * T))

    def tags(self, T, channels):
        stream = self.TT.TimeTagStream(self.tagger, 10_000_000, list(channels))
        stream.startFor(int(T * 1e12))
        stream.waitUntilFinished()
        buf = stream.getData()
        return list(zip((float(x) for x in buf.getTimestamps()), (int(c) for c in buf.getChannels())))


class Correlator(Instrument):
    kind = "hbt"
    channels = [{"name": "histogram", "dtype": "u32", "unit": "counts"}, {"name": "rate", "dtype": "f64", "unit": "counts/s"}]
    commands = {
        "geometry": {"description": "delay axis: bins, bin width, zero bin, jitter", "params": {"type": "object"}, "mutating": False},
        "histogram": {"description": "Correlation histogram over integrationMs", "params": INTEGRATION, "mutating": True},
        "countRate": {"description": "photon rate on both channels", "params": INTEGRATION, "mutating": True},
        "tags": {"description": "raw time tags (TimeTagStream): f64 [n, 2] = (time ps, channel)", "params": INTEGRATION, "mutating": True},
    }

    def __init__(self, id, backend, jitter_ns, tag_channels):
        super().__init__(id)
        self.b = backend
        self.tag_channels = tag_channels
        idx = backend.index
        self.bin_ps = idx[1] - idx[0]
        self.zero = min(range(len(idx)), key=lambda i: abs(idx[i]))
        self.geom = {"bins": len(idx), "binWidthNs": self.bin_ps / 1000.0, "zeroBin": self.zero, "jitterNs": jitter_ns}
        self.model = getattr(backend, "model", "fake Time Tagger")
        self.serial = str(getattr(backend, "serial", "fake"))

    def m_geometry(self, _):
        return dict(self.geom)

    def m_histogram(self, params):
        T = integration_s(params)
        h, counts = self.b.correlate(T)
        return Frame("u32", [len(h)], h, integrationS=T, binWidthNs=self.geom["binWidthNs"], zeroBin=self.zero,
                     jitterNs=self.geom["jitterNs"], counts=counts, events=sum(h))

    def m_countRate(self, params):
        T = integration_s(params)
        counts = self.b.count(T)
        return Frame("f64", [1], [counts / T], counts=counts, integrationS=T)

    def m_tags(self, params):
        T = integration_s(params)
        tags = self.b.tags(T, self.tag_channels)
        flat = [x for tc in tags for x in tc]
        return Frame("f64", [len(tags), 2], flat, integrationS=T)


def main(argv=None):
    p = main_args(__doc__.splitlines()[0], "simulated tagger (no SDK, no hardware)")
    p.add_argument("--serial", default="", help="Time Tagger serial (default: the first found)")
    p.add_argument("--channels", default="1,2", help="START,STOP input channels")
    p.add_argument("--bins", type=int, default=215)
    p.add_argument("--range-ns", type=float, default=500.0)
    p.add_argument("--jitter-ps", type=float, default=42.0, help="total timing jitter σ reported in geometry")
    a = p.parse_args(argv)
    channels = tuple(int(c) for c in a.channels.split(","))
    bin_ps = int(round(a.range_ns * 1000 / a.bins))
    if a.fake:
        backend, sdk = FakeTagger(a.seed, a.bins, bin_ps), {"name": "fake", "version": "0"}
    else:
        backend = SdkTagger(a.serial, channels, a.bins, bin_ps)
        sdk = {"name": "TimeTagger", "version": str(backend.sdk_version)}
    server = BridgeServer("swabian-timetagger", "0.1.0", sdk, [Correlator("tagger0", backend, a.jitter_ps / 1000.0, channels)],
                          control=a.control, heartbeat_ms=a.heartbeat_ms, curve=curve_from(a.curve))
    server.serve(ready=announce)


if __name__ == "__main__":
    sys.exit(main())
