"""A FastMCP server on the Python SDK 1.x (legacy era, up to 2025-11-25),
for weir-mcp's real-server tests. Run with the py-mcp1 venv's python.

Tools:
  echo(message)             the message back
  slow(steps, delay_ms)     reports progress `steps` times, then "done"
  wait_for_cancel(tag)      reports progress 0 ("waiting"), sleeps until
                            cancelled; on cancellation appends
                            "cancelled <tag>" to $WEIR_CANCEL_LOG
  ask_llm(prompt)           asks the client to sample (sampling/createMessage)
                            and returns the text it got
  ask_user(question)        asks the client to elicit a form with defaults
                            and returns the accepted content as JSON
"""

import json
import os

import anyio
from pydantic import BaseModel
from mcp.server.fastmcp import Context, FastMCP
from mcp.types import SamplingMessage, TextContent

mcp = FastMCP("weir-fastmcp1")


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


@mcp.tool()
async def ask_llm(prompt: str, ctx: Context) -> str:
    result = await ctx.session.create_message(
        messages=[SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
        max_tokens=32,
    )
    return result.content.text if result.content.type == "text" else repr(result.content)


class Preferences(BaseModel):
    name: str = "weir"
    count: int = 3
    loud: bool = False


@mcp.tool()
async def ask_user(question: str, ctx: Context) -> str:
    answer = await ctx.elicit(message=question, schema=Preferences)
    if answer.action != "accept":
        return answer.action
    return json.dumps(answer.data.model_dump(), sort_keys=True)


if __name__ == "__main__":
    mcp.run("stdio")
