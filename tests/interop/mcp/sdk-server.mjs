// A small MCP server written with the official TypeScript SDK (Streamable HTTP, sessions), for AgentVerse's MCP
// client to register: tools 'reverse' (text), 'add' (structured), 'sleep' (answers after `ms`), 'pixel' (an image), 'env' (whether
// environment variable `name` is set, to check what a stdio child inherits) and 'big' (`bytes` characters of text). Prints "listening <port>" once ready.
// Usage: node sdk-server.mjs [port]   (0 or none: any free port);  node sdk-server.mjs --stdio
// MCP_DESCRIPTION_PADDING=n lengthens every tool description by n characters (a tools/list over a client's limit).
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

const tools = [
  {
    name: 'reverse',
    description: 'Reverses a string.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
  {
    name: 'add',
    description: 'Adds two numbers.',
    inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
    outputSchema: { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] },
  },
  {
    name: 'sleep',
    description: 'Answers after ms milliseconds.',
    inputSchema: { type: 'object', properties: { ms: { type: 'number' } }, required: ['ms'] },
  },
  {
    name: 'pixel',
    description: 'A 1x1 PNG image.',
    inputSchema: { type: 'object', properties: {} },
  },
  {
    name: 'big',
    description: 'A text of the given length.',
    inputSchema: { type: 'object', properties: { bytes: { type: 'number' } }, required: ['bytes'] },
  },
  {
    name: 'env',
    description: 'Whether an environment variable is set.',
    inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  },
];

const padding = 'x'.repeat(Number(process.env.MCP_DESCRIPTION_PADDING ?? 0));
for (const tool of tools) tool.description += padding;

const PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

function newServer() {
  const server = new Server({ name: 'interop-sdk-server', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async ({ params }) => {
    const args = params.arguments ?? {};
    switch (params.name) {
      case 'reverse':
        return { content: [{ type: 'text', text: [...String(args.text)].reverse().join('') }] };
      case 'add': {
        const sum = Number(args.a) + Number(args.b);
        return { content: [{ type: 'text', text: String(sum) }], structuredContent: { sum } };
      }
      case 'sleep':
        await new Promise((resolve) => setTimeout(resolve, Number(args.ms)));
        return { content: [{ type: 'text', text: 'awake' }] };
      case 'pixel':
        return { content: [{ type: 'image', data: PIXEL_PNG, mimeType: 'image/png' }] };
      case 'big':
        return { content: [{ type: 'text', text: 'x'.repeat(Number(args.bytes)) }] };
      case 'env':
        return { content: [{ type: 'text', text: String(process.env[String(args.name)] !== undefined) }] };
      default:
        throw new Error(`Unknown tool: ${params.name}`);
    }
  });
  return server;
}

if (process.argv[2] === '--stdio') {
  await newServer().connect(new StdioServerTransport());
} else {
  serveHttp();
}

function serveHttp() {
  const transports = new Map();
  const expectedKey = process.env.MCP_API_KEY;

  const http = createServer(async (req, res) => {
    if (expectedKey && req.headers.authorization !== `Bearer ${expectedKey}`) {
      res.writeHead(401).end();
      return;
    }
    // Test hook: forget every session, as a restarted server would.
    if (req.url === '/drop-sessions') {
      transports.clear();
      res.writeHead(204).end();
      return;
    }
    let body;
    if (req.method === 'POST') {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    }
    const sessionId = req.headers['mcp-session-id'];
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId || !(req.method === 'POST' && isInitializeRequest(body))) {
        res.writeHead(sessionId ? 404 : 400, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'No valid session' } }));
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
      await newServer().connect(transport);
    }
    await transport.handleRequest(req, res, body);
  });

  http.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => console.log(`listening ${http.address().port}`));
}
