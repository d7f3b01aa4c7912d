// Session creation latency over REST (POST /session/start), one request at a time, keep-alive.
//   SONIA_TOKEN=<access token> node sessions-client.js <base-url> <count>
const http = require('http');

const [base, countArg] = process.argv.slice(2);
const count = Number(countArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
// Pipecat answers 401 without a credential.
const headers = { 'content-type': 'application/json' };
if (process.env.SONIA_TOKEN) {
  headers.authorization = `Bearer ${process.env.SONIA_TOKEN}`;
}

function start() {
  return new Promise((resolve, reject) => {
    const began = process.hrtime.bigint();
    const req = http.request(`${base}/session/start`, {
      method: 'POST', agent, headers,
    }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(new Error(`status ${res.statusCode}: ${body}`));
          return;
        }
        resolve({ ms: Number(process.hrtime.bigint() - began) / 1e6, id: JSON.parse(body).data.session_id });
      });
    });
    req.on('error', reject);
    req.end('{}');
  });
}

async function main() {
  const samples = [];
  const ids = [];
  for (let i = 0; i < count; i++) {
    const { ms, id } = await start();
    samples.push(ms);
    ids.push(id);
  }
  samples.sort((a, b) => a - b);
  const pick = (p) => +samples[Math.min(samples.length - 1, Math.floor(p / 100 * samples.length))].toFixed(2);
  console.log(JSON.stringify({ sessions: count, p50_ms: pick(50), p99_ms: pick(99), first_id: ids[0] }));
}

main().catch((e) => { console.error(e); process.exit(1); });
