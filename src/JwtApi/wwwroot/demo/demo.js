// JwtApi browser demo: cookie-mode sign-in (with a second step when two-factor sign-in is on), an access token
// held in memory only, silent refresh, turning two-factor sign-in on and off; registration, the account's email
// address, and getting back in by mail (a forgotten password, and the pages the mailed links open).
// No framework and no build step. Data from the network is written with textContent, never innerHTML.
'use strict';

(() => {
  const CSRF_HEADER = 'X-JwtApi-CSRF';
  // the API is the origin that served this page: /demo/ → /
  const API = new URL('..', window.location.href);

  // The access token lives here and nowhere else: not in localStorage or sessionStorage, not in a cookie.
  let session = null; // { token, header, payload, expiresIn, receivedAt, refreshAt, enrollmentOnly }
  let refreshTimer = 0;
  let pendingRefresh = null;
  let refreshCount = 0;
  // bumped by each sign-in and sign-out: a refresh answered after one of them is stale and ignored
  let epoch = 0;
  // the second step of a sign-in: the mfa_token of /login's mfa_required answer, good only at /login/mfa
  let mfaToken = null;
  let useRecoveryCode = false;
  // the page a mailed link opened ('reset' or 'verify'), while it is shown instead of the sign-in and session cards
  let linkPage = null;
  // the token of a reset link: taken out of the address bar at once, kept here until the new password is set
  let resetToken = null;
  // whether the page-load refresh has run: a page opened by a mailed link runs it only once the link is dealt with
  let sessionLookedFor = false;
  // set by the first mail_disabled answer (Mail:Enabled is false): the email parts of the page are hidden
  let mailOff = false;
  // the account's address as GET /me (or the last change) said: { email, email_verified }
  let emailStatus = null;

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
    return { status: response.status, statusText: response.statusText, data, retryAfter: response.headers.get('Retry-After') };
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
    let text = `HTTP ${result.status}`;
    if (d && typeof d === 'object') {
      // a validation problem names the field and why (a wrong password or code at /me/mfa/*); others have a detail
      const errors = d.errors && typeof d.errors === 'object' ? Object.values(d.errors).flat() : [];
      text = (errors.length ? errors.join(' ') : [d.title, d.detail].filter(Boolean).join(': ')) || text;
    }
    return result.status === 429 && result.retryAfter ? `${text} Try again in ${result.retryAfter} s.` : text;
  }

  function showSignedIn(signedIn) {
    // a mailed link's page stands alone until it is left
    const shown = linkPage === null;
    $('signed-out').hidden = signedIn || !shown;
    $('session').hidden = !signedIn || !shown;
    $('claims').hidden = !signedIn || !shown;
    $('mfa').hidden = !signedIn || !shown;
    if (!signedIn) {
      resetMfaPanel();
      resetEmailPanel();
    }
  }

  function render() {
    if (!session) return;
    const { header, payload } = session;
    const roles = [].concat(payload.role || []);
    $('who').textContent = `${payload.name} (${roles.join(', ') || 'no roles'})`;
    $('jti').textContent = payload.jti;
    // how the user signed in (RFC 8176): pwd, or pwd and otp with the second factor; kept through refreshes
    $('amr').textContent = [].concat(payload.amr || []).join(', ') || '—';
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
    if (session.enrollmentOnly) {
      $('next-refresh').textContent = 'none: no refresh token until two-factor sign-in is on';
      return;
    }
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
    // Auth:RequireMfaFor: a token good only at /me/mfa/*, with no refresh token; turning the second factor on
    // answers a full login
    const enrollmentOnly = tokens.mfa_enrollment_required === true;
    session = { token: tokens.access_token, header, payload, expiresIn: tokens.expires_in, receivedAt: Date.now(), enrollmentOnly };
    clearTimeout(refreshTimer);
    if (!enrollmentOnly) scheduleRefresh(refreshDelaySeconds(tokens.expires_in) * 1000);
    $('refresh-now').disabled = enrollmentOnly;
    showSignedIn(true);
    render();
  }

  /** A new login (a sign-in, or two-factor sign-in turned on or off): counters from zero, the panel re-read. */
  function newLogin(tokens, how = '') {
    epoch += 1;
    refreshCount = 0;
    $('last-refresh').textContent = '';
    startSession(tokens);
    if (session.enrollmentOnly) {
      setStatus(`Signed in as ${session.payload.name}, whose role requires two-factor sign-in: turn it on below ` +
        '(until then the token works at /me/mfa only).', 'warn');
    } else {
      setStatus(`Signed in as ${session.payload.name}${how}.`, 'ok');
    }
    loadPanels();
  }

  /** What the session card and the two-factor panel show of the account, read anew. */
  function loadPanels() {
    loadMfaStatus();
    loadEmail();
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
    if (reason === 'page load') sessionLookedFor = true;
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
      if (reason === 'page load') loadPanels();
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

  /** POST /login with a password: a new login, or the code step; false, with the error shown, otherwise. */
  async function logIn(username, password, how = '') {
    epoch += 1;
    const result = await call('POST', 'login', { body: { username, password, refresh_cookie: true } });
    if (result.status === 200) {
      newLogin(result.data, how);
      return true;
    }
    if (result.status === 401 && result.data?.error === 'mfa_required') {
      showSecondStep(result.data.mfa_token);
      return true;
    }
    $('sign-in-error').textContent = problemText(result);
    return false;
  }

  /** A form's submit: its button disabled meanwhile, its error line emptied first and filled when the service is silent. */
  async function submitting(buttonId, errorId, work) {
    const button = $(buttonId);
    button.disabled = true;
    $(errorId).textContent = '';
    try {
      await work();
    } catch {
      $(errorId).textContent = 'The service did not answer.';
    } finally {
      button.disabled = false;
    }
  }

  async function signIn(event) {
    event.preventDefault();
    await submitting('sign-in', 'sign-in-error', async () => {
      if (await logIn($('username').value, $('password').value)) $('password').value = '';
    });
  }

  function showSecondStep(token) {
    mfaToken = token;
    setUseRecoveryCode(false);
    $('mfa-step-error').textContent = '';
    $('sign-in-form').hidden = true;
    $('mfa-step').hidden = false;
    setStatus('Password accepted: a second factor is needed.');
    $('mfa-step-code').focus();
  }

  function leaveSecondStep() {
    mfaToken = null;
    $('mfa-step-code').value = '';
    $('mfa-step').hidden = true;
    $('sign-in-form').hidden = false;
  }

  /** The one field takes the app's six digits, or a recovery code (xxxx-xxxx-xxxx-xxxx). */
  function setUseRecoveryCode(on) {
    useRecoveryCode = on;
    const input = $('mfa-step-code');
    input.value = '';
    input.inputMode = on ? 'text' : 'numeric';
    input.autocomplete = on ? 'off' : 'one-time-code';
    input.maxLength = on ? 64 : 6;
    if (on) input.removeAttribute('pattern');
    else input.pattern = '[0-9]{6}';
    $('mfa-step-label').textContent = on ? 'Recovery code' : 'Code from the authenticator app';
    $('mfa-step-toggle').textContent = on ? 'Use a code from the app instead' : 'Use a recovery code instead';
    $('mfa-step-error').textContent = '';
  }

  async function secondStep(event) {
    event.preventDefault();
    const value = $('mfa-step-code').value.trim();
    await submitting('mfa-step-verify', 'mfa-step-error', async () => {
      const result = await call('POST', 'login/mfa', {
        body: { mfa_token: mfaToken, [useRecoveryCode ? 'recovery_code' : 'code']: value, refresh_cookie: true },
      });
      if (result.status === 200) {
        leaveSecondStep();
        newLogin(result.data, useRecoveryCode ? ' with a recovery code' : ' with a code from the app');
      } else if (result.data?.error === 'invalid_mfa_token') {
        // expired, or too many wrong codes: the password step again
        leaveSecondStep();
        $('sign-in-error').textContent = problemText(result);
        setStatus('Signed out. Sign in to get a token.');
      } else {
        $('mfa-step-error').textContent = problemText(result);
        $('mfa-step-code').select();
      }
    });
  }

  // --- the two-factor sign-in panel: GET /me/mfa, POST /me/mfa/totp, …/totp/confirm, …/disable

  function resetMfaPanel() {
    for (const id of ['mfa-enrol', 'mfa-recovery', 'mfa-disable-form', 'mfa-turn-on', 'mfa-turn-off']) $(id).hidden = true;
    $('mfa-qr').removeAttribute('src');
    $('mfa-secret').textContent = '';
    $('mfa-recovery-codes').replaceChildren();
    for (const id of ['mfa-confirm-password', 'mfa-confirm-code', 'mfa-disable-password', 'mfa-disable-code']) $(id).value = '';
    $('mfa-error').textContent = '';
    $('mfa-status').textContent = 'Checking…';
  }

  /** A call with the session's token: the error shown in errorId when it fails; the answer either way (null without a session). */
  async function sessionCall(errorId, method, path, body) {
    if (!session) return null;
    $(errorId).textContent = '';
    try {
      const result = await call(method, path, { token: session.token, body });
      if (result.status >= 300) $(errorId).textContent = problemText(result);
      return result;
    } catch {
      $(errorId).textContent = 'The service did not answer.';
      return null;
    }
  }

  const mfaCall = (method, path, body) => sessionCall('mfa-error', method, path, body);

  async function loadMfaStatus() {
    const started = epoch;
    const result = await mfaCall('GET', 'me/mfa');
    if (started !== epoch || !result || result.status !== 200) return;
    const { enabled, enrollment_pending: pending, recovery_codes_left: left } = result.data;
    $('mfa-status').textContent = enabled
      ? `On: each sign-in needs a code from the authenticator app after the password. ${left} recovery code${left === 1 ? '' : 's'} left.`
      : `Off: the password alone signs you in.${pending ? ' An enrolment was started and not confirmed.' : ''}`;
    const busy = !$('mfa-enrol').hidden || !$('mfa-disable-form').hidden;
    $('mfa-turn-on').hidden = enabled || busy;
    $('mfa-turn-off').hidden = !enabled || busy;
  }

  /** The server's SVG as an image: a data: URL that img-src allows; an SVG in an img runs no script. */
  function svgDataUrl(svg) {
    const bytes = new TextEncoder().encode(svg);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return `data:image/svg+xml;base64,${btoa(binary)}`;
  }

  async function turnOn() {
    const result = await mfaCall('POST', 'me/mfa/totp');
    if (result?.status !== 200) return loadMfaStatus();
    $('mfa-qr').src = svgDataUrl(result.data.qr_svg);
    // in groups of four, as apps show a key typed by hand (they ignore the spaces)
    $('mfa-secret').textContent = result.data.secret.match(/.{1,4}/g).join(' ');
    $('mfa-recovery').hidden = true;
    $('mfa-turn-on').hidden = true;
    $('mfa-enrol').hidden = false;
    $('mfa-confirm-password').focus();
  }

  function cancelForms() {
    $('mfa-enrol').hidden = true;
    $('mfa-disable-form').hidden = true;
    $('mfa-qr').removeAttribute('src');
    $('mfa-secret').textContent = '';
    $('mfa-error').textContent = '';
    loadMfaStatus();
  }

  async function confirmTotp(event) {
    event.preventDefault();
    // this login ends with the answer: let a refresh under way finish first, so its cookie cannot land after ours
    if (pendingRefresh) await pendingRefresh;
    const result = await mfaCall('POST', 'me/mfa/totp/confirm', {
      password: $('mfa-confirm-password').value, code: $('mfa-confirm-code').value.trim(), refresh_cookie: true,
    });
    if (result?.status !== 200) return;
    $('mfa-enrol').hidden = true;
    $('mfa-qr').removeAttribute('src');
    $('mfa-secret').textContent = '';
    $('mfa-confirm-password').value = '';
    $('mfa-confirm-code').value = '';
    $('mfa-recovery-codes').replaceChildren(...result.data.recovery_codes.map((code) => {
      const item = document.createElement('li');
      item.textContent = code;
      return item;
    }));
    $('mfa-recovery').hidden = false;
    newLogin(result.data.tokens, ': two-factor sign-in is on, and every other login ended');
  }

  function turnOff() {
    $('mfa-turn-off').hidden = true;
    $('mfa-recovery').hidden = true;
    $('mfa-disable-form').hidden = false;
    $('mfa-disable-password').focus();
  }

  async function disableMfa(event) {
    event.preventDefault();
    if (pendingRefresh) await pendingRefresh;
    const factor = $('mfa-disable-code').value.trim();
    const result = await mfaCall('POST', 'me/mfa/disable', {
      password: $('mfa-disable-password').value,
      // six digits are the app's code; anything else is tried as a recovery code
      [/^[0-9]{6}$/.test(factor) ? 'code' : 'recovery_code']: factor,
      refresh_cookie: true,
    });
    if (result?.status !== 200) return;
    $('mfa-disable-form').hidden = true;
    $('mfa-disable-password').value = '';
    $('mfa-disable-code').value = '';
    newLogin(result.data, ': two-factor sign-in is off, and every other login ended');
  }

  // --- the signed-out card: sign in, create an account (POST /register), forgot password (POST /password/forgot)

  const SIGNED_OUT_FORMS = { 'sign-in-form': 'Sign in', 'register-form': 'Create an account', 'forgot-form': 'Forgot password' };

  /** One of the signed-out card's forms, named by the card's heading; the focus in its first field. */
  function showSignedOutForm(id) {
    leaveSecondStep();
    for (const form of Object.keys(SIGNED_OUT_FORMS)) $(form).hidden = form !== id;
    $('signed-out-title').textContent = SIGNED_OUT_FORMS[id];
    for (const error of ['sign-in-error', 'register-error', 'forgot-error']) $(error).textContent = '';
    $(id).querySelector('input')?.focus();
  }

  /**
   * A mail_disabled answer (Mail:Enabled is false: no addresses, no mail): from then on the page offers nothing
   * that needs mail. The caller shows the answer's words.
   */
  function noteMailOff(result) {
    if (result?.data?.error !== 'mail_disabled') return false;
    mailOff = true;
    for (const id of ['forgot-open', 'forgot-fields', 'register-email-field', 'email-form', 'email-resend', 'email-change-open']) {
      $(id).hidden = true;
    }
    $('register-email').value = '';
    return true;
  }

  function openForgot() {
    showSignedOutForm('forgot-form');
    $('forgot-sent').textContent = '';
    $('forgot-fields').hidden = mailOff;
    // what was typed at sign-in, if anything
    if (!$('forgot-who').value) $('forgot-who').value = $('username').value;
    $('forgot-who').focus();
  }

  async function forgotPassword(event) {
    event.preventDefault();
    const who = $('forgot-who').value.trim();
    $('forgot-sent').textContent = '';
    await submitting('forgot-send', 'forgot-error', async () => {
      // a username holds no '@': anything with one is an address
      const result = await call('POST', 'password/forgot', { body: who.includes('@') ? { email: who } : { username: who } });
      if (result.status === 202) {
        // the same words whether or not the account exists, and whether or not a mail goes out
        $('forgot-fields').hidden = true;
        $('forgot-sent').textContent = result.data.detail;
        $('forgot-back').focus();
      } else {
        $('forgot-error').textContent = problemText(result);
        noteMailOff(result);
      }
    });
  }

  async function register(event) {
    event.preventDefault();
    const username = $('register-username').value;
    const password = $('register-password').value;
    const email = $('register-email').value.trim();
    let created = false;
    await submitting('register', 'register-error', async () => {
      const result = await call('POST', 'register', { body: email ? { username, password, email } : { username, password } });
      created = result.status === 201;
      if (!created) $('register-error').textContent = problemText(result);
    });
    if (!created) return;
    for (const id of ['register-username', 'register-password', 'register-email']) $(id).value = '';
    $('username').value = username;
    showSignedOutForm('sign-in-form');
    const how = email ? `, a new account: open the link mailed to ${email} to verify the address` : ', a new account';
    await submitting('sign-in', 'sign-in-error', () => logIn(username, password, how));
  }

  // --- the pages a mailed link opens: #reset-password?token=… (POST /password/reset), #verify-email?token=…
  // (POST /email/verify). The token is in the fragment, which the browser sends to no server and no Referer carries.

  /** The page and token of a mailed link in the address bar, or null. The token leaves the address bar at once. */
  function takeLink() {
    const match = /^#(reset-password|verify-email)(?:\?(.*))?$/.exec(window.location.hash);
    if (!match) return null;
    // nothing left in the history, a bookmark or the address bar for the next person at this screen
    history.replaceState(null, '', window.location.pathname + window.location.search);
    return { page: match[1] === 'reset-password' ? 'reset' : 'verify', token: new URLSearchParams(match[2] || '').get('token') || '' };
  }

  function openLink(link) {
    linkPage = link.page;
    showSignedIn(session !== null);   // the other cards step aside
    $('reset').hidden = linkPage !== 'reset';
    $('verify').hidden = linkPage !== 'verify';
    if (linkPage === 'reset') openReset(link.token);
    else verifyEmail(link.token);
  }

  /**
   * Back to the sign-in or session card, once the page-load refresh that a link's page put off has settled; after
   * a reset, a session this page holds is checked (the reset ended every login of its account, if it was this one).
   */
  async function leaveLink({ afterReset = false } = {}) {
    linkPage = null;
    resetToken = null;
    $('reset').hidden = true;
    $('verify').hidden = true;
    if (!sessionLookedFor) {
      setStatus('Looking for a session…');
      await refresh('page load');
      return;
    }
    showSignedIn(session !== null);
    if (!session) {
      setStatus('Signed out. Sign in to get a token.');
    } else if (afterReset) {
      await refresh('password reset');
    } else {
      setStatus(`Signed in as ${session.payload.name}.`, 'ok');
      loadPanels();
    }
  }

  function openReset(token) {
    resetToken = token;
    for (const id of ['reset-password', 'reset-repeat']) $(id).value = '';
    for (const id of ['reset-done', 'reset-error']) $(id).textContent = '';
    $('reset-sign-in').hidden = true;
    $('reset-new-link').hidden = true;
    $('reset-form').hidden = false;
    setStatus('Choose a new password.');
    if (token) $('reset-password').focus();
    else deadResetLink('The link has no token: open it from the mail again, whole.');
  }

  /** A link that cannot work (invalid, expired or used): no form, and the way to a new one. */
  function deadResetLink(text) {
    resetToken = null;
    $('reset-form').hidden = true;
    $('reset-error').textContent = text;
    $('reset-new-link').hidden = mailOff;
    setStatus('The reset link did not work.', 'warn');
  }

  async function resetPassword(event) {
    event.preventDefault();
    const password = $('reset-password').value;
    if (password !== $('reset-repeat').value) {
      $('reset-error').textContent = 'The two passwords differ.';
      $('reset-repeat').select();
      return;
    }
    await submitting('reset-save', 'reset-error', async () => {
      const result = await call('POST', 'password/reset', { body: { token: resetToken, new_password: password } });
      if (result.status === 204) {
        resetToken = null;
        $('reset-form').hidden = true;
        for (const id of ['reset-password', 'reset-repeat']) $(id).value = '';
        $('reset-done').textContent = 'Your password is changed, and every login of the account has ended, on every device. ' +
          'Sign in with the new password.';
        $('reset-sign-in').hidden = false;
        $('reset-sign-in').focus();
        setStatus('Password changed: sign in with the new one.', 'ok');
      } else if (noteMailOff(result) || result.data?.error === 'invalid_reset_token' || result.data?.errors?.token) {
        deadResetLink(problemText(result));
      } else {
        // the new password's problems (too short, too common, the username): the link still works
        $('reset-error').textContent = problemText(result);
        $('reset-password').select();
      }
    });
  }

  async function verifyEmail(token) {
    $('verify-result').textContent = 'Checking the link…';
    $('verify-error').textContent = '';
    setStatus('Verifying the email address…');
    let result = null;
    try {
      result = await call('POST', 'email/verify', { body: { token } });
    } catch {
      // shown below
    }
    if (linkPage !== 'verify') return;   // left meanwhile
    if (result?.status === 200) {
      $('verify-result').textContent = `${result.data.email} is verified: a forgotten password can now be reset through it.`;
      setStatus('Email address verified.', 'ok');
    } else {
      $('verify-result').textContent = 'The address is not verified.';
      $('verify-error').textContent = result ? problemText(result) : 'The service did not answer.';
      noteMailOff(result);
      setStatus('The verification link did not work.', 'warn');
    }
    $('verify-done').focus();
  }

  // --- the account's email address on the session card: GET /me, PUT /me/email, POST /me/email/verification

  const emailCall = (method, path, body) => sessionCall('email-error', method, path, body);

  function resetEmailPanel() {
    emailStatus = null;
    for (const id of ['account-email', 'email-form']) $(id).hidden = true;
    for (const id of ['email-new', 'email-password']) $(id).value = '';
    for (const id of ['email', 'email-state', 'email-message', 'email-error']) $(id).textContent = '';
  }

  async function loadEmail() {
    // a token good only for turning two-factor sign-in on cannot read /me
    if (!session || session.enrollmentOnly) return;
    const started = epoch;
    $('account-email').hidden = false;
    if (!emailStatus) $('email').textContent = 'Checking…';
    const result = await emailCall('GET', 'me');
    if (started !== epoch || result?.status !== 200) return;
    showEmail(result.data);
  }

  function showEmail(status) {
    if (!status) return;
    emailStatus = status;
    const { email, email_verified: verified } = status;
    $('email').textContent = email || 'none';
    $('email-state').textContent = email ? (verified ? 'verified' : 'not verified') : '';
    $('email-state').className = `badge ${verified ? 'ok' : 'warn'}`;
    const idle = $('email-form').hidden && !mailOff;
    $('email-resend').hidden = !idle || !email || verified;
    $('email-change-open').hidden = !idle;
    $('email-change-open').textContent = email ? 'Change' : 'Add an address';
  }

  function openEmailForm() {
    $('email-message').textContent = '';
    $('email-error').textContent = '';
    $('email-form').hidden = false;
    showEmail(emailStatus);
    $('email-new').focus();
  }

  function closeEmailForm() {
    $('email-form').hidden = true;
    for (const id of ['email-new', 'email-password']) $(id).value = '';
    $('email-error').textContent = '';
    showEmail(emailStatus);
  }

  async function changeEmail(event) {
    event.preventDefault();
    const result = await emailCall('PUT', 'me/email', { email: $('email-new').value.trim(), password: $('email-password').value });
    if (noteMailOff(result) || result?.status !== 200) return;
    closeEmailForm();
    showEmail(result.data);
    $('email-message').textContent = result.data.email_verified
      ? `${result.data.email} is your address already, and verified.`
      : `A mail to verify ${result.data.email} is on its way: open the link in it.`;
  }

  async function resendVerification() {
    $('email-message').textContent = '';
    $('email-resend').disabled = true;
    const result = await emailCall('POST', 'me/email/verification');
    $('email-resend').disabled = false;
    if (!noteMailOff(result) && result?.status === 202) {
      $('email-message').textContent = `Sent again to ${emailStatus.email}: open the link in it.`;
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
  $('forgot-open').addEventListener('click', openForgot);
  $('forgot-form').addEventListener('submit', forgotPassword);
  $('forgot-back').addEventListener('click', () => showSignedOutForm('sign-in-form'));
  $('register-open').addEventListener('click', () => showSignedOutForm('register-form'));
  $('register-form').addEventListener('submit', register);
  $('register-back').addEventListener('click', () => showSignedOutForm('sign-in-form'));
  $('reset-form').addEventListener('submit', resetPassword);
  $('reset-sign-in').addEventListener('click', async () => {
    await leaveLink({ afterReset: true });
    if (!session) showSignedOutForm('sign-in-form');
  });
  $('reset-new-link').addEventListener('click', async () => {
    await leaveLink();
    if (!session) openForgot();
  });
  $('verify-done').addEventListener('click', () => leaveLink());
  $('email-change-open').addEventListener('click', openEmailForm);
  $('email-cancel').addEventListener('click', closeEmailForm);
  $('email-form').addEventListener('submit', changeEmail);
  $('email-resend').addEventListener('click', resendVerification);
  $('mfa-step').addEventListener('submit', secondStep);
  $('mfa-step-toggle').addEventListener('click', () => setUseRecoveryCode(!useRecoveryCode));
  $('mfa-step-cancel').addEventListener('click', () => {
    leaveSecondStep();
    setStatus('Signed out. Sign in to get a token.');
  });
  $('mfa-turn-on').addEventListener('click', turnOn);
  $('mfa-turn-off').addEventListener('click', turnOff);
  $('mfa-confirm-form').addEventListener('submit', confirmTotp);
  $('mfa-enrol-cancel').addEventListener('click', cancelForms);
  $('mfa-disable-form').addEventListener('submit', disableMfa);
  $('mfa-disable-cancel').addEventListener('click', cancelForms);
  $('mfa-recovery-done').addEventListener('click', () => {
    $('mfa-recovery').hidden = true;
    $('mfa-recovery-codes').replaceChildren();
  });
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

  // a mailed link opens its page, whether it loads this page or comes to it (same document, new fragment)
  window.addEventListener('hashchange', () => {
    const link = takeLink();
    if (link) openLink(link);
  });
  const link = takeLink();
  if (link) {
    openLink(link);
  } else {
    // a reload forgets the access token: get a new one with the refresh cookie, if there is a valid one
    refresh('page load');
  }
})();
