"""A local HTTP server on 127.0.0.1 for download tests: bounded, stops by itself."""

import contextlib
import http.server
import socket
import threading
from types import SimpleNamespace

LIFETIME_S = 120  # the server shuts itself down after this long, whatever the test does


@contextlib.contextmanager
def local_http_server(root, trickle_s=2.0):
    """Serve the folder ``root`` at ``http://127.0.0.1:<free port>``.

    Yields ``SimpleNamespace(url, requests)``; ``requests`` lists the paths asked for. A path
    under ``/truncated/`` serves the file below it with its full ``Content-Length`` but only
    its first half, then closes the connection; under ``/trickle/``, with its full
    ``Content-Length`` then one byte every ``trickle_s`` seconds; under ``/stall/``, with its
    full ``Content-Length`` then nothing. Trickles and stalls end when the client hangs up or
    the server stops.
    """
    requests = []
    stopped = threading.Event()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            for prefix in ("/truncated/", "/trickle/", "/stall/"):
                if self.path.startswith(prefix):
                    body = (root / self.path.removeprefix(prefix)).read_bytes()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.close_connection = True
                    with contextlib.suppress(OSError):  # the client hung up
                        self.slow_body(prefix, body)
                    return
            super().do_GET()

        def slow_body(self, prefix, body):
            if prefix == "/truncated/":
                self.wfile.write(body[: len(body) // 2])
                return
            for i in range(len(body)):
                if stopped.wait(trickle_s if prefix == "/trickle/" else 0.05):
                    return
                if prefix == "/trickle/":
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    stopper = threading.Timer(LIFETIME_S, lambda: (stopped.set(), server.shutdown()))
    stopper.daemon = True
    stopper.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", requests=requests)
    finally:
        stopped.set()
        stopper.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port_url():
    """An http URL on 127.0.0.1 whose port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/preset.tar.gz"
