// The MCP SDK and zod, as one module: scripts/build.mjs bundles this file on its own into
// dist/vendor/mcp-sdk.cjs and the CLI requires it only when `vm mcp` runs, so `vm plan` never
// loads them. Import it with `await import('./sdk.js')`.

export { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
export { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
export { z } from 'zod';
