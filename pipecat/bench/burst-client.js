// One client sends a burst of chat messages at full speed on one session's WebSocket while probes measure
// what everybody else sees meanwhile: GET /healthz back to back, GET /session/{other} (another session of
// the same user), and a new WebSocket handshake every 100 ms. Reports latencies and what became of the
// burst's messages (accepted and answered, refused at the door with RATE_LIMITED, or failed).
//   node burst-client.js <http://host:port> <burst-session> <other-session> <messages>
// SONIA_TOKEN=<access token> is sent as a bearer header.
const WebSocket = require('ws');

const [base, sessionId, otherId, messagesArg] = process.argv.slice(2);
const messages = Number(messagesArg);
const auth = { authorization: `Bearer ${process.env.SONIA_TOKEN}` };
const wsBase = base.replace(/^http/, 'ws');

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted.length ? +sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))].toFixed(2) : null;
  return { n: sorted.length, p50_ms: at(50), p99_ms: at(99), max_ms: sorted.length ? +sorted[sorted.length - 1].toFixed(2) : null };
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function probe(samples, running, fn, pauseMs) {
  while (running.on) {
    const start = now();
    try {
      await fn();
      samples.push(now() - start);
    } catch (e) {
      samples.push(now() - start);
      running.failures = (running.failures || 0) + 1;
    }
    if (pauseMs) {
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}

function handshake() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${wsBase}/ws/${otherId}?last_sequence=999999999`, { headers: auth });
    socket.once('open', () => { socket.close(); resolve(); });
    socket.once('error', reject);
  });
}

async function main() {
  const socket = new WebSocket(`${wsBase}/ws/${sessionId}?last_sequence=999999999`, { headers: auth });
  await new Promise((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject); });
  const accepted = new Set();
  const refused = new Set();
  const answered = new Set();
  const failures = {};
  let closeCode = null;
  let lastUser = null;
  socket.on('message', (data) => {
    const e = JSON.parse(data.toString());
    if (e.type === 'EVENT_TYPE_MESSAGE' && e.role === 'user' && e.sequence > 0) {
      accepted.add(e.message_id);
    } else if (e.type === 'EVENT_TYPE_MESSAGE' && e.role === 'assistant') {
      answered.add(e.text);
    } else if (e.type === 'EVENT_TYPE_ERROR' && e.error_code === 'RATE_LIMITED' && e.message_id) {
      refused.add(e.message_id);
    } else if (e.type === 'EVENT_TYPE_ERROR') {
      failures[e.error_code + ': ' + e.text] = (failures[e.error_code + ': ' + e.text] || 0) + 1;
    }
  });
  socket.on('close', (code) => { closeCode = code; });

  const running = { on: true };
  const health = [], session = [], handshakes = [];
  const probes = [
    probe(health, running, async () => { const r = await fetch(`${base}/healthz`); await r.text(); }, 5),
    probe(session, running, async () => { const r = await fetch(`${base}/session/${otherId}`, { headers: auth }); await r.text(); }, 20),
    probe(handshakes, running, handshake, 100),
  ];
  await new Promise((r) => setTimeout(r, 1000));
  const baseline = { healthz: stats(health.splice(0)), session: stats(session.splice(0)), handshake: stats(handshakes.splice(0)) };

  const start = now();
  for (let i = 0; i < messages; i++) {
    socket.send(JSON.stringify({ type: 'EVENT_TYPE_MESSAGE', message_id: `burst-${i}`, text: `burst ${i}` }));
  }
  // Until every message is accepted or refused, and every accepted one answered or failed.
  const deadline = start + 120000;
  while (now() < deadline && closeCode === null) {
    const failed = Object.values(failures).reduce((a, b) => a + b, 0);
    if (accepted.size + refused.size >= messages && answered.size + failed >= accepted.size) {
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const burstMs = now() - start;
  running.on = false;
  await Promise.all(probes);
  console.log(JSON.stringify({
    messages, burst_settled_ms: +burstMs.toFixed(0), close_code: closeCode,
    accepted: accepted.size, answered: answered.size, refused_rate_limited: refused.size, failed: failures,
    baseline,
    during: { healthz: stats(health), session: stats(session), handshake: stats(handshakes) },
  }));
  socket.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
