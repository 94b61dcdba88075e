"""echo_server ends on its own (--seconds) while a client sits idle: it closes its clients.

Usage: check-echo-idle.py ECHO_SERVER
"""
import socket
import subprocess
import sys

server = subprocess.Popen([sys.argv[1], "--seconds", "1"], stdout=subprocess.PIPE, text=True)
host, port = server.stdout.readline().split()[-1].rsplit(":", 1)  # "listening on HOST:PORT"
with socket.create_connection((host, int(port))) as idle:
    try:
        code = server.wait(timeout=60)  # a bound, so that a hang fails instead of stalling ctest
    except subprocess.TimeoutExpired:
        server.kill()
        sys.exit("echo_server did not end while a client sat idle")
    if idle.recv(1) != b"":
        sys.exit("the idle client did not see the end of the stream")
sys.exit(code)
