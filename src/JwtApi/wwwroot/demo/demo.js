// JwtApi browser demo: cookie-mode sign-in, an access token held in memory only, silent refresh.
// No framework and no build step. Data from the network is written with textContent, never innerHTML.
'use strict';

(() => {
  const CSRF_HEADER = 'X-JwtApi-CSRF';
  // the API is the origin that served this page: /demo/ → /
  const API = new URL('..', window.location.href);

  // The access token lives here and nowhere else: not in localStorage or sessionStorage, not in a cookie.
  let session = null; // { token, header, payload, expiresIn, receivedAt, refreshAt }
  let refreshTimer = 0;
  let pendingRefresh = null;
  let refreshCount = 0;
  // bumped by each sign-in and sign-out: a refresh answered after one of them is stale and ignored
  let epoch = 0;

  const $ = (id) => document.getElementById(id);

  /** When to renew: at 80% of the lifetime or 30 s before expiry, whichever is earlier (seconds from receipt). */
  function refreshDelaySeconds(expiresIn) {
    return Math.max(0, Math.min(expiresIn * 0.8, expiresIn - 30));
  }

  function decodeSegment(segment) {
    const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }

  function decodeToken(token) {
    const [header, payload] = token.split('.');
    return { header: decodeSegment(header), payload: decodeSegment(payload) };
  }

  async function call(method, path, { token, body, csrf } = {}) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (csrf) headers[CSRF_HEADER] = '1';
    const response = await fetch(new URL(path, API), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const text = await response.text();
    let data = text;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: show it as text
    }
    return { status: response.status, statusText: response.statusText, data };
  }

  function formatSeconds(seconds) {
    const s = Math.max(0, Math.ceil(seconds));
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  }

  function setStatus(text, tone) {
    const status = $('status');
    status.textContent = text;
    status.className = `status ${tone || ''}`.trim();
  }

  function problemText(result) {
    const d = result.data;
    if (d && typeof d === 'object') return [d.title, d.detail].filter(Boolean).join(': ') || `HTTP ${result.status}`;
    return `HTTP ${result.status}`;
  }

  function showSignedIn(signedIn) {
    $('signed-out').hidden = signedIn;
    $('session').hidden = !signedIn;
    $('claims').hidden = !signedIn;
  }

  function render() {
    if (!session) return;
    const { header, payload } = session;
    const roles = [].concat(payload.role || []);
    $('who').textContent = `${payload.name} (${roles.join(', ') || 'no roles'})`;
    $('jti').textContent = payload.jti;
    $('claims-header').textContent = JSON.stringify(header, null, 2);
    $('claims-payload').textContent = JSON.stringify(payload, null, 2);
    $('refresh-count').textContent = String(refreshCount);
    tick();
  }

  function tick() {
    if (!session) return;
    const elapsed = (Date.now() - session.receivedAt) / 1000;
    const remaining = session.expiresIn - elapsed;
    $('lifetime').textContent = remaining > 0 ? formatSeconds(remaining) : 'expired';
    $('lifetime').classList.toggle('low', remaining <= 30);
    $('lifetime-bar').value = Math.max(0, remaining / session.expiresIn);
    const untilRefresh = (session.refreshAt - Date.now()) / 1000;
    $('next-refresh').textContent = pendingRefresh ? 'now…' : `in ${formatSeconds(untilRefresh)}`;
  }

  function scheduleRefresh(delayMs) {
    clearTimeout(refreshTimer);
    session.refreshAt = Date.now() + delayMs;
    refreshTimer = setTimeout(() => refresh('scheduled'), delayMs);
    tick();
  }

  function startSession(tokens) {
    const { header, payload } = decodeToken(tokens.access_token);
    session = { token: tokens.access_token, header, payload, expiresIn: tokens.expires_in, receivedAt: Date.now() };
    scheduleRefresh(refreshDelaySeconds(tokens.expires_in) * 1000);
    showSignedIn(true);
    render();
  }

  function endSession(message, tone) {
    clearTimeout(refreshTimer);
    session = null;
    showSignedIn(false);
    setStatus(message, tone);
  }

  function refresh(reason) {
    // one refresh at a time: a click during a scheduled refresh waits for it
    pendingRefresh ??= doRefresh(reason).finally(() => {
      pendingRefresh = null;
      tick();
    });
    return pendingRefresh;
  }

  async function doRefresh(reason) {
    tick();
    const started = epoch;
    let result;
    try {
      // no body: the refresh token is the HttpOnly cookie, which the browser adds itself
      result = await call('POST', 'refresh', { csrf: true });
    } catch {
      result = null;
    }
    if (started !== epoch) return false; // signed out (or in anew) meanwhile: never resurrect that session
    if (result && result.status === 200) {
      refreshCount += 1;
      $('last-refresh').textContent = `last ${new Date().toLocaleTimeString()} (${reason})`;
      startSession(result.data);
      setStatus(`Signed in as ${session.payload.name}. Token refreshed (${reason}).`, 'ok');
      return true;
    }
    if (reason === 'page load') {
      endSession('Signed out. Sign in to get a token.');
      return false;
    }
    const retryable = !result || result.status === 429 || result.status >= 500;
    const secondsLeft = session ? session.expiresIn - (Date.now() - session.receivedAt) / 1000 : 0;
    if (retryable && secondsLeft > 10) {
      // the network or the service hiccupped: the token still works, try again shortly
      setStatus(`Refresh failed (${result ? problemText(result) : 'network error'}); retrying in 10 s.`, 'warn');
      scheduleRefresh(10_000);
      return false;
    }
    endSession(`Your session ended (${result ? problemText(result) : 'network error'}). Sign in again.`, 'warn');
    return false;
  }

  async function signIn(event) {
    event.preventDefault();
    const button = $('sign-in');
    button.disabled = true;
    $('sign-in-error').textContent = '';
    epoch += 1;
    try {
      const result = await call('POST', 'login', {
        body: { username: $('username').value, password: $('password').value, refresh_cookie: true },
      });
      if (result.status === 200) {
        $('password').value = '';
        refreshCount = 0;
        $('last-refresh').textContent = '';
        startSession(result.data);
        setStatus(`Signed in as ${session.payload.name}.`, 'ok');
      } else {
        $('sign-in-error').textContent = problemText(result);
      }
    } catch {
      $('sign-in-error').textContent = 'The service did not answer.';
    } finally {
      button.disabled = false;
    }
  }

  async function signOut() {
    const token = session?.token;
    // forget the token first: whatever the server says, this page no longer uses it
    epoch += 1;
    endSession('Signing out…');
    try {
      const result = await call('POST', 'logout', { token });
      if (result.status === 204) {
        setStatus('Signed out: this login is revoked on the server and the refresh cookie is cleared.');
      } else {
        setStatus(`Signed out here; the server answered ${problemText(result)}.`, 'warn');
      }
    } catch {
      setStatus('Signed out here, but the service did not answer: the login may still be valid.', 'warn');
    }
  }

  async function callApi(path) {
    const request = `GET /${path}`;
    $('result-request').textContent = `${request} …`;
    $('result-status').textContent = '';
    $('result-body').textContent = '';
    // a late timer (a sleeping laptop, a throttled background tab) may have let the token expire: renew first
    if (session && Date.now() - session.receivedAt >= session.expiresIn * 1000) await refresh('expired');
    try {
      const result = await call('GET', path, { token: session?.token });
      $('result-request').textContent = session ? request : `${request} (no token)`;
      $('result-status').textContent = `${result.status} ${result.statusText}`.trim();
      $('result-status').className = `badge ${result.status < 300 ? 'ok' : 'bad'}`;
      $('result-body').textContent = typeof result.data === 'string' ? result.data : JSON.stringify(result.data, null, 2);
    } catch {
      $('result-request').textContent = request;
      $('result-status').textContent = 'network error';
      $('result-status').className = 'badge bad';
    }
  }

  $('sign-in-form').addEventListener('submit', signIn);
  $('refresh-now').addEventListener('click', () => refresh('button'));
  $('sign-out').addEventListener('click', signOut);
  $('call-me').addEventListener('click', () => callApi('me'));
  $('call-admin').addEventListener('click', () => callApi('users'));
  setInterval(tick, 250);

  // For automated tests and the curious: when the next refresh would fire, and firing it early through the
  // same scheduled path. Nothing here exposes a token.
  window.jwtApiDemo = Object.freeze({
    refreshDelaySeconds,
    refreshInMs: (ms) => session && scheduleRefresh(ms),
  });

  // a reload forgets the access token: get a new one with the refresh cookie, if there is a valid one
  refresh('page load');
})();
