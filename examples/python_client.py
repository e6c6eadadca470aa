"""Drive a qscope daemon from Python (a notebook): start a plan, receive its frames as numpy arrays.

Needs pyzmq and numpy (`apt-get install python3-zmq python3-numpy` or `pip install pyzmq numpy`); run it
against a daemon (`npx qscope daemon --virtual --no-demo`). The endpoints come from QSCOPE_CONTROL and
QSCOPE_DATA, like the qscope command line (default tcp://127.0.0.1:5555 and :5556). Protocol: docs/PROTOCOL.md.
    python3 examples/python_client.py antibunching-scan nx=4 ny=4 calibrationS=60
"""
import json, os, sys, itertools
import numpy as np
import zmq

CONTROL = os.environ.get("QSCOPE_CONTROL", "tcp://127.0.0.1:5555")
DATA = os.environ.get("QSCOPE_DATA", "tcp://127.0.0.1:5556")
DTYPES = {"f64": "<f8", "f32": "<f4", "i32": "<i4", "u32": "<u4", "i16": "<i2", "u16": "<u2", "u8": "u1", "i8": "i1"}
FINAL = ("completed", "aborted", "failed", "interrupted")
ctx = zmq.Context()
control = ctx.socket(zmq.DEALER); control.setsockopt(zmq.IMMEDIATE, 1)   # no requests queued for a daemon that is down
control.setsockopt(zmq.RCVTIMEO, 10000); control.setsockopt(zmq.LINGER, 0); control.connect(CONTROL)
data = ctx.socket(zmq.SUB); data.setsockopt(zmq.LINGER, 0); data.connect(DATA)
data.setsockopt_string(zmq.SUBSCRIBE, "session/")   # subscribe before starting, to see the first frames
ids = itertools.count(1)

def call(method, **params):
    """One request/reply on the control socket; raises on an error reply."""
    rid = next(ids)
    control.send_json({"id": rid, "method": method, "params": params})
    reply = json.loads(control.recv_multipart()[0])   # extra frames only for sessions.frames
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']['message']} (code {reply['error']['code']})")
    return reply["result"]

plan = sys.argv[1] if len(sys.argv) > 1 else "antibunching-scan"
params = dict(a.split("=", 1) for a in sys.argv[2:])      # strings: the plan's schema coerces them
session = call("sessions.start", plan=plan, params=params)["id"]
print("started", session)
last_seq = {}
while True:
    if not data.poll(1000):
        # Live data may be dropped (a slow subscriber): the session's status is authoritative.
        status = call("sessions.status", id=session)
        if status["state"] in FINAL: print("status:", status["state"], status["progress"]); break
        continue
    topic, header, payload = data.recv_multipart()
    _, sid, stream = topic.decode().split("/", 2)
    h = json.loads(header)
    if sid != session: continue
    if stream == "@status":
        print("status:", h["state"], h.get("progress"))
        if h["state"] in FINAL: break
        continue
    arr = np.frombuffer(payload, dtype=DTYPES[h["dtype"]]).reshape(h["shape"])
    missed = h["seq"] - last_seq.get(stream, h["seq"] - 1) - 1   # a gap: fetch it with sessions.frames
    last_seq[stream] = h["seq"]
    print(f"{stream} seq={h['seq']} {arr.dtype}{arr.shape} mean={arr.mean():.4g}" + (f" (missed {missed})" if missed > 0 else ""))
final = call("sessions.status", id=session)
print(session, final["state"], f"{final['frames']} frames, {final['results']} results")
sys.exit(0 if final["state"] == "completed" else 1)
