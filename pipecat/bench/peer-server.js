// The peer: a Node `ws` broadcast server, the websocket-shootout way. A text frame
// {"type":"broadcast","payload":...} is sent to every connected client.
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port });
wss.on('listening', () => console.log(`LISTENING ${wss.address().port}`));
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const message = JSON.parse(data);
    if (message.type === 'broadcast') {
      const out = JSON.stringify({ type: 'broadcast', payload: message.payload });
      for (const client of wss.clients) {
        client.send(out);
      }
    }
  });
});
