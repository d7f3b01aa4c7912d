// The console's one way to call Sonia: the public REST API of the gateway's origin, signed in by the
// session cookie. State-changing calls carry the CSRF header (the value of the sonia_csrf cookie); a 401
// refreshes the session once and retries.

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code || `HTTP_${status}`;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)sonia_csrf=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : '';
}

export function headers(method, json) {
  const h = { accept: 'application/json' };
  if (json) h['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') h['x-csrf-token'] = csrfToken();
  return h;
}

let refreshing = null;

/** Rotates the session cookies; false when the session is over. */
export function refresh() {
  refreshing ??= fetch('/api/auth/refresh', { method: 'POST', headers: headers('POST', true), body: '{}' })
    .then(r => r.ok).catch(() => false).finally(() => { refreshing = null; });
  return refreshing;
}

async function envelope(response) {
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(response.status, { message: response.statusText });
  }
  if (!body.ok) throw new ApiError(response.status, body.error);
  return body.data;
}

/** Calls the API and returns the envelope's data; throws ApiError. */
export async function api(method, path, body, retry = true) {
  const json = body !== undefined;
  const response = await fetch(path, {
    method, headers: headers(method, json), body: json ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401 && retry && await refresh()) return api(method, path, body, false);
  if (response.status === 401) window.dispatchEvent(new CustomEvent('sonia:signed-out'));
  return envelope(response);
}

export async function signIn(username, password) {
  const response = await fetch('/api/auth/login', {
    method: 'POST',
    headers: { ...headers('POST', true), 'x-sonia-session': 'cookie' },
    body: JSON.stringify({ username, password }),
  });
  return envelope(response);
}

/**
 * Streams a chat reply over SSE: onChunk(text) for each piece, resolves with the final ChatResponse.
 * `signal` cancels it (the gateway then cancels the model's stream).
 */
export async function streamChat(request, onChunk, signal, retry = true) {
  const response = await fetch('/v1/chat:stream', {
    method: 'POST', headers: { ...headers('POST', true), accept: 'text/event-stream' },
    body: JSON.stringify(request), signal,
  });
  if (response.status === 401 && retry && await refresh()) return streamChat(request, onChunk, signal, false);
  if (!(response.headers.get('content-type') || '').startsWith('text/event-stream')) return envelope(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let final = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split('\n').filter(l => l.startsWith('data:')).map(l => l.slice(5).trimStart()).join('\n');
      if (!data) continue;
      const event = JSON.parse(data);
      if (event.chunk !== undefined) onChunk(event.chunk);
      else if (event.final) final = event.final;
      else if (event.error) throw new ApiError(200, event.error);
    }
  }
  return final;
}
