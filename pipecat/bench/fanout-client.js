// Broadcast fan-out: N clients connect; client 0 sends a broadcast; the time until all N clients
// received it is one sample, after warm-up rounds (WARMUP, default 20) that are not counted. Same client, same machine, for pipecat and the Node ws peer.
//   node fanout-client.js <pipecat|peer> <url> <clients> <rounds>
// Pipecat refuses a handshake without a credential: SONIA_TOKEN=<access token> is sent as a bearer header.
const WebSocket = require('ws');

const [kind, url, clientsArg, roundsArg] = process.argv.slice(2);
const clients = Number(clientsArg);
const rounds = Number(roundsArg);

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// The broadcast id a frame carries, or null.
function broadcastId(text) {
  const frame = JSON.parse(text);
  if (kind === 'peer') {
    return frame.type === 'broadcast' ? frame.payload : null;
  }
  return frame.type === 'EVENT_TYPE_MESSAGE' && frame.role === 'user' ? frame.text : null;
}

function request(id) {
  return kind === 'peer' ? JSON.stringify({ type: 'broadcast', payload: id })
                         : JSON.stringify({ type: 'EVENT_TYPE_MESSAGE', message_id: id, text: id });
}

async function main() {
  const sockets = [];
  let finished = false;
  let waiting = null;
  let received = 0;
  for (let i = 0; i < clients; i++) {
    const socket = kind === 'pipecat' && process.env.SONIA_TOKEN
      ? new WebSocket(url, { headers: { authorization: `Bearer ${process.env.SONIA_TOKEN}` } })
      : new WebSocket(url);
    socket.on('message', (data) => {
      const id = broadcastId(data.toString());
      if (waiting && id === waiting.id && ++received === clients) {
        waiting.resolve(process.hrtime.bigint());
      }
    });
    socket.on('close', (code) => {
      if (!finished && code !== 1000 && code !== 1005) {
        console.error(`client ${i} closed with ${code}`);
        process.exit(1);
      }
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    sockets.push(socket);
  }
  await new Promise((r) => setTimeout(r, 500));
  const samples = [];
  const warmup = Number(process.env.WARMUP || 20);
  for (let round = -warmup; round < rounds; round++) {
    const id = `b-${round}-${Date.now()}`;
    received = 0;
    const done = new Promise((resolve) => { waiting = { id, resolve }; });
    const start = process.hrtime.bigint();
    sockets[0].send(request(id));
    const end = await done;
    if (round >= 0) {
      samples.push(Number(end - start) / 1e6);
    }
    // A pause between rounds, so each sample is one broadcast's latency, not a queue's.
    await new Promise((r) => setTimeout(r, 100));
  }
  samples.sort((a, b) => a - b);
  console.log(JSON.stringify({
    kind, clients, rounds,
    p50_ms: +percentile(samples, 50).toFixed(2),
    p95_ms: +percentile(samples, 95).toFixed(2),
    p99_ms: +percentile(samples, 99).toFixed(2),
  }));
  finished = true;
  sockets.forEach((s) => s.terminate());
}

main().catch((e) => { console.error(e); process.exit(1); });
