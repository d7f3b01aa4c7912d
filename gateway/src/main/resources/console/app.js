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
  $('who').textContent = signedIn ? (me.user?.username || me.subject) : '';
  if (signedIn) {
    approvals.start();
    const changed = localStorage.getItem('sonia.password-changed.' + me.subject);
    notice(me.user?.username === 'admin' && !changed
      ? 'First start: if you signed in with the generated admin password, change it now under Account.' : '');
  } else {
    approvals.stop();
    notice('');
  }
  show();
}

function show() {
  const wanted = (location.hash || '#chat').slice(1);
  let view = me === null ? 'signin' : wanted;
  if (!$('view-' + view) || view === 'signin' || (view === 'admin' && me.role !== 'ROLE_ADMIN')) {
    view = me === null ? 'signin' : 'chat';
  }
  for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== 'view-' + view;
  for (const link of document.querySelectorAll('#nav a[data-view]')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (view === 'admin') loadUsers();
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
        el('button', { type: 'button', class: 'danger', onclick: () => decide(a, false), 'aria-describedby': `approval-${a.approval_id}` }, 'Deny')))));
    if (!items.length) list.append(el('li', { class: 'hint', text: 'Nothing waits for a decision.' }));
  },
};

async function decide(approval, approve, scope = 'GRANT_SCOPE_ONCE') {
  try {
    await api('POST', `/v1/approvals/${encodeURIComponent(approval.approval_id)}:decide`,
      approve ? { approve, grant_scope: scope } : { approve });
    // The socket's DECIDED change removes it here and on every other open console.
  } catch (error) {
    notice(`Could not decide: ${message(error)}`);
  }
}

// ---------------------------------------------------------------- memory
let forgetting = null;

$('memory-form').addEventListener('submit', async event => {
  event.preventDefault();
  const results = $('memory-results');
  try {
    const data = await api('POST', '/v1/memories:search', { query: $('memory-query').value, top_k: 20 });
    const hits = data.hits || [];
    results.replaceChildren(...hits.map(hit => el('li', { class: 'card memory', 'data-memory': hit.memory.name },
      el('p', { id: `hit-${hits.indexOf(hit)}`, text: hit.memory.text }),
      el('p', { class: 'hint', text: `${hit.memory.name} · score ${Number(hit.score).toFixed(3)} · BM25 rank ${hit.bm25_rank || '—'} · vector rank ${hit.vector_rank || '—'}` }),
      el('button', { type: 'button', class: 'danger', 'aria-describedby': `hit-${hits.indexOf(hit)}`,
        onclick: () => { forgetting = hit.memory; $('forget-text').textContent = hit.memory.text; $('forget-dialog').showModal(); } },
        'Forget…'))));
    if (!hits.length) results.append(el('li', { class: 'hint', text: 'No memory matches.' }));
  } catch (error) {
    results.replaceChildren(el('li', { class: 'error', text: message(error) }));
  }
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

// ---------------------------------------------------------------- admin and account
async function loadUsers() {
  try {
    const data = await api('GET', '/api/users?page_size=1000');
    $('users-body').replaceChildren(...(data.users || []).map(u => el('tr', {},
      el('td', { text: u.username }), el('td', { text: u.display_name }),
      el('td', { text: u.role === 'ROLE_ADMIN' ? 'Admin' : 'User' }), el('td', { text: u.disabled ? 'Disabled' : 'Active' }))));
  } catch (error) {
    $('users-body').replaceChildren(el('tr', {}, el('td', { colspan: 4, class: 'error', text: message(error) })));
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

$('password-form').addEventListener('submit', async event => {
  event.preventDefault();
  const form = event.target;
  $('password-error').textContent = '';
  try {
    await api('PUT', '/api/users/me/password',
      { current_password: form.current_password.value, new_password: form.new_password.value });
    form.reset();
    localStorage.setItem('sonia.password-changed.' + me.subject, '1');
    notice('Password changed.');
  } catch (error) {
    $('password-error').textContent = message(error);
  }
});

loadMe();
