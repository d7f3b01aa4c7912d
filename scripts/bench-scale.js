// The load generator of scripts/bench-scale: closed-loop HTTP/1.1 clients on kept-alive connections, each
// sending one POST after the other for a fixed time, spread over the given gateways (client c on gateway
// c mod n). Each body is the template with {i} replaced by a number unique in the run, so that memory stores
// are new memories and chats miss the router's answer cache (h2load sends one fixed body).
// Usage: node bench-scale.js <seconds> <clients> <path> <body template> <token file> <base URL>[,<base URL>...]
// Prints one JSON line: requests, ok, errors by status, req_per_s, p50_ms, p95_ms, p99_ms, the generator's CPU.
'use strict';
const http = require('http');
const fs = require('fs');

const [seconds, clients, path, template, tokenFile, bases] = process.argv.slice(2);
const token = fs.readFileSync(tokenFile, 'utf8').trim();
const urls = bases.split(',').map((b) => new URL(path, b));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(clients) });
const prefix = `${process.pid}-${Date.now()}`;
const latencies = [];
const errors = {};
let next = 0;
let ok = 0;
const t0 = process.hrtime.bigint();
const end = t0 + BigInt(Math.round(Number(seconds) * 1e9));

function post(url) {
  return new Promise((resolve) => {
    const body = template.replaceAll('{i}', `${prefix}-${next++}`);
    const start = process.hrtime.bigint();
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => {
        latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
        if (res.statusCode === 200) ok++; else errors[res.statusCode] = (errors[res.statusCode] || 0) + 1;
        resolve();
      });
    });
    req.on('error', (e) => { errors[e.code || 'error'] = (errors[e.code || 'error'] || 0) + 1; resolve(); });
    req.end(body);
  });
}

async function client(c) {
  const url = urls[c % urls.length];
  while (process.hrtime.bigint() < end) await post(url);
}

Promise.all(Array.from({ length: Number(clients) }, (_, c) => client(c))).then(() => {
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.max(0, Math.ceil(latencies.length * p) - 1)] : 0).toFixed(1);
  console.log(JSON.stringify({
    requests: latencies.length, ok, errors, req_per_s: Number((ok / elapsed).toFixed(1)),
    p50_ms: pct(0.5), p95_ms: pct(0.95), p99_ms: pct(0.99), seconds: Number(elapsed.toFixed(1)),
    client_cpu_ms: Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000),
  }));
  agent.destroy();
});
