#!/usr/bin/env python3
"""qscope bridge for a Zurich Instruments MFLI lock-in reading an MRFM force sensor (docs/BRIDGE.md, kind `force`).

    python3 zi_mfli.py --device dev5000 --newtons-per-volt 2.0e-15     # zhinst-core (pip install zhinst-core)
    python3 zi_mfli.py --fake --control 'tcp://127.0.0.1:*'           # no lock-in (the only backend tested here)

Methods: `settings` (resonator and lock-in settings, from the command line; the demodulator's time constant gives
the bandwidth) and `quadratures {Tm}`: the demodulator's (X, Y) samples over Tm seconds, f64 [n, 2] in aN
(volts × --newtons-per-volt × 1e18). qscope computes the in-minus-out force variance from them.
The zhinst-core path follows Zurich Instruments' documented API (ziDAQServer, subscribe, poll) but has not run
against a lock-in here.
"""
import math
import random
import sys

from qscope_bridge import BridgeError, BridgeServer, Frame, Instrument, announce, curve_from, main_args


class FakeLockin:
    """Thermal noise σ_th² = S_th²·Δf in both quadratures, plus a spin variance in X."""

    def __init__(self, seed, s, spin_var):
        self.rng = random.Random(seed)
        self.s, self.spin_var = s, spin_var

    def samples(self, Tm):
        n = max(2, int(round(Tm * self.s["lockinRateHz"])))
        th = self.s["sThAnPerRtHz"] ** 2 * self.s["bandwidthHz"]
        sx, sy = math.sqrt(th + self.spin_var), math.sqrt(th)
        out = []
        for _ in range(n):
            out += [self.rng.gauss(0, sx), self.rng.gauss(0, sy)]
        return out


class MfliLockin:
    def __init__(self, device, host, demod, newtons_per_volt, s):
        import zhinst.core
        self.daq = zhinst.core.ziDAQServer(host, 8004, 6)
        self.daq.connectDevice(device, "1GbE")
        self.path = "/%s/demods/%d/sample" % (device, demod)
        self.daq.setDouble("/%s/demods/%d/rate" % (device, demod), s["lockinRateHz"])
        self.scale = newtons_per_volt * 1e18
        self.version = zhinst.core.__version__

    def samples(self, Tm):
        self.daq.sync()
        self.daq.subscribe(self.path)
        try:
            data = self.daq.poll(Tm, 500, 0, True)
        finally:
            self.daq.unsubscribe(self.path)
        d = data.get(self.path)
        if not d:
            raise BridgeError("SDK", "no demodulator samples in %g s" % Tm)
        out = []
        for x, y in zip(d["x"], d["y"]):
            out += [x * self.scale, y * self.scale]
        return out


class ForceSensor(Instrument):
    kind = "force"
    channels = [{"name": "quadratures", "dtype": "f64", "unit": "aN"}]
    commands = {
        "settings": {"description": "resonator and lock-in settings", "params": {"type": "object"}, "mutating": False},
        "quadratures": {"description": "(X, Y) samples over Tm seconds", "params": {"type": "object", "required": ["Tm"], "properties": {"Tm": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400}}}, "mutating": True},
    }
    model = "MFLI"

    def __init__(self, id, backend, s):
        super().__init__(id)
        self.b, self.s = backend, s

    def m_settings(self, _):
        return dict(self.s)

    def m_quadratures(self, p):
        Tm = p.get("Tm")
        if not isinstance(Tm, (int, float)) or not (0 < Tm <= 86400):
            raise BridgeError("BAD_REQUEST", "Tm: must be a number of seconds in (0, 86400], got %r" % (Tm,))
        xy = self.b.samples(Tm)
        return Frame("f64", [len(xy) // 2, 2], xy, rateHz=self.s["lockinRateHz"])


def main(argv=None):
    p = main_args(__doc__.splitlines()[0], "simulated lock-in (no zhinst-core, no instrument)")
    p.add_argument("--device", default="dev0")
    p.add_argument("--host", default="localhost", help="LabOne data server")
    p.add_argument("--demod", type=int, default=0)
    p.add_argument("--newtons-per-volt", type=float, default=1e-15)
    p.add_argument("--geometry", choices=["cantilever", "membrane"], default="cantilever")
    p.add_argument("--resonance-hz", type=float, default=3000.0)
    p.add_argument("--q", type=float, default=20000.0)
    p.add_argument("--temperature-k", type=float, default=4.0)
    p.add_argument("--sth-an-per-rthz", type=float, default=10.0)
    p.add_argument("--bandwidth-hz", type=float, default=10.0)
    p.add_argument("--lockin-rate-hz", type=float, default=100.0)
    p.add_argument("--fake-spin-variance", type=float, default=400.0, help="fake backend: σ_spin² in aN²")
    a = p.parse_args(argv)
    s = {"geometry": a.geometry, "resonanceHz": a.resonance_hz, "q": a.q, "temperatureK": a.temperature_k,
         "sThAnPerRtHz": a.sth_an_per_rthz, "bandwidthHz": a.bandwidth_hz, "lockinRateHz": a.lockin_rate_hz}
    if a.fake:
        backend, sdk = FakeLockin(a.seed, s, a.fake_spin_variance), {"name": "fake", "version": "0"}
    else:
        backend = MfliLockin(a.device, a.host, a.demod, a.newtons_per_volt, s)
        sdk = {"name": "zhinst-core", "version": backend.version}
    server = BridgeServer("zi-mfli", "0.1.0", sdk, [ForceSensor("mfli0", backend, s)], control=a.control, heartbeat_ms=a.heartbeat_ms, curve=curve_from(a.curve))
    server.serve(ready=announce)


if __name__ == "__main__":
    sys.exit(main())
