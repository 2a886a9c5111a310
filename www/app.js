/* jobd's dashboard: plain JS over the REST API of /api/v1 (docs/http.md).
 * Hash routes (#/, #/jobs/NAME, #/runs, #/runs/JID, #/targets, #/workers)
 * so the server serves one page.  Text goes in with textContent only.
 * Changes send the token from sessionStorage as a bearer header: never a
 * cookie, so another site cannot make the browser send it (CSRF). */
'use strict';

const API = '/api/v1';
const TOKEN_KEY = 'jobd.token';
const REFRESH_MS = 5000;

/* ---- small DOM helpers ---- */

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

const $ = (sel) => document.querySelector(sel);
const enc = encodeURIComponent;

function flash(msg, kind) {
  const f = $('#flash');
  f.textContent = msg;
  f.className = 'flash ' + (kind || 'info');
  f.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { f.hidden = true; }, kind === 'error' ? 8000 : 4000);
}

/* ---- the API ---- */

function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

class ApiError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

/* One call.  A change asks for the token first; a refusal for want of it
 * (reads need it too, but for the overview from loopback when jobd allows)
 * asks for it and tries once more. */
async function api(method, path, body, retried) {
  const opt = { method, headers: { Accept: 'application/json' } };
  if (method !== 'GET' && !token()) {
    await askToken('A change needs the token.');
    if (!token()) throw new ApiError(401, 'no token given');
  }
  if (token()) opt.headers.Authorization = 'Bearer ' + token();
  if (method !== 'GET') {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body || {});
  }
  const res = await fetch(API + path, opt);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const msg = (data && data.error) || res.status + ' ' + res.statusText;
    /* 401: no token or a wrong one; 403 without a token: loopback may
     * read the overview only (docs/http.md) */
    if ((res.status === 401 || (res.status === 403 && !token())) && !retried) {
      sessionStorage.removeItem(TOKEN_KEY);
      updateTokenButton();
      await askToken(msg);
      if (token()) return api(method, path, body, true);
    }
    throw new ApiError(res.status, msg);
  }
  return data;
}

/* A text/event-stream read with fetch, not EventSource: EventSource cannot
 * send the Authorization header.  on[event](data parsed as JSON) per
 * event; resolves when the stream ends; ctl.abort() stops it. */
async function readEvents(path, on, ctl) {
  const headers = { Accept: 'text/event-stream' };
  if (token()) headers.Authorization = 'Bearer ' + token();
  const res = await fetch(API + path, { headers, signal: ctl.signal });
  if (!res.ok) {
    let msg = res.status + ' ' + res.statusText;
    try { msg = (await res.json()).error || msg; } catch (e) { /* keep */ }
    throw new ApiError(res.status, msg);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value.replace(/\r\n?/g, '\n');
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;             /* a keepalive */
        const i = line.indexOf(':');
        const k = i < 0 ? line : line.slice(0, i);
        const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
        if (k === 'event') event = v;
        else if (k === 'data') data.push(v);
      }
      if (!data.length) continue;
      let d = data.join('\n');
      try { d = JSON.parse(d); } catch (e) { /* plain text */ }
      if (on[event]) on[event](d);
    }
  }
}

/* A change: run fn, say what happened, refresh the page. */
async function act(what, fn) {
  try {
    const r = await fn();
    flash(what + ': ok', 'ok');
    route();
    return r;
  } catch (e) {
    flash(what + ': ' + e.message, 'error');
    return null;
  }
}

/* ---- the token form ---- */

let tokenWaiters = [];

function askToken(why) {
  $('#token-why').textContent = why || '';
  $('#token-panel').hidden = false;
  $('#token-input').value = '';
  $('#token-input').focus();
  return new Promise((resolve) => tokenWaiters.push(resolve));
}

function closeToken() {
  $('#token-panel').hidden = true;
  tokenWaiters.forEach((w) => w());
  tokenWaiters = [];
  updateTokenButton();
}

function updateTokenButton() {
  const b = $('#token-button');
  b.textContent = token() ? 'Token ✓' : 'Token';
  b.classList.toggle('set', !!token());
}

function setupToken() {
  $('#token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = $('#token-input').value.trim();
    if (v) sessionStorage.setItem(TOKEN_KEY, v);
    closeToken();
  });
  $('#token-forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    closeToken();
  });
  $('#token-cancel').addEventListener('click', closeToken);
  $('#token-button').addEventListener('click', () => askToken());
  updateTokenButton();
}

/* ---- formatting ---- */

function parseTime(t) { return t ? new Date(t) : null; }

function fmtTime(t) {
  const d = parseTime(t);
  if (!d) return '—';
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString()
    : d.toLocaleString(undefined, { weekday: 'short', month: 'short', day: 'numeric',
      hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function fmtDur(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return ms + ' ms';
  let s = Math.round(ms / 1000);
  if (s < 60) return (ms / 1000).toFixed(ms < 10000 ? 1 : 0) + ' s';
  const d = Math.floor(s / 86400); s %= 86400;
  const hh = Math.floor(s / 3600); s %= 3600;
  const m = Math.floor(s / 60); s %= 60;
  if (d) return d + ' d ' + hh + ' h';
  if (hh) return hh + ' h ' + m + ' min';
  return m + ' min ' + s + ' s';
}

/* "in 3 h 12 min" / "5 min ago" */
function inWords(t) {
  const d = parseTime(t);
  if (!d) return '';
  const ms = d - Date.now();
  if (Math.abs(ms) < 1000) return 'now';
  const w = fmtDur(Math.abs(ms)).replace(/\.\d s$/, ' s');
  return ms > 0 ? 'in ' + w : w + ' ago';
}

function when(t) {
  if (!t) return h('span', { class: 'muted' }, '—');
  return h('span', { title: t }, h('span', { class: 'words' }, inWords(t)), ' ',
    h('span', { class: 'muted' }, fmtTime(t)));
}

/* A run's state as one word: running, waiting, ok, failed, killed... */
function runState(r) {
  if (!r) return 'never';
  if (r.status !== 'done') return r.status || 'unknown';
  return r.result || 'done';
}

function badge(state) {
  return h('span', { class: 'badge s-' + String(state).replace(/[^a-z_-]/gi, '') }, state);
}

/* An inline SVG of recent durations, oldest left; failures in red. */
function sparkline(runs) {
  const W = 120, H = 24, P = 2;
  const svgNS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNS, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', W);
  svg.setAttribute('height', H);
  const pts = runs.filter((r) => r.duration_ms !== null && r.duration_ms !== undefined).reverse();
  svg.setAttribute('aria-label', pts.length + ' recent durations');
  if (!pts.length) return svg;
  const max = Math.max(1, ...pts.map((r) => r.duration_ms));
  const step = pts.length > 1 ? (W - 2 * P) / (pts.length - 1) : 0;
  const x0 = pts.length > 1 ? P : W - P;     /* one run: at the newest end */
  const xy = pts.map((r, i) => [x0 + i * step, H - P - (r.duration_ms / max) * (H - 2 * P)]);
  const area = document.createElementNS(svgNS, 'polygon');
  area.setAttribute('points', [[xy[0][0], H - P], ...xy, [xy[xy.length - 1][0], H - P]]
    .map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' '));
  svg.append(area);
  const line = document.createElementNS(svgNS, 'polyline');
  line.setAttribute('points', xy.map((p) => p.map((v) => v.toFixed(1)).join(',')).join(' '));
  svg.append(line);
  pts.forEach((r, i) => {
    const c = document.createElementNS(svgNS, 'circle');
    c.setAttribute('cx', xy[i][0].toFixed(1));
    c.setAttribute('cy', xy[i][1].toFixed(1));
    c.setAttribute('r', 1.8);
    c.setAttribute('class', r.result === 'ok' ? 'pt-ok' : 'pt-bad');
    const t = document.createElementNS(svgNS, 'title');
    t.textContent = fmtDur(r.duration_ms) + ' ' + runState(r);
    c.append(t);
    svg.append(c);
  });
  return svg;
}

function table(head, rows, cls) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: cls || '' },
      h('thead', {}, h('tr', {}, head.map((c) => h('th', { class: c[1] || '' }, c[0])))),
      h('tbody', {}, rows.length ? rows
        : h('tr', {}, h('td', { colspan: head.length, class: 'muted' }, 'none')))));
}

function jobLink(name) { return h('a', { href: '#/jobs/' + enc(name) }, name); }
function runLink(jid) { return h('a', { href: '#/runs/' + enc(jid), class: 'mono' }, jid); }

/* ---- pages ---- */

let refreshTimer = null;
let stream = null;
let gen = 0;          /* the route's generation: a late draw of a page left behind draws nothing */

function stopPage() {
  clearTimeout(refreshTimer);
  if (stream) { stream.abort(); stream = null; }
}

function every(fn) {
  const g = gen;
  refreshTimer = setTimeout(async () => {
    if (g !== gen) return;
    if (!document.hidden) {
      try { await fn(); } catch (e) { /* shown next time */ }
    }
    if (g === gen) every(fn);
  }, REFRESH_MS);
}

/* Shows the page of generation g, unless the user has moved on. */
function show(g, ...nodes) {
  if (g !== gen) return false;
  $('#main').replaceChildren(...nodes);
  return true;
}

/* The jobs table, refreshed every few seconds. */
async function pageJobs() {
  const g = gen;
  const body = h('div', {});
  show(g, h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'),
    h('button', { class: 'primary', id: 'new-job', onclick: () => newJobForm(body) }, 'New job')),
  h('div', { id: 'status-line', class: 'muted' }), body);
  const draw = async () => {
    const [list, runs, status] = await Promise.all([
      api('GET', '/jobs'), api('GET', '/runs?limit=500'), api('GET', '/status').catch(() => null)]);
    const byJob = {};
    for (const r of runs.runs || []) {
      if (!r.job) continue;
      (byJob[r.job] = byJob[r.job] || []).push(r);
    }
    if (status && $('#status-line')) {
      const c = status.counts || {};
      $('#status-line').textContent = `jobd ${status.version || ''} · up ${fmtDur((status.uptime_s || 0) * 1000)} · ` +
        `${c.jobs ?? '?'} jobs · ${c.running ?? '?'} running · ${c.waiting ?? '?'} waiting`;
    }
    const rows = (list.jobs || []).map((j) => {
      const recent = (byJob[j.name] || []).slice(0, 20);
      const state = j.running ? 'running' : (j.enabled === false ? 'disabled' : 'idle');
      return h('tr', { 'data-job': j.name },
        h('td', {}, jobLink(j.name)),
        h('td', {}, badge(state)),
        h('td', { class: 'mono hide-s' }, j.schedule || h('span', { class: 'muted' }, 'manual')),
        h('td', {}, when(j.next_run)),
        h('td', {}, badge(j.last_result || 'never'), ' ',
          h('span', { class: 'muted hide-s' }, j.last_run ? inWords(j.last_run) : '')),
        h('td', { class: 'hide-s' }, h('div', { class: 'spark-cell' }, sparkline(recent),
          recent.length ? h('span', { class: 'muted', title: 'the last run' }, fmtDur(recent[0].duration_ms)) : null)));
    });
    body.querySelector('.table-wrap')?.remove();
    body.append(table([['Job'], ['State'], ['Schedule', 'hide-s'], ['Next run'],
      ['Last result'], ['Recent durations', 'hide-s']], rows, 'jobs'));
  };
  await draw();
  every(draw);
}

/* A form to create a job; the schedule's next times are previewed. */
function newJobForm(where) {
  if ($('#job-form')) return;
  const preview = h('div', { class: 'muted', id: 'sched-preview' });
  const f = h('form', { id: 'job-form', class: 'panel inline' },
    h('h2', {}, 'New job'),
    h('label', {}, 'Name ', h('input', { name: 'name', required: true, autocapitalize: 'off', spellcheck: 'false' })),
    h('label', {}, 'Command ', h('input', { name: 'command', required: true, class: 'mono' })),
    h('label', {}, 'Schedule ', h('input', { name: 'schedule', placeholder: 'empty: manual only, or e.g. */5 * * * *', class: 'mono' })),
    preview,
    h('label', {}, 'Target ', h('input', { name: 'target', placeholder: 'default' })),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'confirm' }), ' Manual runs need confirmation'),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Create'),
      h('button', { type: 'button', onclick: () => f.remove() }, 'Cancel')));
  let pt = null;
  f.schedule.addEventListener('input', () => {
    clearTimeout(pt);
    pt = setTimeout(async () => {
      const e = f.schedule.value.trim();
      if (!e) { preview.textContent = ''; return; }
      try {
        const r = await api('GET', '/schedule/next?expr=' + enc(e));
        preview.textContent = 'next: ' + (r.times || []).slice(0, 3).map(fmtTime).join(', ');
      } catch (err) { preview.textContent = err.message; }
    }, 300);
  });
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const job = { name: f.name.value.trim(), command: f.command.value };
    if (f.schedule.value.trim()) job.schedule = f.schedule.value.trim();
    if (f.target.value.trim()) job.target = f.target.value.trim();
    if (f.confirm.checked) job.confirm = true;
    const r = await act('create ' + job.name, () => api('POST', '/jobs', { job }));
    if (r) location.hash = '#/jobs/' + enc(job.name);
  });
  where.prepend(f);
  f.name.focus();
}

/* Run NAME (or its ACTION); a confirm job asks first. */
async function runJob(job, action) {
  const what = action ? `${action} ${job.name}` : `run ${job.name}`;
  const body = {};
  if (action) body.action = action;
  if (job.confirm) {
    if (!window.confirm(`${job.name} asks for confirmation. Really ${what}?`)) return;
    body.yes = true;
  }
  const r = await act(what, () => api('POST', '/jobs/' + enc(job.name) + '/run', body));
  if (r && r.jid) location.hash = '#/runs/' + enc(r.jid);
}

function defList(pairs) {
  return h('dl', { class: 'def' }, pairs.filter((p) => p[1] !== undefined).map(([k, v]) =>
    [h('dt', {}, k), h('dd', {}, v === null || v === '' ? h('span', { class: 'muted' }, '—')
      : (v instanceof Node ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)))]));
}

function runsTable(runs, withJob) {
  const rows = runs.map((r) => h('tr', { 'data-jid': r.jid },
    h('td', {}, runLink(r.jid)),
    withJob ? h('td', {}, r.job ? jobLink(r.job) : h('span', { class: 'muted' }, 'submitted')) : null,
    h('td', {}, badge(runState(r))),
    h('td', { class: 'hide-s' }, r.trigger || ''),
    h('td', {}, when(r.time_started || r.time_created)),
    h('td', {}, fmtDur(r.duration_ms)),
    h('td', { class: 'hide-s' }, r.return_code ?? r.sig ?? '')));
  const head = [['Run'], withJob ? ['Job'] : null, ['State'], ['Trigger', 'hide-s'], ['Started'],
    ['Duration'], ['Exit', 'hide-s']].filter(Boolean);
  return table(head, rows, 'runs');
}

async function pageJob(name) {
  const g = gen;
  const draw = async () => {
    const [s, runs] = await Promise.all([api('GET', '/jobs/' + enc(name)),
      api('GET', '/runs?job=' + enc(name) + '&limit=30')]);
    const j = s.job;
    const btns = [h('button', { class: 'primary', id: 'run-job', onclick: () => runJob(j) }, 'Run')];
    for (const a of Object.keys(j.actions || {}))
      btns.push(h('button', { 'data-action': a, onclick: () => runJob(j, a) }, a[0].toUpperCase() + a.slice(1)));
    for (const jid of s.running || [])
      btns.push(h('button', { class: 'danger', onclick: () => signalRun(jid, 'TERM') }, 'Stop ' + jid.slice(-6)));
    btns.push(j.enabled
      ? h('button', { id: 'disable-job', onclick: () => act('disable ' + j.name, () => api('POST', '/jobs/' + enc(j.name) + '/disable')) }, 'Disable')
      : h('button', { id: 'enable-job', onclick: () => act('enable ' + j.name, () => api('POST', '/jobs/' + enc(j.name) + '/enable')) }, 'Enable'));
    btns.push(h('button', { class: 'danger', onclick: () => deleteJob(j.name) }, 'Delete'));
    show(g, h('div', { class: 'page-head' }, h('h1', {}, j.name), h('div', { class: 'buttons' }, btns)),
      h('div', { class: 'cols' },
        h('section', {}, h('h2', {}, 'Definition'), defList([
          ['command', h('code', {}, j.command || (j.argv || []).join(' '))],
          ['schedule', j.schedule ? h('code', {}, j.schedule) : 'manual'],
          ['timezone', j.timezone], ['target', j.target], ['user', j.user],
          ['enabled', j.enabled ? 'yes' : 'no'], ['confirm', j.confirm ? 'yes' : 'no'],
          ['timeout', j.timeout], ['retries', j.retries], ['overlap', j.overlap],
          ['tags', (j.tags || []).join(' ')], ['actions', Object.keys(j.actions || {}).join(' ')],
          ['source', j.source]])),
        h('section', {}, h('h2', {}, 'Next fire times'),
          (s.next_runs || []).length
            ? h('ol', { class: 'next', id: 'next-runs' }, s.next_runs.map((t) => h('li', {}, when(t))))
            : h('p', { class: 'muted' }, 'not scheduled'))),
      h('section', {}, h('h2', {}, 'Runs'), runsTable(runs.runs || [], false)));
  };
  await draw();
  every(draw);
}

async function deleteJob(name) {
  if (!window.confirm(`Delete job ${name}?`)) return;
  if (await act('delete ' + name, () => api('DELETE', '/jobs/' + enc(name)))) location.hash = '#/';
}

function signalRun(jid, sig) {
  if (!window.confirm(`Send SIG${sig} to run ${jid}?`)) return null;
  return act(`SIG${sig} to ${jid}`, () => api('POST', '/runs/' + enc(jid) + '/signal', { signal: sig }));
}

/* A run: its facts, and its output live over SSE while it runs. */
async function pageRun(jid) {
  const g = gen;
  const out = h('pre', { class: 'output', id: 'output' });
  const facts = h('div', { id: 'run-facts' });
  const head = h('div', { class: 'page-head' });
  show(g, head, facts, h('section', {}, h('h2', {}, 'Output'), out));
  const append = (text, cls) => {
    const atEnd = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    out.append(h('span', { class: cls }, text));
    if (atEnd) out.scrollTop = out.scrollHeight;
  };
  const drawFacts = (r) => {
    const st = runState(r);
    head.replaceChildren(h('h1', {}, 'Run ', h('span', { class: 'mono' }, r.jid)),
      h('span', { id: 'run-state' }, badge(st)),
      h('div', { class: 'buttons' }, r.status !== 'running' ? [] :
        ['TERM', 'INT', 'HUP', 'KILL'].map((s) => h('button', {
          class: s === 'KILL' || s === 'TERM' ? 'danger' : '', 'data-signal': s,
          onclick: () => signalRun(r.jid, s)
        }, 'SIG' + s))));
    facts.replaceChildren(defList([
      ['job', r.job ? jobLink(r.job) : 'submitted'], ['command', h('code', {}, r.command || '')],
      ['state', st], ['exit', r.return_code ?? r.sig ?? '—'],
      ['created', when(r.time_created)], ['started', when(r.time_started)],
      ['finished', when(r.time_finished)], ['duration', fmtDur(r.duration_ms)],
      ['trigger', r.trigger], ['target', r.target], ['user', r.user], ['pid', r.pid],
      ['worker', r.worker], ['attempt', r.attempt]]));
  };
  const { run } = await api('GET', '/runs/' + enc(jid));
  if (g !== gen) return;
  drawFacts(run);
  if (run.status === 'done' || run.status === 'ignored') {
    if (run.stdout) append(run.stdout, 'out');
    if (run.stderr) append(run.stderr, 'err');
    if (!run.stdout && !run.stderr) out.append(h('span', { class: 'muted' }, '(no output)'));
    if (run.stdout_truncated || run.stderr_truncated) append('\n[output truncated]', 'muted');
    return;
  }
  /* Live: the stream replays what was written so far, then follows. */
  const ctl = new AbortController();
  stream = ctl;
  readEvents('/runs/' + enc(jid) + '/output', {
    started: () => api('GET', '/runs/' + enc(jid)).then((r) => { if (g === gen) drawFacts(r.run); }),
    stdout: (d) => append(String(d), 'out'),
    stderr: (d) => append(String(d), 'err'),
    error: (d) => flash('output: ' + (d.error || d), 'error'),
    ended: async (r) => {
      if (!r || !r.status) r = (await api('GET', '/runs/' + enc(jid))).run;
      if (g === gen) drawFacts(r);
    },
  }, ctl).catch((e) => { if (e.name !== 'AbortError') flash('output: ' + e.message, 'error'); });
}

async function pageRuns() {
  const g = gen;
  const draw = async () => {
    const r = await api('GET', '/runs?limit=100');
    show(g, h('div', { class: 'page-head' }, h('h1', {}, 'Runs')), runsTable(r.runs || [], true));
  };
  await draw();
  every(draw);
}

function slots(t) {
  const n = Math.min(t.concurrency, 24);
  return h('span', { class: 'slots', title: `${t.running} of ${t.concurrency} slots in use` },
    Array.from({ length: n }, (_, i) => h('span', { class: i < t.running ? 'slot used' : 'slot' })),
    t.concurrency > n ? '…' : '');
}

async function pageTargets() {
  const g = gen;
  const draw = async () => {
    const r = await api('GET', '/targets');
    const rows = (r.targets || []).map((t) => h('tr', { 'data-target': t.name },
      h('td', {}, t.name),
      h('td', {}, badge(t.paused ? 'paused' : 'active')),
      h('td', {}, slots(t), ' ', h('span', { class: 'muted' }, `${t.running}/${t.concurrency}`)),
      h('td', {}, String(t.length)),
      h('td', {}, h('div', { class: 'buttons' },
        t.paused
          ? h('button', { 'data-op': 'continue', onclick: () => targetOp(t.name, 'continue') }, 'Continue')
          : h('button', { 'data-op': 'pause', onclick: () => targetOp(t.name, 'pause') }, 'Pause'),
        h('button', { 'data-op': 'concurrency', onclick: () => targetConcurrency(t) }, 'Slots…')))));
    show(g, h('div', { class: 'page-head' }, h('h1', {}, 'Targets')),
      table([['Target'], ['State'], ['Slots (running)'], ['Waiting'], ['']], rows, 'targets'));
  };
  await draw();
  every(draw);
}

function targetOp(name, op) {
  return act(`${op} ${name}`, () => api('POST', '/targets/' + enc(name) + '/' + op, {}));
}

function targetConcurrency(t) {
  const v = window.prompt(`Slots (concurrency) of ${t.name}:`, String(t.concurrency));
  if (v === null) return null;
  const n = parseInt(v, 10);
  if (!(n >= 1)) { flash('concurrency: a whole number of at least 1', 'error'); return null; }
  return act(`concurrency of ${t.name}`, () => api('POST', '/targets/' + enc(t.name) + '/concurrency',
    { concurrency: n }));
}

async function pageWorkers() {
  const g = gen;
  const draw = async () => {
    const r = await api('GET', '/workers');
    const rows = (r.workers || []).map((w) => h('tr', {},
      h('td', {}, w.name || '—', w.self ? h('span', { class: 'muted' }, ' (this jobd)') : ''),
      h('td', { class: 'mono' }, w.address || '—'),
      h('td', {}, w.labels || ''),
      h('td', {}, when(w.last_seen))));
    show(g, h('div', { class: 'page-head' }, h('h1', {}, 'Workers')),
      table([['Worker'], ['Address'], ['Labels'], ['Last seen']], rows, 'workers'));
  };
  await draw();
  every(draw);
}

/* ---- routing ---- */

async function route() {
  stopPage();
  const g = ++gen;
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').map(decodeURIComponent);
  const nav = { '': 'jobs', jobs: 'jobs', runs: 'runs', targets: 'targets', workers: 'workers' }[parts[0]];
  document.querySelectorAll('#nav a').forEach((a) => a.classList.toggle('active', a.dataset.nav === nav));
  try {
    if (parts[0] === 'jobs' && parts[1]) await pageJob(parts[1]);
    else if (parts[0] === 'runs' && parts[1]) await pageRun(parts[1]);
    else if (parts[0] === 'runs') await pageRuns();
    else if (parts[0] === 'targets') await pageTargets();
    else if (parts[0] === 'workers') await pageWorkers();
    else await pageJobs();
  } catch (e) {
    show(g, h('div', { class: 'panel error' }, h('h2', {}, 'Cannot load this page'), h('p', {}, e.message)));
  }
}

setupToken();
window.addEventListener('hashchange', route);
route();
