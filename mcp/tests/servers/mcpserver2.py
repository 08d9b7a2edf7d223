"""An MCPServer on the Python SDK 2.x, which serves both eras on stdio (the
client's first request decides: `server/discover` and the per-request `_meta`
envelope for 2026-07-28, `initialize` for older revisions). Run with the
py-mcp2 venv's python.

Tools:
  echo(message)             the message back
  slow(steps, delay_ms)     reports progress `steps` times, then "done"
  wait_for_cancel(tag)      reports progress 0 ("waiting"), sleeps until
                            cancelled; on cancellation appends
                            "cancelled <tag>" to $WEIR_CANCEL_LOG
  ask_user(question)        asks the client for a form with defaults (an
                            input-required result in the modern era, an
                            elicitation request in the legacy one) and
                            returns the accepted content as JSON
"""

import json
import os
from typing import Annotated

import anyio
from pydantic import BaseModel
from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve

mcp = MCPServer("weir-mcpserver2")


@mcp.tool()
def echo(message: str) -> str:
    return message


@mcp.tool()
async def slow(steps: int, delay_ms: int, ctx: Context) -> str:
    for i in range(steps):
        await anyio.sleep(delay_ms / 1000)
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
    return "done"


@mcp.tool()
async def wait_for_cancel(tag: str, ctx: Context) -> str:
    # One progress report says "running now", so a client can cancel
    # mid-tool rather than before the tool started.
    await ctx.report_progress(0, None, "waiting")
    try:
        await anyio.sleep(3600)
    except anyio.get_cancelled_exc_class():
        log = os.environ.get("WEIR_CANCEL_LOG")
        if log:
            with open(log, "a") as f:
                f.write(f"cancelled {tag}\n")
        raise
    return "never"


class Preferences(BaseModel):
    name: str = "weir"
    count: int = 3
    loud: bool = False


def ask(question: str) -> Elicit[Preferences]:
    return Elicit(question, Preferences)


@mcp.tool()
async def ask_user(question: str, prefs: Annotated[Preferences, Resolve(ask)]) -> str:
    return json.dumps(prefs.model_dump(), sort_keys=True)


if __name__ == "__main__":
    mcp.run("stdio")
