"""A server for the qscope bridge protocol, version 1 (docs/BRIDGE.md).

A bridge owns one vendor SDK and exposes its instruments to qscope: a ROUTER socket for requests,
replies and heartbeats, a PUB socket for streamed frames. Subclass `Instrument` (or give handlers),
build a `BridgeServer`, call `serve()`. Needs pyzmq only (Debian: python3-zmq).

    server = BridgeServer(name="my-bridge", version="0.1", sdk={"name": "X", "version": "1"},
                          instruments=[MyInstrument("dev0")], control="tcp://127.0.0.1:5600")
    server.serve()
"""
import array
import json
import signal
import sys
import threading
import time

import zmq

PROTOCOL = 1
DTYPES = {"f64": "d", "f32": "f", "i32": "i", "u32": "I", "i16": "h", "u16": "H", "u8": "B", "i8": "b"}


class BridgeError(Exception):
    """An error answered to qscope as {code, message}; codes in docs/BRIDGE.md."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class Frame:
    """A measurement reply: payload bytes (little-endian, C order) plus the kind's header fields."""

    def __init__(self, dtype, shape, data, **fields):
        if dtype not in DTYPES:
            raise ValueError("dtype must be one of " + " ".join(DTYPES))
        if hasattr(data, "tobytes") and hasattr(data, "dtype"):  # numpy array
            payload = data.astype("<" + {"f64": "f8", "f32": "f4", "i32": "i4", "u32": "u4", "i16": "i2", "u16": "u2", "u8": "u1", "i8": "i1"}[dtype]).tobytes()
        else:
            a = array.array(DTYPES[dtype], data)
            if sys.byteorder != "little":
                a.byteswap()
            payload = a.tobytes()
        n = 1
        for s in shape:
            n *= s
        if len(payload) != n * array.array(DTYPES[dtype]).itemsize:
            raise ValueError("payload does not match shape %r" % (shape,))
        self.head = dict(fields, dtype=dtype, shape=list(shape))
        self.payload = payload


class Instrument:
    """One instrument behind the bridge. Methods named `m_<method>` (dots as underscores) answer requests:
    they take the params dict and return a JSON-able result or a Frame; raise BridgeError for failures."""

    kind = "?"
    model = ""
    serial = ""
    firmware = ""
    channels = []
    commands = {}

    def __init__(self, id):
        self.id = id

    def describe(self):
        return {"id": self.id, "kind": self.kind, "model": self.model, "serial": self.serial, "firmware": self.firmware,
                "channels": self.channels, "commands": self.commands}

    def handle(self, method, params):
        fn = getattr(self, "m_" + method.replace(".", "_"), None)
        if fn is None:
            raise BridgeError("UNKNOWN_METHOD", "%s has no method '%s'" % (self.id, method))
        return fn(params)

    def client_gone(self):
        """Called when the last client went away (no heartbeat): put the instrument in a safe state."""


class BridgeServer:
    def __init__(self, name, version, sdk, instruments, control="tcp://127.0.0.1:*", data=None, heartbeat_ms=1000, curve=None, log=sys.stderr):
        self.name, self.version, self.sdk = name, version, sdk
        self.instruments = {i.id: i for i in instruments}
        self.heartbeat_ms = heartbeat_ms
        self.ctx = zmq.Context.instance()
        self.router = self.ctx.socket(zmq.ROUTER)
        self.pub = self.ctx.socket(zmq.PUB)
        self.auth = None
        if curve:
            # {"secretKey", "publicKey", "allow": [client public keys]} (Z85): CURVE on both sockets, and a ZAP
            # handler so that only the listed clients pass (CURVE alone would accept any client key).
            from zmq.auth.thread import ThreadAuthenticator
            allow = {k.encode() if isinstance(k, str) else k for k in curve["allow"]}

            class Allow:
                def callback(self, domain, key):
                    return (zmq.utils.z85.encode(key) if len(key) == 32 else key) in allow

            self.auth = ThreadAuthenticator(self.ctx)
            self.auth.start()
            self.auth.configure_curve_callback("*", credentials_provider=Allow())
        for s in (self.router, self.pub):
            s.setsockopt(zmq.LINGER, 0)
            if curve:
                s.curve_server = True
                s.curve_secretkey = curve["secretKey"].encode()
                s.curve_publickey = curve["publicKey"].encode()
        self.router.bind(control)
        host = control.rsplit(":", 1)[0]
        self.pub.bind(data or host + ":*")
        self.control = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.data = self.pub.getsockopt(zmq.LAST_ENDPOINT).decode()
        self.clients = {}  # routing id -> last time heard (monotonic s)
        self.seq = {}
        self.running = True
        self.log = log
        self.t0 = time.monotonic_ns()
        self.pub_lock = threading.Lock()  # a stream thread may publish: one thread on the socket at a time

    def publish(self, instrument, channel, frame):
        """Publishes a frame on topic `<instrument>/<channel>` (docs/BRIDGE.md, Streams); callable from any thread."""
        stream = "%s.%s" % (instrument, channel)
        with self.pub_lock:
            seq = self.seq.get(stream, 0)
            self.seq[stream] = seq + 1
            head = dict(frame.head, stream=stream, seq=seq, t=time.monotonic_ns() - self.t0)
            self.pub.send_multipart([("%s/%s" % (instrument, channel)).encode(), json.dumps(head).encode(), frame.payload])

    publish_threadsafe = publish

    def _send(self, rid, env, payload=None):
        parts = [rid, json.dumps(dict(env, v=PROTOCOL)).encode()]
        if payload is not None:
            parts.append(payload)
        self.router.send_multipart(parts)

    def _reply(self, rid, rid_req, result=None, error=None):
        if error is not None:
            return self._send(rid, {"type": "reply", "id": rid_req, "error": error})
        if isinstance(result, Frame):
            return self._send(rid, {"type": "reply", "id": rid_req, "result": {"frame": result.head}}, result.payload)
        return self._send(rid, {"type": "reply", "id": rid_req, "result": result})

    def _request(self, rid, env):
        method, params, rq = env.get("method"), env.get("params") or {}, env.get("id")
        if not isinstance(method, str) or not isinstance(params, dict):
            return self._reply(rid, rq, error={"code": "BAD_REQUEST", "message": "request needs a string method and an object params"})
        if method == "hello":
            versions = params.get("protocols") or []
            if PROTOCOL not in versions:
                return self._reply(rid, rq, error={"code": "PROTOCOL", "message": "this bridge speaks protocol %d only, the client offers %r" % (PROTOCOL, versions)})
            return self._reply(rid, rq, {"protocol": PROTOCOL, "bridge": {"name": self.name, "version": self.version}, "sdk": self.sdk,
                                         "data": self.data, "heartbeatMs": self.heartbeat_ms,
                                         "instruments": [i.describe() for i in self.instruments.values()]})
        if env.get("v") != PROTOCOL:
            return self._reply(rid, rq, error={"code": "PROTOCOL", "message": "envelope version %r, this bridge speaks %d" % (env.get("v"), PROTOCOL)})
        if method == "describe":
            return self._reply(rid, rq, {"instruments": [i.describe() for i in self.instruments.values()]})
        inst = self.instruments.get(env.get("instrument"))
        if inst is None:
            return self._reply(rid, rq, error={"code": "UNKNOWN_INSTRUMENT", "message": "no instrument %r (have: %s)" % (env.get("instrument"), ", ".join(self.instruments))})
        try:
            result = inst.handle(method, params)
        except BridgeError as e:
            return self._reply(rid, rq, error={"code": e.code, "message": e.message})
        except Exception as e:  # the SDK failed: say how, keep serving
            return self._reply(rid, rq, error={"code": "SDK", "message": "%s: %s" % (type(e).__name__, e)})
        self._reply(rid, rq, result)

    def serve(self, ready=None):
        """Serves until SIGTERM/SIGINT or stop(); says bye to every client on the way out."""
        signal.signal(signal.SIGTERM, lambda *_: self.stop())
        signal.signal(signal.SIGINT, lambda *_: self.stop())
        if ready:
            ready(self)
        poller = zmq.Poller()
        poller.register(self.router, zmq.POLLIN)
        while self.running:
            events = dict(poller.poll(self.heartbeat_ms / 4))
            now = time.monotonic()
            if self.router in events:
                rid, *parts = self.router.recv_multipart()
                self.clients[rid] = now
                try:
                    env = json.loads(parts[0])
                except (ValueError, IndexError):
                    continue
                t = env.get("type")
                if t == "ping":
                    self._send(rid, {"type": "pong", "t": env.get("t")})
                elif t == "request":
                    self._request(rid, env)
                elif t == "bye":
                    self.clients.pop(rid, None)
                    if not self.clients:
                        self._all_gone()
            gone = [r for r, seen in self.clients.items() if now - seen > 3 * self.heartbeat_ms / 1000]
            for r in gone:
                del self.clients[r]
            if gone and not self.clients:
                self._all_gone()
        self.close()

    def _all_gone(self):
        for i in self.instruments.values():
            i.client_gone()

    def stop(self):
        self.running = False

    def close(self, reason="bridge shutting down"):
        for rid in list(self.clients):
            try:
                self._send(rid, {"type": "bye", "reason": reason})
            except zmq.ZMQError:
                pass
        self.router.close(linger=2000)  # let the byes leave before the socket goes
        with self.pub_lock:
            self.pub.close()
        if self.auth:
            self.auth.stop()


def main_args(description, fake_help):
    import argparse
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--control", default="tcp://127.0.0.1:5600", help="ROUTER endpoint to bind (tcp://127.0.0.1:* for an ephemeral port)")
    p.add_argument("--heartbeat-ms", type=int, default=1000)
    p.add_argument("--fake", action="store_true", help=fake_help)
    p.add_argument("--seed", type=int, default=1, help="fake backend: random seed")
    p.add_argument("--curve", metavar="FILE", help='JSON {"secretKey", "publicKey", "allow": [client public keys]} (Z85): required off loopback')
    return p


def curve_from(path):
    if not path:
        return None
    with open(path) as f:
        c = json.load(f)
    for k in ("secretKey", "publicKey", "allow"):
        if k not in c:
            raise SystemExit("--curve %s: missing %r" % (path, k))
    return c


def announce(server):
    """Prints `READY <control endpoint>` (what scripts and tests wait for)."""
    print("READY %s" % server.control, flush=True)
