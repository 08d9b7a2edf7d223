"""A minimal MCP server over stdio with no SDK, for supervision tests.

It speaks just enough of the legacy era (initialize, tools/list, tools/call)
and misbehaves on purpose, chosen by the first argument:

  echo        a well-behaved server: `echo` answers, `crash` exits with 3
              without answering, `mute` never answers
  garbage     writes a line that is not JSON before every answer
  ignore-eof  keeps running after stdin closes (until SIGTERM)
  stubborn    ignores both stdin closing and SIGTERM (only SIGKILL ends it)
  stderr      writes three lines to stderr on startup, then as `echo`
  deaf        as `echo`, but the tool `deafen` answers and then the server
              never reads stdin again (it stays alive, its stdin pipe fills)

A `server/discover` probe gets "method not found", as a legacy server's
would. Every stdin line it reads is appended to $PLAIN_LOG if set.
"""

import json
import os
import signal
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "echo"
LOG = os.environ.get("PLAIN_LOG")
VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]


def send(obj):
    if MODE == "garbage":
        sys.stdout.write("this is not json {\n")
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def answer(req):
    method, rid = req.get("method"), req.get("id")
    if method == "initialize":
        asked = req.get("params", {}).get("protocolVersion")
        return {
            "protocolVersion": asked if asked in VERSIONS else VERSIONS[0],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "plain-" + MODE, "version": "1.0.0"},
        }
    if method == "ping":
        return {}
    if method == "tools/list":
        schema = {"type": "object", "properties": {"message": {"type": "string"}}}
        tools = [{"name": n, "inputSchema": schema} for n in ("echo", "crash", "mute", "deafen")]
        return {"tools": tools}
    if method == "tools/call":
        name = req["params"]["name"]
        if name == "crash":
            os._exit(3)
        if name == "mute":
            return None
        if name == "deafen":
            send({"jsonrpc": "2.0", "id": rid, "result": {"content": []}})
            while True:
                time.sleep(1000)
        text = req["params"].get("arguments", {}).get("message", "")
        return {"content": [{"type": "text", "text": text}]}
    raise LookupError(method)


def main():
    if MODE == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if MODE == "stderr":
        for i in range(3):
            sys.stderr.write("stderr line %d\n" % i)
        sys.stderr.flush()
    for line in sys.stdin:
        if LOG:
            with open(LOG, "a") as f:
                f.write(line)
        try:
            req = json.loads(line)
        except ValueError:
            continue
        if "id" not in req or "method" not in req:
            continue  # a notification or a response
        try:
            result = answer(req)
        except LookupError:
            send({"jsonrpc": "2.0", "id": req["id"],
                  "error": {"code": -32601, "message": "method not found"}})
            continue
        if result is not None:
            send({"jsonrpc": "2.0", "id": req["id"], "result": result})
    if MODE in ("ignore-eof", "stubborn"):
        while True:
            time.sleep(1000)


main()
