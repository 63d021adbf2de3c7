// An app that logs like an AgentVerse service (ASP.NET Core's JsonConsole: one JSON object per line), plus
// one plain line, then serves APP_PORT until SIGTERM; the launcher tests check how `--log-format` shows them.
const http = require('http');

const log = (level, category, message, exception) => console.log(JSON.stringify({
  Timestamp: '2026-12-02T00:11:55.106Z',
  EventId: 0,
  LogLevel: level,
  Category: category,
  Message: message,
  ...(exception ? { Exception: exception } : {}),
  State: { Message: message, '{OriginalFormat}': message },
  Scopes: [{ Message: 'SpanId:1, TraceId:2', SpanId: '1', TraceId: '2' }],
}));

log('Information', 'Microsoft.Hosting.Lifetime', 'Application started.');
log('Critical', 'AgentVerse.ServiceDefaults.Secrets.StartupLoaderService', 'Cannot start: the signing key is missing',
  'System.InvalidOperationException: no key\n   at StartupLoaderService.StartAsync()');
console.log('a plain line, not JSON');

const server = http.createServer((req, res) => res.writeHead(404).end());
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(Number(process.env.APP_PORT), '127.0.0.1');
