"""An MCPServer on the Python SDK 2.x over Streamable HTTP, for weir-mcp's
modern-era HTTP test (mcp/tests/real_http_python.rs). Run with the py-mcp2
venv's python: `python http_mcpserver2.py PORT`; it serves 127.0.0.1:PORT/mcp.

Tools:
  echo(message)          the message back
  slow(steps, delay_ms)  reports progress `steps` times, then "done"
"""

import sys

import anyio
from mcp.server.mcpserver import Context, MCPServer

mcp = MCPServer("weir-http-mcpserver2")


@mcp.tool()
def echo(message: str) -> str:
    return message


@mcp.tool()
async def slow(steps: int, delay_ms: int, ctx: Context) -> str:
    for i in range(steps):
        await anyio.sleep(delay_ms / 1000)
        await ctx.report_progress(i + 1, steps, f"step {i + 1}")
    return "done"


if __name__ == "__main__":
    mcp.run(transport="streamable-http", host="127.0.0.1", port=int(sys.argv[1]))
