"""A slow network between one process and the S3 server: a loopback TCP relay that passes
what the client sends at a fixed rate (answers at full speed), and notes when the client has
begun sending a multipart upload's part. The process under test talks real S3 through it, so
a test can kill it while a part is on the wire, without touching boto3."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

__all__ = ["SlowLink"]

_CHUNK = 16 * 1024


class SlowLink:
    def __init__(self, upstream: str, bytes_per_s: int) -> None:
        parts = urlsplit(upstream)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.bytes_per_s = bytes_per_s
        #: Set once a client began sending an UploadPart request.
        self.part_started = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._up, args=(client, server), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client), daemon=True).start()

    def _up(self, src: socket.socket, dst: socket.socket) -> None:
        tail = b""
        try:
            while chunk := src.recv(_CHUNK):
                seen = tail + chunk
                if b"partNumber=" in seen and b"PUT " in seen:
                    self.part_started.set()
                tail = chunk[-64:]
                dst.sendall(chunk)
                time.sleep(len(chunk) / self.bytes_per_s)
        except OSError:
            pass
        finally:
            _close(src, dst)

    def _down(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(_CHUNK):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            _close(src, dst)


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        try:
            sock.close()
        except OSError:
            pass
