"""Tests of the reference bridges with their --fake backends, over real ZeroMQ sockets (ephemeral ports).
Run: python3 -m unittest discover -s bridges/tests  (needs python3-zmq)."""
import json
import os
import signal
import struct
import subprocess
import sys
import time
import unittest

import zmq

HERE = os.path.dirname(os.path.abspath(__file__))
BRIDGES = os.path.dirname(HERE)


class Client:
    """A minimal qscope side: DEALER, hello, requests with ids, ping."""

    def __init__(self, endpoint):
        self.ctx = zmq.Context.instance()
        self.s = self.ctx.socket(zmq.DEALER)
        self.s.setsockopt(zmq.LINGER, 0)
        self.s.setsockopt(zmq.RCVTIMEO, 10000)
        self.s.connect(endpoint)
        self.n = 0

    def send(self, env):
        self.s.send_multipart([json.dumps(env).encode()])

    def recv(self):
        parts = self.s.recv_multipart()
        return json.loads(parts[0]), (parts[1] if len(parts) > 1 else None)

    def request(self, method, params=None, instrument=None, v=1):
        self.n += 1
        rid = "t-%d" % self.n
        env = {"v": v, "type": "request", "id": rid, "method": method, "params": params or {}, "deadlineMs": 5000}
        if instrument:
            env["instrument"] = instrument
        self.send(env)
        while True:
            r, payload = self.recv()
            if r.get("type") == "reply" and r.get("id") == rid:
                return r, payload

    def close(self):
        self.s.close()


class BridgeProcess:
    def __init__(self, script, *args):
        self.p = subprocess.Popen([sys.executable, os.path.join(BRIDGES, script), "--fake", "--control", "tcp://127.0.0.1:*", "--heartbeat-ms", "200", *args],
                                  stdout=subprocess.PIPE, text=True, cwd=BRIDGES)
        line = self.p.stdout.readline()
        if not line.startswith("READY "):
            self.p.kill()
            raise RuntimeError("bridge did not start: %r" % line)
        self.endpoint = line.split()[1]

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(10)
        self.p.stdout.close()


def unpack(head, payload):
    fmt = {"f64": "d", "f32": "f", "u32": "I"}[head["dtype"]]
    n = 1
    for s in head["shape"]:
        n *= s
    return list(struct.unpack("<%d%s" % (n, fmt), payload))


class Common:
    script = None
    kind = None

    def setUp(self):
        self.b = BridgeProcess(self.script)
        self.c = Client(self.b.endpoint)

    def tearDown(self):
        self.c.close()
        self.b.stop()

    def hello(self):
        r, _ = self.c.request("hello", {"protocols": [1], "client": "test"})
        self.assertEqual(r["result"]["protocol"], 1)
        inst = r["result"]["instruments"]
        self.assertEqual(len(inst), 1)
        self.assertEqual(inst[0]["kind"], self.kind)
        self.assertTrue(r["result"]["data"].startswith("tcp://"))
        return inst[0]["id"]

    def test_protocol_refused_and_heartbeat_and_errors(self):
        r, _ = self.c.request("hello", {"protocols": [7]})
        self.assertEqual(r["error"]["code"], "PROTOCOL")
        self.assertIn("protocol 1 only", r["error"]["message"])
        iid = self.hello()
        self.c.send({"v": 1, "type": "ping", "t": 5})
        r, _ = self.c.recv()
        self.assertEqual(r, {"v": 1, "type": "pong", "t": 5})
        r, _ = self.c.request("nosuch", {}, iid)
        self.assertEqual(r["error"]["code"], "UNKNOWN_METHOD")
        r, _ = self.c.request("describe", {}, None, v=2)
        self.assertEqual(r["error"]["code"], "PROTOCOL")
        r, _ = self.c.request("settings", {}, "ghost")
        self.assertEqual(r["error"]["code"], "UNKNOWN_INSTRUMENT")

    def test_bye_on_shutdown(self):
        self.hello()
        self.b.p.send_signal(signal.SIGTERM)
        r, _ = self.c.recv()
        self.assertEqual(r["type"], "bye")
        self.assertEqual(self.b.p.wait(10), 0)


class TestCurve(unittest.TestCase):
    def test_only_allowed_client_keys_pass(self):
        import tempfile
        spub, ssec = zmq.curve_keypair()
        cpub, csec = zmq.curve_keypair()
        opub, osec = zmq.curve_keypair()
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"secretKey": ssec.decode(), "publicKey": spub.decode(), "allow": [cpub.decode()]}, f)
        b = BridgeProcess("zi_mfli.py", "--curve", f.name)
        try:
            def client(pub, sec):
                c = Client.__new__(Client)
                c.ctx, c.n = zmq.Context.instance(), 0
                c.s = c.ctx.socket(zmq.DEALER)
                c.s.setsockopt(zmq.LINGER, 0)
                c.s.setsockopt(zmq.RCVTIMEO, 1500)
                c.s.curve_serverkey, c.s.curve_publickey, c.s.curve_secretkey = spub, pub, sec
                c.s.connect(b.endpoint)
                return c
            good = client(cpub, csec)
            r, _ = good.request("hello", {"protocols": [1]})
            self.assertEqual(r["result"]["protocol"], 1)
            good.close()
            bad = client(opub, osec)
            with self.assertRaises(zmq.Again):
                bad.request("hello", {"protocols": [1]})
            bad.close()
        finally:
            b.stop()
            os.unlink(f.name)


class TestSwabian(Common, unittest.TestCase):
    script, kind = "swabian_timetagger.py", "hbt"

    def test_geometry_histogram_countrate_tags(self):
        iid = self.hello()
        g, _ = self.c.request("geometry", {}, iid)
        # 215 bins over 500 ns with an integer-ps bin width: 2326 ps, centre bin 107.
        self.assertEqual(g["result"], {"bins": 215, "binWidthNs": 2.326, "zeroBin": 107, "jitterNs": 0.042})
        r, payload = self.c.request("histogram", {"integrationMs": 300000}, iid)
        head = r["result"]["frame"]
        self.assertEqual((head["dtype"], head["shape"]), ("u32", [215]))
        h = unpack(head, payload)
        self.assertEqual(head["events"], sum(h))
        self.assertEqual(head["integrationS"], 300.0)
        # Antibunched: the centre bins hold fewer coincidences than the wings.
        self.assertLess(sum(h[100:115]), sum(h[0:15]))
        r, payload = self.c.request("countRate", {"integrationMs": 1000}, iid)
        self.assertAlmostEqual(unpack(r["result"]["frame"], payload)[0], r["result"]["frame"]["counts"], delta=1e-9)
        r, payload = self.c.request("tags", {"integrationMs": 1}, iid)
        tags = unpack(r["result"]["frame"], payload)
        self.assertEqual(r["result"]["frame"]["shape"], [len(tags) // 2, 2])
        self.assertTrue(all(c in (1, 2) for c in tags[1::2]))
        self.assertEqual(tags[0::2], sorted(tags[0::2]))
        r, _ = self.c.request("histogram", {"integrationMs": -1}, iid)
        self.assertEqual(r["error"]["code"], "BAD_REQUEST")


class TestAravis(Common, unittest.TestCase):
    script, kind = "aravis_camera.py", "camera"

    def test_info_configure_snap_stream(self):
        iid = self.hello()
        r, _ = self.c.request("configure", {"roi": {"x": 120, "y": 0, "width": 16, "height": 16}, "binning": 1}, iid)
        self.assertEqual(r["error"]["code"], "OUT_OF_RANGE")
        r, _ = self.c.request("configure", {"roi": {"x": 8, "y": 8, "width": 32, "height": 16}, "binning": 2}, iid)
        self.assertEqual(r["result"], {})
        r, _ = self.c.request("info", {}, iid)
        self.assertEqual(r["result"]["roi"], {"x": 8, "y": 8, "width": 32, "height": 16})
        self.assertEqual(r["result"]["binning"], 2)
        r, payload = self.c.request("snap", {"exposureMs": 2}, iid)
        head = r["result"]["frame"]
        self.assertEqual((head["dtype"], head["shape"], head["components"], head["pixelSizeNm"]), ("f32", [8, 16, 1], ["Sz"], 160.0))
        self.assertEqual(len(unpack(head, payload)), 128)
        sub = zmq.Context.instance().socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.RCVTIMEO, 10000)
        hello, _ = self.c.request("hello", {"protocols": [1]})
        sub.connect(hello["result"]["data"])
        sub.subscribe(b"cam0/frame")
        r, _ = self.c.request("stream.start", {"exposureMs": 1}, iid)
        try:
            topic, head, payload = sub.recv_multipart()
            head = json.loads(head)
            self.assertEqual(topic, b"cam0/frame")
            self.assertEqual(head["stream"], "cam0.frame")
            self.assertEqual(head["shape"], [8, 16, 1])
            r, _ = self.c.request("snap", {"exposureMs": 2}, iid)
            self.assertEqual(r["error"]["code"], "BUSY")
        finally:
            self.c.request("stream.stop", {}, iid)
            sub.close()


class TestMfli(Common, unittest.TestCase):
    script, kind = "zi_mfli.py", "force"

    def test_settings_and_quadratures(self):
        iid = self.hello()
        r, _ = self.c.request("settings", {}, iid)
        self.assertEqual(r["result"]["lockinRateHz"], 100.0)
        r, payload = self.c.request("quadratures", {"Tm": 20}, iid)
        head = r["result"]["frame"]
        self.assertEqual(head["shape"], [2000, 2])
        xy = unpack(head, payload)
        var = lambda a: sum((v - sum(a) / len(a)) ** 2 for v in a) / (len(a) - 1)
        # X carries σ_th² + σ_spin² = 1000 + 400 aN², Y σ_th² = 1000 aN².
        self.assertGreater(var(xy[0::2]) - var(xy[1::2]), 150)
        self.assertLess(abs(var(xy[1::2]) - 1000), 150)


if __name__ == "__main__":
    unittest.main()
