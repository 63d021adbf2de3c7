// The official MCP TypeScript SDK client against AgentVerse's /mcp: connect (initialize, session), page through
// tools/list, call calculator (valid and invalid arguments), end the session. Prints one JSON line for the .NET test to assert on.
// Usage: MCP_URL=http://127.0.0.1:8005/mcp MCP_TOKEN=<jwt> node sdk-client.mjs
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_TOKEN}` } },
});
const client = new Client({ name: 'agentverse-interop', version: '1.0.0' });
await client.connect(transport);

const tools = [];
let cursor;
let pages = 0;
do {
  const page = await client.listTools(cursor ? { cursor } : {});
  tools.push(...page.tools.map((t) => t.name));
  cursor = page.nextCursor;
  pages++;
} while (cursor);

const product = await client.callTool({ name: 'calculator', arguments: { expression: '6*7' } });
const invalid = await client.callTool({ name: 'calculator', arguments: {} });
const sessionId = transport.sessionId;
const protocolVersion = transport.protocolVersion;
await transport.terminateSession();
await client.close();

console.log(JSON.stringify({ protocolVersion, sessionId, pages, tools, product, invalid }));
