#!/usr/bin/env python3
"""qscope bridge for a GigE Vision / GenICam camera through Aravis (docs/BRIDGE.md, kind `camera`), e.g. a Kerr
microscope's camera.

    python3 aravis_camera.py --device 'Aravis-Fake-GV01' --pixel-size-nm 80      # Debian: gir1.2-aravis-0.8 python3-gi
    python3 aravis_camera.py --fake --control 'tcp://127.0.0.1:*'                 # no camera, no Aravis

Methods: `info`, `configure {roi, binning}`, `snap {exposureMs}` (one frame, f32 [rows, cols, 1], Kerr mode:
the S_z contrast is in the signal) and `stream.start {exposureMs}` / `stream.stop` (free run, frames on topic
`<id>/frame`). The calibration S = (value − offset) / gain comes from --offset and --gain (measure them on a
saturated sample). Aravis' own protocol-level fake camera (`arv-fake-gv-camera-0.8`, package aravis-tools)
streams frames only when this bridge does not run as root.
"""
import math
import random
import sys
import threading

from qscope_bridge import BridgeError, BridgeServer, Frame, Instrument, announce, curve_from, main_args

ROI = {"type": "object", "required": ["x", "y", "width", "height"],
       "properties": {k: {"type": "integer", "minimum": 0 if k in "xy" else 1} for k in ("x", "y", "width", "height")}}


class FakeCamera:
    """A 128×128 sensor looking at stripe domains (period 24 px) with shot noise."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.width, self.height = 128, 128
        self.roi, self.binning = (0, 0, 128, 128), 1

    def set_roi(self, x, y, w, h, b):
        self.roi, self.binning = (x, y, w, h), b

    def grab(self, exposure_ms):
        x0, y0, w, h = self.roi
        b = self.binning
        n0 = 200.0 * exposure_ms * b * b
        out = []
        for r in range(h // b):
            for c in range(w // b):
                sz = 1.0 if math.sin(2 * math.pi * (x0 + c * b + 0.3 * (y0 + r * b)) / 24) >= 0 else -1.0
                mean = n0 * (1 + 0.05 * sz) + 100
                out.append(mean + self.rng.gauss(0, math.sqrt(mean + 25)))
        return out


class AravisCamera:
    def __init__(self, device):
        import gi
        gi.require_version("Aravis", "0.8")
        from gi.repository import Aravis
        self.A = Aravis
        self.cam = Aravis.Camera.new(device)
        self.width, self.height = self.cam.get_sensor_size()
        x, y, w, h = self.cam.get_region()
        self.roi, self.binning = (x, y, w, h), self.cam.get_binning()[0]
        self.model = self.cam.get_model_name()
        self.serial = self.cam.get_device_serial_number() if hasattr(self.cam, "get_device_serial_number") else ""
        self.version = "%d.%d.%d" % (Aravis.MAJOR_VERSION, Aravis.MINOR_VERSION, Aravis.MICRO_VERSION) if hasattr(Aravis, "MAJOR_VERSION") else "0.8"

    def set_roi(self, x, y, w, h, b):
        self.cam.set_binning(b, b)
        self.cam.set_region(x, y, w // b, h // b)
        rx, ry, rw, rh = self.cam.get_region()
        self.roi, self.binning = (rx, ry, rw * b, rh * b), self.cam.get_binning()[0]

    def grab(self, exposure_ms):
        import array
        self.cam.set_exposure_time(exposure_ms * 1000.0)
        buf = self.cam.acquisition(int((exposure_ms + 5000) * 1000))
        if buf is None or buf.get_status() != self.A.BufferStatus.SUCCESS:
            raise BridgeError("SDK", "Aravis acquisition failed (status %s)" % (buf.get_status() if buf else "no buffer"))
        data = buf.get_data()
        fmt = buf.get_image_pixel_format()
        if fmt == self.A.PIXEL_FORMAT_MONO_8:
            return [float(v) for v in data]
        if fmt in (self.A.PIXEL_FORMAT_MONO_16, self.A.PIXEL_FORMAT_MONO_12, self.A.PIXEL_FORMAT_MONO_10):
            a = array.array("H", data)
            if sys.byteorder != "little":
                a.byteswap()
            return [float(v) for v in a]
        raise BridgeError("SDK", "pixel format 0x%08x not supported (use Mono8/10/12/16)" % fmt)


class Camera(Instrument):
    kind = "camera"
    channels = [{"name": "frame", "dtype": "f32", "unit": "signal"}]
    commands = {
        "info": {"description": "mode, sensor, ROI, binning", "params": {"type": "object"}, "mutating": False},
        "configure": {"description": "set ROI (unbinned pixels) and binning", "params": {"type": "object", "required": ["roi"], "properties": {"roi": ROI, "binning": {"type": "integer", "minimum": 1}}}, "mutating": True},
        "snap": {"description": "one exposure", "params": {"type": "object", "required": ["exposureMs"], "properties": {"exposureMs": {"type": "number", "exclusiveMinimum": 0}}}, "mutating": True},
        "stream.start": {"description": "free run; frames on <id>/frame", "params": {"type": "object", "required": ["exposureMs"]}, "mutating": True},
        "stream.stop": {"description": "stop the free run", "params": {"type": "object"}, "mutating": True},
    }

    def __init__(self, id, backend, pixel_size_nm, offset, gain, server_ref):
        super().__init__(id)
        self.b = backend
        self.pixel_size_nm, self.offset, self.gain = pixel_size_nm, offset, gain
        self.model = getattr(backend, "model", "fake camera")
        self.serial = getattr(backend, "serial", "fake")
        self.server_ref = server_ref
        self.lock = threading.Lock()
        self.streaming = None

    def _info(self):
        x, y, w, h = self.b.roi
        return {"mode": "kerr", "sensor": {"width": self.b.width, "height": self.b.height, "pixelSizeNm": self.pixel_size_nm},
                "roi": {"x": x, "y": y, "width": w, "height": h}, "binning": self.b.binning}

    def m_info(self, _):
        return self._info()

    def m_configure(self, p):
        r, b = p.get("roi") or {}, p.get("binning", self.b.binning)
        try:
            x, y, w, h = int(r["x"]), int(r["y"]), int(r["width"]), int(r["height"])
        except (KeyError, TypeError, ValueError):
            raise BridgeError("BAD_REQUEST", "roi: needs integer x, y, width, height")
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > self.b.width or y + h > self.b.height:
            raise BridgeError("OUT_OF_RANGE", "roi %r leaves the %d×%d sensor" % (r, self.b.width, self.b.height))
        if not isinstance(b, int) or b < 1 or w % b or h % b:
            raise BridgeError("OUT_OF_RANGE", "roi %d×%d is not a multiple of binning %r" % (w, h, b))
        if self.streaming:
            raise BridgeError("BUSY", "stop the stream before configuring")
        with self.lock:
            self.b.set_roi(x, y, w, h, b)
        return {}

    def _frame(self, exposure_ms):
        with self.lock:
            data = self.b.grab(exposure_ms)
            x, y, w, h = self.b.roi
            b = self.b.binning
        return Frame("f32", [h // b, w // b, 1], data, mode="kerr", components=["Sz"], exposureMs=exposure_ms,
                     pixelSizeNm=self.pixel_size_nm * b, roi={"x": x, "y": y, "width": w, "height": h}, binning=b,
                     calibration={"offset": self.offset, "gain": self.gain})

    def m_snap(self, p):
        ms = p.get("exposureMs")
        if not isinstance(ms, (int, float)) or not ms > 0:
            raise BridgeError("BAD_REQUEST", "exposureMs: must be a number > 0, got %r" % (ms,))
        if self.streaming:
            raise BridgeError("BUSY", "the camera is streaming")
        return self._frame(ms)

    def m_stream_start(self, p):
        ms = p.get("exposureMs")
        if not isinstance(ms, (int, float)) or not ms > 0:
            raise BridgeError("BAD_REQUEST", "exposureMs: must be a number > 0")
        if self.streaming:
            return {}
        stop = threading.Event()
        self.streaming = stop

        def run():  # the grab runs here; publishing happens on the server thread's socket via a queue-free lock
            while not stop.is_set():
                f = self._frame(ms)
                self.server_ref[0].publish_threadsafe(self.id, "frame", f)
        threading.Thread(target=run, daemon=True).start()
        return {}

    def m_stream_stop(self, _):
        self.client_gone()
        return {}

    def client_gone(self):
        if self.streaming:
            self.streaming.set()
            self.streaming = None


def main(argv=None):
    p = main_args(__doc__.splitlines()[0], "synthetic stripe-domain camera (no Aravis, no camera)")
    p.add_argument("--device", default=None, help="Aravis device id (default: the first camera found)")
    p.add_argument("--pixel-size-nm", type=float, default=80.0, help="one unbinned sensor pixel in the sample plane")
    p.add_argument("--offset", type=float, default=0.0)
    p.add_argument("--gain", type=float, default=1.0)
    a = p.parse_args(argv)
    if a.fake:
        backend, sdk = FakeCamera(a.seed), {"name": "fake", "version": "0"}
    else:
        backend = AravisCamera(a.device)
        sdk = {"name": "Aravis", "version": backend.version}
    ref = [None]
    cam = Camera("cam0", backend, a.pixel_size_nm, a.offset, a.gain, ref)
    server = BridgeServer("aravis-camera", "0.1.0", sdk, [cam], control=a.control, heartbeat_ms=a.heartbeat_ms, curve=curve_from(a.curve))
    ref[0] = server
    server.serve(ready=announce)


if __name__ == "__main__":
    sys.exit(main())
