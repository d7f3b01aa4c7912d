import { api, signIn, streamChat, ApiError } from './api.js';

const $ = id => document.getElementById(id);

/** Makes an element; children are nodes or strings (always text, never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function notice(text) {
  const box = $('notice');
  box.textContent = text;
  box.hidden = !text;
}

function message(error) {
  return error instanceof ApiError ? `${error.code}: ${error.message}` : String(error.message || error);
}

// ---------------------------------------------------------------- session and navigation
let me = null;

async function loadMe() {
  try {
    me = await api('GET', '/api/auth/me');
  } catch {
    me = null;
  }
  render();
}

function render() {
  const signedIn = me !== null;
  $('nav').hidden = !signedIn;
  $('sign-out').hidden = !signedIn;
  $('nav-admin').hidden = !(signedIn && me.role === 'ROLE_ADMIN');
  document.querySelector('#browse-scope option[data-admin]').hidden = !(signedIn && me.role === 'ROLE_ADMIN');
  $('who').textContent = signedIn ? (me.user?.username || me.subject) : '';
  if (signedIn) {
    approvals.start();
    notice(mustChangePassword()
      ? 'First start: you signed in with the generated password. Choose your own to go on.' : '');
  } else {
    approvals.stop();
    notice('');
  }
  show();
}

/** The user signed in with a password Sonia generated: nothing else opens until they choose their own. */
function mustChangePassword() {
  return me !== null && me.user?.must_change_password === true;
}

function show() {
  const wanted = mustChangePassword() ? 'account' : (location.hash || '#chat').slice(1);
  let view = me === null ? 'signin' : wanted;
  if (!$('view-' + view) || view === 'signin' || (view === 'admin' && me.role !== 'ROLE_ADMIN')) {
    view = me === null ? 'signin' : 'chat';
  }
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== 'view-' + view;
  for (const link of document.querySelectorAll('#nav a[data-view]')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (view === 'admin') loadAdmin();
  if (view === 'sessions') loadSessions();
  if (view !== 'sessions') conversation.close();
  document.title = `Sonia console · ${$('view-' + view).querySelector('h1').textContent}`;
}

window.addEventListener('hashchange', () => {
  if (!$('notice').textContent.startsWith('First start')) notice('');
  show();
  $('main').focus();
});
window.addEventListener('sonia:signed-out', () => {
  if (me !== null) {
    me = null;
    render();
  }
});

$('signin-form').addEventListener('submit', async event => {
  event.preventDefault();
  $('signin-error').textContent = '';
  try {
    await signIn($('signin-username').value, $('signin-password').value);
    $('signin-password').value = '';
    await loadMe();
    $('main').focus();
  } catch (error) {
    $('signin-error').textContent = error.status === 401 ? 'Wrong user name or password.' : message(error);
  }
});

$('sign-out').addEventListener('click', async () => {
  try {
    await api('POST', '/api/auth/logout', {}, false);
  } catch {
    // the session is over either way
  }
  me = null;
  render();
});

// ---------------------------------------------------------------- chat
let streaming = null;

function cell(term, value) {
  return [el('dt', { text: term }), el('dd', { text: value })];
}

function bar(percent) {
  const node = el('span', { class: 'bar', 'aria-hidden': 'true' });
  node.style.width = `${percent}%`; // through the CSSOM: the page policy allows no inline style attribute
  return node;
}

function showProvenance(final) {
  const p = final.provenance || {};
  const usage = p.usage || {};
  const box = $('provenance');
  const calls = p.calls || [];
  const longest = Math.max(1, ...calls.map(c => Number(c.duration_ms) || 0));
  box.replaceChildren(...[
    el('h2', { id: 'provenance-title', text: 'Provenance' }),
    el('dl', { class: 'facts' },
      cell('Model', p.model || '—'), cell('Deployment', p.deployment || '—'), cell('Provider', p.provider || '—'),
      cell('Tokens', `${usage.prompt_tokens || 0} in, ${usage.completion_tokens || 0} out`),
      cell('Cost', `$${((Number(usage.cost_micros) || 0) / 1e6).toFixed(6)}`),
      cell('Degraded', (p.degraded || []).length ? p.degraded.join(', ') : 'nothing')),
    el('h3', { text: 'Memories used' }),
    (p.memories || []).length
      ? el('ol', { class: 'memories' }, p.memories.map(m => el('li', {},
          el('a', { href: '#memory', onclick: () => {
            $('memory-query').value = m.snippet || '';
            setTimeout(() => $('memory-form').requestSubmit()); // after the view changed
          } },
            m.memory), ` score ${Number(m.score).toFixed(3)}`, el('p', { class: 'snippet', text: m.snippet }))))
      : el('p', { class: 'hint', text: 'None.' }),
    el('h3', { text: 'Downstream calls' }),
    el('ol', { class: 'timeline' }, calls.map(c => el('li', {},
      el('span', { class: 'call', text: `${c.service}.${c.method} ${c.duration_ms} ms${c.error_code ? ' · ' + c.error_code : ''}` }),
      bar(Math.max(2, 100 * (Number(c.duration_ms) || 0) / longest))))),
    (final.actions || []).length ? el('h3', { text: 'Tool calls' }) : null,
    (final.actions || []).length ? el('ul', {}, final.actions.map(a => el('li', {
      text: `${a.tool_name} (${a.risk}): ${a.status}${a.approval_id ? ' · approval ' + a.approval_id : ''}` }))) : null,
  ].filter(Boolean));
}

$('chat-form').addEventListener('submit', async event => {
  event.preventDefault();
  const text = $('chat-text').value.trim();
  if (!text || streaming) return;
  $('chat-text').value = '';
  $('chat-log').append(el('li', { class: 'turn user' }, el('span', { class: 'sr-only', text: 'You: ' }), text));
  const reply = el('span', { class: 'reply-text' });
  const item = el('li', { class: 'turn assistant', 'aria-busy': 'true' }, el('span', { class: 'sr-only', text: 'Sonia: ' }), reply);
  $('chat-log').append(item);
  streaming = new AbortController();
  $('chat-cancel').disabled = false;
  $('chat-send').disabled = true;
  try {
    let chunks = 0;
    const final = await streamChat({ text }, chunk => {
      reply.textContent += chunk;
      item.dataset.chunks = String(++chunks); // how many pieces arrived before the final answer
    }, streaming.signal);
    if (final) {
      reply.textContent = final.reply;
      showProvenance(final);
    }
  } catch (error) {
    item.append(el('p', { class: error.name === 'AbortError' ? 'hint' : 'error',
      text: error.name === 'AbortError' ? 'Cancelled.' : message(error) }));
  } finally {
    item.removeAttribute('aria-busy');
    streaming = null;
    $('chat-cancel').disabled = true;
    $('chat-send').disabled = false;
  }
});

$('chat-text').addEventListener('keydown', event => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $('chat-form').requestSubmit();
  }
});

$('chat-cancel').addEventListener('click', () => streaming?.abort());

// ---------------------------------------------------------------- approvals, live over the WebSocket
const approvals = {
  socket: null,
  items: new Map(),
  retry: null,

  start() {
    if (this.socket) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/approvals?pending_only=true`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => { $('approvals-state').textContent = 'Live.'; };
    socket.onmessage = event => this.change(JSON.parse(event.data));
    socket.onclose = close => {
      if (this.socket !== socket) return;
      this.socket = null;
      $('approvals-state').textContent = `Disconnected (${close.reason || close.code}); reconnecting…`;
      this.retry = setTimeout(() => { if (me) this.start(); }, 2000);
    };
  },

  stop() {
    clearTimeout(this.retry);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.items.clear();
    this.draw();
  },

  change({ approval, change }) {
    if (!approval) return;
    if (approval.state === 'APPROVAL_STATE_PENDING') this.items.set(approval.approval_id, approval);
    else this.items.delete(approval.approval_id);
    this.draw();
  },

  draw() {
    const list = $('approvals-list');
    const items = [...this.items.values()];
    $('approvals-count').textContent = items.length ? String(items.length) : '';
    list.replaceChildren(...items.map(a => el('li', { class: 'card approval', 'data-approval': a.approval_id },
      el('h2', { id: `approval-${a.approval_id}` }, el('code', { text: a.tool_name }), ' ', el('span', { class: `risk ${a.risk}`, text: (a.risk || '').replace('RISK_LEVEL_', '') })),
      el('p', { class: 'hint', text: `Rule ${a.rule || '—'} · asked by ${a.requested_by || '—'}` }),
      el('pre', { class: 'arguments', 'aria-label': 'Arguments' }, JSON.stringify(a.arguments || {}, null, 2)),
      el('div', { class: 'row' },
        el('button', { type: 'button', onclick: () => decide(a, true), 'aria-describedby': `approval-${a.approval_id}` }, 'Approve once'),
        a.session_id ? el('button', { type: 'button', onclick: () => decide(a, true, 'GRANT_SCOPE_SESSION'),
          'aria-describedby': `approval-${a.approval_id}` }, 'Approve for this session') : null,
        el('button', { type: 'button', onclick: () => askPattern(a), 'aria-describedby': `approval-${a.approval_id}` },
          'Approve for a pattern…'),
        el('button', { type: 'button', class: 'danger', onclick: () => decide(a, false), 'aria-describedby': `approval-${a.approval_id}` }, 'Deny')))));
    if (!items.length) list.append(el('li', { class: 'hint', text: 'Nothing waits for a decision.' }));
  },
};

/** JSON with object keys sorted and no spaces: EVA-OS's canonical form, which a pattern grant's glob matches. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map(k => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

let patternFor = null;

function askPattern(approval) {
  patternFor = approval;
  $('pattern-tool').textContent = approval.tool_name;
  $('pattern-glob').value = canonical(approval.arguments || {});
  $('pattern-dialog').showModal();
}

$('pattern-dialog').addEventListener('close', () => {
  const approval = patternFor;
  patternFor = null;
  if ($('pattern-dialog').returnValue !== 'approve' || !approval) return;
  decide(approval, true, 'GRANT_SCOPE_PATTERN', {
    pattern: $('pattern-glob').value, ttl_seconds: 60 * Number($('pattern-ttl').value || 60) });
});

async function decide(approval, approve, scope = 'GRANT_SCOPE_ONCE', extra = {}) {
  try {
    await api('POST', `/v1/approvals/${encodeURIComponent(approval.approval_id)}:decide`,
      approve ? { approve, grant_scope: scope, ...extra } : { approve });
    // The socket's DECIDED change removes it here and on every other open console.
  } catch (error) {
    notice(`Could not decide: ${message(error)}`);
  }
}

// ---------------------------------------------------------------- memory
let forgetting = null;
let superseding = null;

function when(timestamp) {
  return timestamp ? new Date(timestamp).toLocaleString() : '—';
}

const STATES = { MEMORY_STATE_ACTIVE: 'active', MEMORY_STATE_SUPERSEDED: 'superseded', MEMORY_STATE_INVALIDATED: 'invalidated' };

/** One memory as a card: its text, where it stands, and what can be done to it. */
function memoryCard(memory, index, ranks) {
  const id = `mem-${index}`;
  const active = !memory.state || memory.state === 'MEMORY_STATE_ACTIVE';
  const scope = memory.scope || {};
  return el('li', { class: `card memory${active ? '' : ' inactive'}`, 'data-memory': memory.name },
    el('p', { id, text: memory.text }),
    el('p', { class: 'hint', text: [memory.name, STATES[memory.state] || (memory.state || '').replace('MEMORY_STATE_', '').toLowerCase(),
      scope.session ? `session ${scope.session}` : (scope.user ? 'own' : 'tenant-wide'), ranks,
      memory.superseded_by ? `superseded by ${memory.superseded_by}` : null,
      memory.supersedes ? `replaces ${memory.supersedes}` : null].filter(Boolean).join(' · ') }),
    el('div', { class: 'row' },
      active ? el('button', { type: 'button', 'aria-describedby': id, onclick: () => {
        superseding = memory;
        $('supersede-old').textContent = memory.text;
        $('supersede-text').value = memory.text;
        $('supersede-dialog').showModal();
      } }, 'Supersede…') : null,
      el('button', { type: 'button', 'aria-describedby': id, onclick: () => showAudit(memory) }, 'Audit trail'),
      active ? el('button', { type: 'button', class: 'danger', 'aria-describedby': id,
        onclick: () => { forgetting = memory; $('forget-text').textContent = memory.text; $('forget-dialog').showModal(); } },
        'Forget…') : null));
}

function showMemories(memories, rank = () => null, empty = 'No memory matches.') {
  $('audit').hidden = true;
  $('memory-results').replaceChildren(...memories.map((m, i) => memoryCard(m, i, rank(i))));
  if (!memories.length) $('memory-results').append(el('li', { class: 'hint', text: empty }));
}

let lastMemoryQuery = null;

async function runMemoryQuery(query = lastMemoryQuery) {
  lastMemoryQuery = query;
  if (!query) return;
  try {
    await query();
  } catch (error) {
    $('memory-results').replaceChildren(el('li', { class: 'error', text: message(error) }));
  }
}

$('memory-form').addEventListener('submit', event => {
  event.preventDefault();
  const text = $('memory-query').value;
  runMemoryQuery(async () => {
    const data = await api('POST', '/v1/memories:search', { query: text, top_k: 20 });
    const hits = data.hits || [];
    showMemories(hits.map(h => h.memory), i => `score ${Number(hits[i].score).toFixed(3)} · BM25 rank ${hits[i].bm25_rank || '—'} · vector rank ${hits[i].vector_rank || '—'}`);
  });
});

function syncBrowseScope() {
  const session = $('browse-scope').value === 'session';
  $('browse-session').hidden = !session;
  $('browse-session-label').hidden = !session;
  $('browse-session').required = session;
}
$('browse-scope').addEventListener('change', syncBrowseScope);
syncBrowseScope();

$('browse-form').addEventListener('submit', event => {
  event.preventDefault();
  const params = new URLSearchParams({ page_size: '100' });
  const scope = $('browse-scope').value;
  if (scope === 'tenant') params.set('all_users', 'true');
  if (scope === 'session') params.set('scope.session', $('browse-session').value.trim());
  if ($('browse-inactive').checked) params.set('include_inactive', 'true');
  runMemoryQuery(async () => {
    const data = await api('GET', `/v1/memories?${params}`);
    showMemories(data.memories || [], () => null, 'No memory in this scope.');
  });
});

$('forget-dialog').addEventListener('close', async () => {
  if ($('forget-dialog').returnValue !== 'forget' || !forgetting) return;
  const memory = forgetting;
  forgetting = null;
  try {
    await api('POST', `/v1/${memory.name}:forget`, { name: memory.name, reason: 'forgotten from the console' });
    document.querySelector(`[data-memory="${CSS.escape(memory.name)}"]`)?.remove();
    notice(`Forgot ${memory.name}.`);
  } catch (error) {
    notice(`Could not forget: ${message(error)}`);
  }
});

$('supersede-dialog').addEventListener('close', async () => {
  const old = superseding;
  superseding = null;
  if ($('supersede-dialog').returnValue !== 'supersede' || !old) return;
  const scope = old.scope || {};
  try {
    const stored = await api('POST', '/v1/memories:store', {
      memory: { text: $('supersede-text').value, kind: old.kind, metadata: old.metadata, source: 'console',
        scope: { session: scope.session || '' } },
      supersedes: old.name, tenant_wide: !scope.user, request_id: crypto.randomUUID(),
    });
    notice(`Superseded ${old.name} by ${stored.memory.name}.`);
    await runMemoryQuery();
  } catch (error) {
    notice(`Could not supersede: ${message(error)}`);
  }
});

async function showAudit(memory) {
  const list = $('audit-list');
  $('audit-title').textContent = `Audit trail of ${memory.name}`;
  $('audit').hidden = false;
  try {
    const data = await api('GET', `/v1/auditRecords?memory=${encodeURIComponent(memory.name)}&page_size=100`);
    const records = data.audit_records || [];
    list.replaceChildren(...records.map(r => el('li', {},
      el('strong', { text: (r.action || '').replace('AUDIT_ACTION_', '').toLowerCase() }),
      ` ${when(r.create_time)} by ${r.principal || '—'}`, r.detail ? el('span', { class: 'hint', text: ` · ${r.detail}` }) : null)));
    if (!records.length) list.append(el('li', { class: 'hint', text: 'No record.' }));
  } catch (error) {
    list.replaceChildren(el('li', { class: 'error', text: message(error) }));
  }
  $('audit').focus();
}

// ---------------------------------------------------------------- sessions: list, history, event replay
const SESSION_STATES = { SESSION_STATE_CREATED: 'created', SESSION_STATE_ACTIVE: 'active', SESSION_STATE_PAUSED: 'paused', SESSION_STATE_CLOSED: 'closed' };

async function loadSessions() {
  try {
    const data = await api('GET', '/sessions?page_size=50');
    const sessions = data.sessions || [];
    $('sessions-body').replaceChildren(...sessions.map(s => el('tr', { 'data-session': s.session_id },
      el('td', {}, el('code', { text: s.session_id })), el('td', { text: SESSION_STATES[s.state] || s.state }),
      el('td', { text: when(s.create_time) }), el('td', { text: when(s.last_activity_time) }),
      el('td', {}, el('button', { type: 'button', 'aria-label': `Open session ${s.session_id}`, onclick: () => openSession(s.session_id) }, 'Open')))));
    if (!sessions.length) $('sessions-body').append(el('tr', {}, el('td', { colspan: 5, class: 'hint', text: 'No session yet.' })));
  } catch (error) {
    failedRows('sessions-body', 5, error);
  }
}

$('sessions-refresh').addEventListener('click', loadSessions);
async function newSession(voiceOn) {
  try {
    const session = await api('POST', '/session/start', { request_id: crypto.randomUUID(), voice: voiceOn });
    await loadSessions();
    openSession(session.session_id);
  } catch (error) {
    notice(`Could not start a session: ${message(error)}`);
  }
}

$('session-new').addEventListener('click', () => newSession(false));
$('session-new-voice').addEventListener('click', () => newSession(true));

async function loadHistory(id) {
  const session = await api('GET', `/session/${encodeURIComponent(id)}`);
  $('session-facts').textContent = `${SESSION_STATES[session.state] || session.state} · started ${when(session.create_time)}`
    + ` · ${session.last_sequence || 0} events`;
  const history = session.history || [];
  $('session-history').replaceChildren(...history.map(h => el('li', { class: `turn ${h.role === 'user' ? 'user' : 'assistant'}` },
    el('span', { class: 'sr-only', text: h.role === 'user' ? 'User: ' : 'Assistant: ' }), h.text,
    h.interrupted ? el('span', { class: 'hint', text: ' (interrupted)' }) : null)));
  if (!history.length) $('session-history').append(el('li', { class: 'hint', text: 'Nothing said yet.' }));
  return session;
}

/** The session's WebSocket (Pipecat's, under the gateway's origin): the kept events replayed, then live ones. */
const conversation = {
  socket: null,
  id: null,

  open(id) {
    this.close();
    this.id = id;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/${encodeURIComponent(id)}?last_sequence=0&audio=binary`;
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    $('replay-state').textContent = 'Replaying…';
    socket.onopen = () => { $('replay-state').textContent = 'Live: the kept events, then each new one.'; };
    socket.onmessage = event => (typeof event.data === 'string' ? this.event(JSON.parse(event.data)) : voice.play(event.data));
    socket.onclose = close => {
      if (this.socket !== socket) return;
      voice.stop();
      this.socket = null;
      $('replay-state').textContent = close.code === 4001
        ? 'The session is closed: its history is above, its events are no longer streamed.'
        : `Disconnected (${close.reason || close.code}).`;
    };
  },

  close() {
    const socket = this.socket;
    this.socket = null;
    voice.stop();
    socket?.close();
  },

  audio(pcm) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(pcm);
  },

  event(e) {
    const event = e.event || e;
    if (!event.type) return;
    const type = event.type.replace('EVENT_TYPE_', '');
    const text = event.text || event.error_code || (event.metrics ? Object.entries(event.metrics).map(([k, v]) => `${k} ${Math.round(v)} ms`).join(', ') : '');
    $('session-events').append(el('li', { 'data-sequence': event.sequence || '0' },
      el('span', { class: 'seq', text: event.sequence ? `#${event.sequence}` : '·' }), ' ',
      el('strong', { text: type }), event.role ? ` ${event.role}` : '', text ? `: ${text}` : ''));
    if (type === 'TURN' && this.id) loadHistory(this.id).catch(() => {});
    if (type === 'INTERRUPTED') voice.interrupt();
    // The words so far while the user speaks, then the final transcript in their place.
    if (type === 'PARTIAL_TRANSCRIPT') $('voice-heard').textContent = `Hearing: ${event.text}…`;
    if (type === 'TRANSCRIPT') $('voice-heard').textContent = `Heard: ${event.text}`;
    if (type === 'METRICS') voice.metrics(event.turn_metrics || event.metrics || {});
  },

  say(text) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify({ type: 'EVENT_TYPE_MESSAGE', message_id: crypto.randomUUID(), role: 'user', text }));
    return true;
  },
};

const STAGES = [['vad_ms', 'End of speech detected'], ['asr_ms', 'Recognition'], ['first_token_ms', 'Chat (first reply text)'],
  ['tts_ms', 'Synthesis'], ['pipeline_ms', 'Queueing and delivery'], ['end_of_speech_to_first_audio_ms', 'Your wait (end of speech to first audio)']];

/** The microphone as 16 kHz PCM16 frames to the session's socket, and the reply's audio played back. */
const voice = {
  context: null,
  stream: null,
  next: 0,
  playing: [],

  audioContext() {
    this.context ??= new AudioContext({ sampleRate: 16000 });
    return this.context;
  },

  async start() {
    const context = this.audioContext();
    await context.resume();
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
    await context.audioWorklet.addModule('/console/mic-worklet.js');
    const frames = new AudioWorkletNode(context, 'mic-frames');
    frames.port.onmessage = ({ data }) => {
      const pcm = new Int16Array(data.length);
      for (let i = 0; i < data.length; i++) pcm[i] = Math.max(-1, Math.min(1, data[i])) * 0x7fff;
      conversation.audio(pcm.buffer);
    };
    context.createMediaStreamSource(this.stream).connect(frames);
    frames.connect(context.destination); // pulled by the graph; it outputs silence
    this.frames = frames;
    $('voice-talk').setAttribute('aria-pressed', 'true');
    $('voice-talk').textContent = 'Stop talking';
    $('voice-state').textContent = 'Listening: speak, then pause.';
  },

  stop() {
    this.stream?.getTracks().forEach(track => track.stop());
    this.stream = null;
    this.frames?.disconnect();
    this.frames = null;
    $('voice-talk').setAttribute('aria-pressed', 'false');
    $('voice-talk').textContent = 'Talk';
    $('voice-state').textContent = 'The microphone is off.';
  },

  play(buffer) {
    const context = this.audioContext();
    const pcm = new Int16Array(buffer);
    const audio = context.createBuffer(1, pcm.length, 16000);
    const samples = audio.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i] / 0x8000;
    const source = context.createBufferSource();
    source.buffer = audio;
    source.connect(context.destination);
    this.next = Math.max(this.next, context.currentTime);
    source.start(this.next);
    this.next += audio.duration;
    this.playing.push(source);
    source.onended = () => { this.playing = this.playing.filter(s => s !== source); };
  },

  interrupt() { // barge-in: the user spoke over the reply
    this.playing.forEach(source => source.stop());
    this.playing = [];
    this.next = 0;
  },

  metrics(figures) {
    $('voice-metrics').replaceChildren(...STAGES.filter(([key]) => figures[key] !== undefined)
      .flatMap(([key, label]) => cell(label, `${Math.round(Number(figures[key]))} ms`)));
  },
};

$('voice-talk').addEventListener('click', async () => {
  if (voice.stream) {
    voice.stop();
    return;
  }
  try {
    await voice.start();
  } catch (error) {
    $('voice-state').textContent = `No microphone: ${error.message || error}`;
  }
});

async function openSession(id) {
  $('session-detail').hidden = false;
  $('session-title').textContent = `Session ${id}`;
  $('session-events').replaceChildren();
  $('voice-heard').textContent = '';
  try {
    const session = await loadHistory(id);
    $('voice').hidden = !session.voice || session.state === 'SESSION_STATE_CLOSED';
    if (session.state !== 'SESSION_STATE_CLOSED') conversation.open(id);
    else {
      conversation.close();
      $('replay-state').textContent = 'The session is closed: its history is above.';
    }
  } catch (error) {
    $('session-facts').textContent = message(error);
  }
  $('session-title').setAttribute('tabindex', '-1');
  $('session-title').focus();
}

$('session-say').addEventListener('submit', event => {
  event.preventDefault();
  if (conversation.say($('session-text').value)) $('session-text').value = '';
  else notice('The session is not connected.');
});

// ---------------------------------------------------------------- administration
const ROLES = { ROLE_ADMIN: 'Admin', ROLE_USER: 'User' };

function loadAdmin() {
  loadUsers();
  loadKeys();
  loadUsage();
  loadTraining();
  loadDeps();
  loadLimits();
}

for (const button of document.querySelectorAll('[data-jump]')) {
  button.addEventListener('click', () => {
    const target = $(button.dataset.jump);
    target.scrollIntoView({ block: 'start' });
    target.focus();
  });
}

/** Asks before something that cannot be undone; resolves true when confirmed. */
function confirmed(title, text, yes) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-yes').textContent = yes;
  dialog.showModal();
  return new Promise(resolve => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }));
}

/** A Delete button for one row: asks first, then DELETE `path` and reload. */
function deleteButton(what, consequence, path, reload) {
  return el('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${what}`, onclick: async () => {
    if (!await confirmed(`Delete ${what}?`, consequence, 'Delete')) return;
    try {
      await api('DELETE', path);
      notice(`Deleted ${what}.`);
      reload();
    } catch (error) {
      notice(`Could not delete: ${message(error)}`);
    }
  } }, 'Delete');
}

/** A table body that says what went wrong instead of its rows. */
function failedRows(body, columns, error) {
  $(body).replaceChildren(el('tr', {}, el('td', { colspan: columns, class: 'error', text: message(error) })));
}

async function loadUsers() {
  try {
    const data = await api('GET', '/api/users?page_size=1000');
    $('users-body').replaceChildren(...(data.users || []).map(u => {
      const self = u.user_id === me.subject;
      const role = el('select', { 'aria-label': `Role of ${u.username}`, disabled: self, onchange: async () => {
        try {
          await api('PUT', `/api/users/${encodeURIComponent(u.user_id)}`, { role: role.value, update_mask: 'role' });
          notice(`${u.username} is now ${ROLES[role.value]}.`);
        } catch (error) {
          notice(`Could not change the role: ${message(error)}`);
          role.value = u.role;
        }
      } }, Object.entries(ROLES).map(([value, label]) => el('option', { value, selected: u.role === value }, label)));
      return el('tr', { 'data-user': u.username },
        el('td', { text: u.username }), el('td', { text: u.display_name }), el('td', {}, role),
        el('td', { text: u.disabled ? 'Disabled' : 'Active' }),
        el('td', {}, self ? el('span', { class: 'hint', text: 'you' }) : deleteButton(`user ${u.username}`,
          'The user can no longer sign in; their sessions and keys stop working.', `/api/users/${encodeURIComponent(u.user_id)}`, loadUsers)));
    }));
  } catch (error) {
    failedRows('users-body', 5, error);
  }
}

$('create-user-form').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.target;
  $('create-user-error').textContent = '';
  try {
    const user = await api('POST', '/api/auth/register', {
      username: form.username.value, password: form.password.value,
      display_name: form.display_name.value, role: form.role.value, request_id: crypto.randomUUID(),
    });
    form.reset();
    notice(`Created user ${user.username}.`);
    loadUsers();
  } catch (error) {
    $('create-user-error').textContent = message(error);
  }
});

async function loadKeys() {
  try {
    const data = await api('GET', '/api/keys?page_size=1000');
    const keys = data.keys || [];
    $('keys-body').replaceChildren(...keys.map(k => el('tr', { 'data-key': k.key_id },
      el('td', { text: k.name }), el('td', {}, el('code', { text: k.key_id })), el('td', { text: ROLES[k.role] || k.role }),
      el('td', { text: when(k.create_time) }),
      el('td', {}, deleteButton(`key ${k.name}`, 'Programs that use it are refused from now on.',
        `/api/keys/${encodeURIComponent(k.key_id)}`, loadKeys)))));
    if (!keys.length) $('keys-body').append(el('tr', {}, el('td', { colspan: 5, class: 'hint', text: 'No key yet.' })));
  } catch (error) {
    failedRows('keys-body', 5, error);
  }
}

$('create-key-form').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.target;
  $('create-key-error').textContent = '';
  try {
    const created = await api('POST', '/api/keys', { name: form.name.value, role: form.role.value, request_id: crypto.randomUUID() });
    form.reset();
    $('key-secret').value = created.secret;
    $('key-secret-box').hidden = false;
    $('key-secret').focus();
    $('key-secret').select();
    loadKeys();
  } catch (error) {
    $('create-key-error').textContent = message(error);
  }
});

$('key-secret-done').addEventListener('click', () => {
  $('key-secret').value = '';
  $('key-secret-box').hidden = true;
  $('key-name').focus();
});

const tokens = n => Number(n || 0).toLocaleString();
const dollars = micros => `$${(Number(micros || 0) / 1e6).toFixed(4)}`;
const limit = (n, format) => (Number(n) ? format(n) : 'unlimited');
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

function day(offset) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}

/** Tokens per day from the ledger (14 days) and the forecast's daily mean (7 days ahead), as plain SVG bars. */
function drawUsage(rows, forecast) {
  const perDay = new Map();
  for (const r of rows) perDay.set(r.day, (perDay.get(r.day) || 0) + Number(r.usage?.total_tokens || 0));
  const horizon = Number(forecast.horizon_days) || 7;
  const daily = Number(forecast.projected?.total_tokens || 0) / horizon;
  const bars = [];
  for (let i = -13; i <= 0; i++) bars.push({ day: day(i), tokens: perDay.get(day(i)) || 0, projected: false });
  for (let i = 1; i <= horizon; i++) bars.push({ day: day(i), tokens: daily, projected: true });
  const width = 640;
  const height = 200;
  const pad = 24;
  const top = Math.max(1, ...bars.map(b => b.tokens));
  const step = (width - 2 * pad) / bars.length;
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height + 30}`, role: 'img', 'aria-labelledby': 'usage-chart-title', class: 'chart' },
    svg('title', { id: 'usage-chart-title' }, `Tokens per day: the last 14 days from the ledger, the next ${horizon} projected`),
    svg('line', { x1: pad, y1: height, x2: width - pad, y2: height, class: 'axis' }),
    ...bars.map((b, i) => {
      const h = Math.round((height - pad) * b.tokens / top);
      return svg('rect', { x: pad + i * step + 1, y: height - h, width: Math.max(1, step - 2), height: h,
        class: b.projected ? 'bar projected' : 'bar' }, svg('title', {}, `${b.day}: ${tokens(Math.round(b.tokens))} tokens${b.projected ? ' (forecast)' : ''}`));
    }),
    svg('text', { x: pad, y: height + 18, class: 'label' }, bars[0].day),
    svg('text', { x: pad + 13 * step, y: height + 18, class: 'label' }, 'today'),
    svg('text', { x: width - pad, y: height + 18, class: 'label end' }, bars[bars.length - 1].day),
    svg('text', { x: pad, y: 14, class: 'label' }, `${tokens(Math.round(top))} tokens`));
  $('usage-chart').replaceChildren(chart);
  $('usage-caption').textContent = `Solid: tokens charged per day. Light with a dashed outline: the forecast (${forecast.method || 'linear'}, `
    + `${tokens(forecast.projected?.total_tokens)} tokens, ${dollars(forecast.projected?.cost_micros)} over ${horizon} days, `
    + `confidence ${Math.round(100 * Number(forecast.confidence || 0))} %).`;
}

async function loadUsage() {
  try {
    const [budget, usage, forecast] = await Promise.all([
      api('GET', '/v1/budget'), api('GET', `/v1/usage?start_day=${day(-13)}&page_size=1000`),
      api('GET', '/v1/usage:forecast?horizon_days=7')]);
    $('budget-facts').replaceChildren(
      ...cell('Tenant', budget.tenant), ...cell('Period', budget.period),
      ...cell('Tokens', `${tokens(budget.spent_tokens)} spent, ${tokens(budget.reserved_tokens)} reserved, limit ${limit(budget.limit_tokens, tokens)}`),
      ...cell('Cost', `${dollars(budget.spent_cost_micros)} spent, limit ${limit(budget.limit_cost_micros, dollars)}`),
      ...cell('Remaining', Number(budget.limit_tokens) || Number(budget.limit_cost_micros)
        ? `${tokens(budget.remaining_tokens)} tokens, ${dollars(budget.remaining_cost_micros)}` : 'unlimited'));
    const rows = usage.rows || [];
    drawUsage(rows, forecast);
    $('usage-body').replaceChildren(...rows.map(r => el('tr', {},
      el('td', { text: r.day }), el('td', { text: r.tenant }), el('td', { text: r.model }), el('td', { text: tokens(r.requests) }),
      el('td', { text: tokens(r.usage?.total_tokens) }), el('td', { text: dollars(r.usage?.cost_micros) }))));
    if (!rows.length) $('usage-body').append(el('tr', {}, el('td', { colspan: 6, class: 'hint', text: 'Nothing charged in the last 14 days.' })));
  } catch (error) {
    $('budget-facts').replaceChildren(el('dd', { class: 'error', text: message(error) }));
  }
}

/** The tenant's training mode: a lock on actions above LOW and on memory changes, from EVA-OS. */
function showTraining(status) {
  const on = status.enabled === true;
  $('training-facts').replaceChildren(
    ...cell('Tenant', status.tenant || me.tenant),
    el('dt', { text: 'State' }), el('dd', {}, el('span', { class: `state ${on ? 'bad' : 'ok'}`, id: 'training-state', text: on ? 'On' : 'Off' })),
    ...(on ? [...cell('Reason', status.reason), ...cell('Turned on by', status.enabled_by),
      ...cell('Since', when(status.since)), ...cell('Lifts by itself', when(status.expires_at))] : []));
  $('training-form-title').textContent = on ? 'Replace the reason or the time left' : 'Turn training mode on';
  $('training-enable').textContent = on ? 'Replace' : 'Turn on';
  $('training-disable').hidden = !on;
}

async function loadTraining() {
  try {
    showTraining(await api('GET', `/v1/training/status/${encodeURIComponent(me.tenant)}`));
  } catch (error) {
    $('training-facts').replaceChildren(el('dd', { class: 'error', text: message(error) }));
  }
}

$('training-form').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.target;
  $('training-error').textContent = '';
  try {
    const status = await api('POST', '/v1/training/enable',
      { tenant: me.tenant, reason: form.reason.value, ttl: `${Number(form.hours.value) * 3600}s` });
    form.reason.value = '';
    showTraining(status);
    notice(`Training mode is on until ${when(status.expires_at)}.`);
  } catch (error) {
    $('training-error').textContent = message(error);
  }
});

$('training-disable').addEventListener('click', async () => {
  if (!await confirmed('Turn training mode off?', 'Actions above low risk and memory changes are allowed again at once.',
    'Turn off')) return;
  try {
    showTraining(await api('POST', '/v1/training/disable', { tenant: me.tenant, reason: 'turned off from the console' }));
    notice('Training mode is off.');
    $('training-reason').focus();
  } catch (error) {
    notice(`Could not turn training mode off: ${message(error)}`);
  }
});

async function loadDeps() {
  try {
    const data = await api('GET', '/v1/deps');
    $('deps-body').replaceChildren(...(data.dependencies || []).map(d => el('tr', { 'data-dep': d.name },
      el('th', { scope: 'row', text: d.name }), el('td', {}, el('code', { text: d.target })),
      el('td', {}, el('span', { class: `state ${d.ok ? 'ok' : 'bad'}`, text: d.ok ? 'ok' : (d.degraded ? 'degraded' : 'down') })),
      el('td', { text: `${d.latency_ms} ms` }), el('td', { text: d.circuit_state || 'none' }), el('td', { text: d.error || '' }))));
  } catch (error) {
    failedRows('deps-body', 6, error);
  }
}

async function loadLimits() {
  try {
    const data = await api('GET', '/api/limitations');
    $('limits-list').replaceChildren(...(data.limitations || []).map(l => el('li', { class: 'card' },
      el('h3', {}, el('code', { text: l.id }), ` (${l.area})`), el('p', { text: l.description }),
      l.workaround ? el('p', { class: 'hint', text: `What to do: ${l.workaround}` }) : null)));
  } catch (error) {
    $('limits-list').replaceChildren(el('li', { class: 'error', text: message(error) }));
  }
}

$('password-form').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.target;
  $('password-error').textContent = '';
  try {
    await api('PUT', '/api/users/me/password',
      { current_password: form.current_password.value, new_password: form.new_password.value });
    form.reset();
    await loadMe(); // the generated password's hold on the console ends
    notice('Password changed.');
  } catch (error) {
    $('password-error').textContent = message(error);
  }
});

loadMe();
