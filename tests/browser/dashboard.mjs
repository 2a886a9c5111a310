// dashboard.mjs — drives Debian's chromium (headless, playwright-core: no
// browser download) through jobd's dashboard as a person would: it creates
// a job, runs it, watches its output arrive live, sees it end ok, runs a
// confirm job through its dialog, pauses a target.  Prints "ok   NAME" /
// "FAIL NAME" lines for tests/it/test_dashboard.sh, and saves screenshots.
// Environment: JOBD_URL (http://127.0.0.1:PORT), JOBD_HTTP_TOKEN, SHOTS (a
// directory), GO_FILE (the job waits for it: the test creates it once the
// first line was seen live), CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { writeFileSync, mkdirSync } from 'node:fs';

const base = process.env.JOBD_URL;
const token = process.env.JOBD_HTTP_TOKEN;
const shots = process.env.SHOTS;
const goFile = process.env.GO_FILE;
const T = 30000;                         // generous: 2 cores shared by many
let failed = 0;

function ok(name) { console.log('ok   ' + name); }
function fail(name, why) { failed++; console.log('FAIL ' + name + '\n  ' + String(why).split('\n').slice(0, 6).join('\n  ')); }
async function step(name, fn) {
  try { await fn(); ok(name); return true; } catch (e) { fail(name, e && e.stack || e); return false; }
}
function expect(cond, what) { if (!cond) throw new Error(what); }

mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
page.setDefaultTimeout(T);

// Everything the page loads must come from jobd itself: no CDN, no font.
const foreign = [];
const consoleErrors = [];
page.on('request', (r) => { if (!r.url().startsWith(base + '/') && !r.url().startsWith('data:')) foreign.push(r.url()); });
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));

const shot = (name, p = page) => p.screenshot({ path: `${shots}/${name}.png`, fullPage: true });

try {
  const loaded = await step('the dashboard loads from jobd and asks for the token once', async () => {
    await page.goto(base + '/');
    expect(await page.title() === 'jobd', 'title is ' + await page.title());
    // reads need the token too (jobd lets no one read without it here)
    await page.locator('#token-panel').waitFor({ state: 'visible' });
    await shot('token');
    await page.fill('#token-input', token);
    await page.click('#token-form button[type=submit]');
    await page.locator('#token-panel').waitFor({ state: 'hidden' });
    await page.locator('table.jobs').waitFor();
    await page.locator('h1', { hasText: 'Jobs' }).waitFor();
    const stored = await page.evaluate(() => sessionStorage.getItem('jobd.token'));
    expect(stored === token, 'the token is kept in sessionStorage');
  });

  if (!loaded) throw new Error('no dashboard: the rest cannot run');

  await step('a job is created through the form', async () => {
    await page.click('#new-job');
    const f = page.locator('#job-form');
    await f.locator('input[name=name]').fill('hello');
    const cmd = `echo line-one; i=0; while [ ! -e ${goFile} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; ` +
      'echo line-two >&2; echo done-three';
    await f.locator('input[name=command]').fill(`sh -c '${cmd}'`);
    await f.locator('input[name=schedule]').fill('0 3 * * *');
    await page.locator('#sched-preview', { hasText: 'next:' }).waitFor();
    await f.locator('button[type=submit]').click();
    await page.waitForURL(/#\/jobs\/hello$/);
    await page.locator('h1', { hasText: 'hello' }).waitFor();
    expect(await page.locator('#token-panel').isHidden(), 'not asked again');
    const cookies = await ctx.cookies();
    expect(cookies.length === 0, 'no cookie: ' + JSON.stringify(cookies));
  });

  await step("the job's page shows its next 5 fire times", async () => {
    await page.locator('#next-runs li').nth(4).waitFor();
    expect(await page.locator('#next-runs li').count() === 5, 'five times');
    await shot('job');
  });

  let jid = null;
  await step('Run starts a run and opens its page', async () => {
    await page.click('#run-job');
    await page.waitForURL(/#\/runs\/\d+$/);
    jid = decodeURIComponent(page.url().split('/').pop());
  });

  await step('the output arrives live while the run is running', async () => {
    await page.locator('#output', { hasText: 'line-one' }).waitFor();
    // the job waits for GO_FILE: this line can only have come live
    const state = await page.locator('#run-state').innerText();
    expect(state.trim() === 'running', 'state is ' + state);
    expect(!(await page.locator('#output').innerText()).includes('done-three'), 'not finished yet');
    await page.locator('button[data-signal=TERM]').waitFor();
    await shot('run-live');
    writeFileSync(goFile, '');
  });

  await step('the run turns ok, with its stderr and the rest of its output', async () => {
    await page.locator('#run-state', { hasText: /^ok$/ }).waitFor();
    await page.locator('#output', { hasText: 'done-three' }).waitFor();
    const err = await page.locator('#output .err').allInnerTexts();
    expect(err.join('').includes('line-two'), 'stderr shown apart: ' + JSON.stringify(err));
    expect(await page.locator('#run-facts').innerText().then((t) => /exit\s+0/.test(t)), 'exit 0 shown');
    expect(await page.locator('button[data-signal]').count() === 0, 'no signal buttons once done');
    await shot('run');
  });

  await step('the jobs table shows the last result and a sparkline', async () => {
    // a few more runs of another job, for a line of several points
    const jids = await page.evaluate(async (tok) => {
      const hd = { 'Content-Type': 'application/json', Authorization: 'Bearer ' + tok };
      await fetch('/api/v1/jobs', { method: 'POST', headers: hd,
        body: JSON.stringify({ name: 'report', command: 'sleep 0.2', schedule: '*/15 * * * *' }) });
      const out = [];
      for (let i = 0; i < 4; i++)
        out.push((await (await fetch('/api/v1/jobs/report/run', { method: 'POST', headers: hd,
          body: JSON.stringify({ wait: true }) })).json()).run.jid);
      return out;
    }, token);
    expect(jids.length === 4 && jids.every(Boolean), 'four runs of report: ' + jids);
    await page.click('#nav a[data-nav=jobs]');
    await page.locator('tr[data-job=report] svg.spark circle.pt-ok').nth(3).waitFor();
    const row = page.locator('tr[data-job=hello]');
    await row.waitFor();
    await row.locator('.badge', { hasText: /^ok$/ }).waitFor();
    expect(await row.locator('svg.spark circle.pt-ok').count() >= 1, 'a point for the run');
    expect(/in \d/.test(await row.innerText()), 'next run in words: ' + await row.innerText());
    await shot('jobs');
  });

  await step('a confirm job asks before it runs; its output is text, not HTML', async () => {
    const r = await page.evaluate(async (tok) => (await fetch('/api/v1/jobs', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + tok },
      body: JSON.stringify({ job: { name: 'careful', command: "echo '<b>confirmed</b>'", confirm: true } }),
    })).status, token);
    expect(r >= 200 && r < 300, 'create careful: ' + r);
    await page.goto(base + '/#/jobs/careful');
    let asked = '';
    page.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
    await page.click('#run-job');
    await page.waitForTimeout(300);
    expect(/confirmation/.test(asked), 'asked: ' + asked);
    expect(/#\/jobs\/careful$/.test(page.url()), 'dismissed: stays on the job');
    page.once('dialog', (d) => d.accept());
    await page.click('#run-job');
    await page.waitForURL(/#\/runs\/\d+$/);
    await page.locator('#run-state', { hasText: /^ok$/ }).waitFor();
    await page.locator('#output', { hasText: '<b>confirmed</b>' }).waitFor();
    expect(await page.locator('#output b').count() === 0, 'output is shown as text, not HTML');
  });

  await step('a target is paused from the targets page', async () => {
    await page.click('#nav a[data-nav=targets]');
    const row = page.locator('tr[data-target=default]');
    await row.locator('.badge', { hasText: /^active$/ }).waitFor();
    await row.locator('button[data-op=pause]').click();
    await row.locator('.badge', { hasText: /^paused$/ }).waitFor();
    await row.locator('button[data-op=continue]').waitFor();
    const t = await page.evaluate(async (tok) => (await (await fetch('/api/v1/targets',
      { headers: { Authorization: 'Bearer ' + tok } })).json()).targets, token);
    expect(t.find((x) => x.name === 'default').paused === true, 'the API says paused');
    await shot('targets');
  });

  await step('the workers page lists this jobd', async () => {
    await page.click('#nav a[data-nav=workers]');
    await page.locator('td', { hasText: 'this jobd' }).waitFor();
  });

  await step('the runs page lists both runs', async () => {
    await page.click('#nav a[data-nav=runs]');
    await page.locator(`tr[data-jid="${jid}"]`).waitFor();
    expect(await page.locator('tr[data-jid]').count() >= 2, 'two runs');
  });

  await step('a wrong token is refused, asked again, and the change goes on', async () => {
    await page.evaluate(() => sessionStorage.setItem('jobd.token', 'wrong-token-0123456789'));
    await page.goto(base + '/#/targets');
    await page.locator('#token-panel').waitFor({ state: 'visible' });
    expect(/invalid token/.test(await page.locator('#token-why').innerText()), 'says why');
    await page.fill('#token-input', token);
    await page.click('#token-form button[type=submit]');
    const row = page.locator('tr[data-target=default]');
    await row.locator('.badge', { hasText: /^paused$/ }).waitFor();
  });

  await step('on a phone the jobs table fits the screen', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const p = await phone.newPage();
    p.setDefaultTimeout(T);
    await p.goto(base + '/');
    await p.fill('#token-input', token);       // a new tab: asked once more
    await p.click('#token-form button[type=submit]');
    await p.locator('tr[data-job=hello]').waitFor();
    const w = await p.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(w[0] <= w[1], 'no sideways scroll: ' + w);
    await shot('phone-jobs', p);
    await p.goto(base + '/#/runs/' + encodeURIComponent(jid));
    await p.locator('#output', { hasText: 'done-three' }).waitFor();
    const w2 = await p.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    expect(w2[0] <= w2[1], 'the run page: no sideways scroll: ' + w2);
    await shot('phone-run', p);
    await phone.close();
  });

  await step('nothing was fetched from elsewhere and no script error', async () => {
    expect(foreign.length === 0, 'foreign requests: ' + foreign.join(' '));
    const bad = consoleErrors.filter((e) => !/401|Unauthorized|status of 4\d\d/.test(e));
    expect(bad.length === 0, 'console errors: ' + bad.join(' | '));
  });
} catch (e) {
  fail('dashboard.mjs runs to its end', e && e.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
