// dashboard.js -- the dashboard of `tenure serve` in headless Chromium (puppeteer-core):
//   node dashboard.js BASE_URL ADMIN_KEY SUMMARY.json OUTDIR
// Signs in with the key, opens every page in en, ar and fa at 1400 and 400 px,
// and prints one line of JSON per check: {"check": NAME, "ok": true|false, "detail": ...}.
// Checks: no console errors, no failed requests, nothing fetched beyond the
// server, <html lang dir>, no horizontal overflow at 400 px, page weight under
// 300 KB, the overview's data-metric numbers equal /v1/summary, a filter changes
// the chart and the URL, a hover read-out, table sorting, native digits and Solar
// Hijri dates, chart numbers in the language's digits, acknowledging an alert,
// approving an offer plan and starting a campaign work (once) and are refused
// without the CSRF token, and axe-core finds no serious or critical violation.  Screenshots: OUTDIR/*.png.
'use strict';
const puppeteer = require('puppeteer-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [base, key, summaryPath, outdir] = process.argv.slice(2);
if (!base || !key || !summaryPath || !outdir) {
  console.error('usage: node dashboard.js BASE_URL ADMIN_KEY SUMMARY.json OUTDIR');
  process.exit(2);
}
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const summary = {};
for (const r of JSON.parse(fs.readFileSync(summaryPath, 'utf8'))) summary[r.measure] = r.value;

function report(check, ok, detail) {
  console.log(JSON.stringify({ check, ok: !!ok, detail: detail === undefined ? '' : detail }));
}

// digits of any script back to ASCII, Arabic separators to , and .
function ascii(s) {
  return s.replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x660))
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x6F0))
    .replace(/\u066B/g, '.').replace(/\u066C/g, ',');
}

// does TEXT (as shown, DIGITS decimals) equal V?
function same(text, v) {
  const t = ascii(text).replace(/,/g, '').trim();
  if (v === null || v === undefined || Number.isNaN(v)) return t === '–' || t === '' || t === 'n/a';
  const d = t.includes('.') ? t.split('.')[1].length : 0;
  return Math.abs(parseFloat(t) - v) <= 0.5 * Math.pow(10, -d) + 1e-9;
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tenure-dash-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const errors = [], failed = [], outside = [];
  let bytes = 0;
  const page = await browser.newPage();
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const u = req.url();
    if (u.startsWith(base) || u.startsWith('data:')) req.continue();
    else { outside.push(u); req.abort(); }
  });
  page.on('console', (m) => { if (m.type() === 'error') errors.push(page.url() + ': ' + m.text()); });
  page.on('pageerror', (e) => errors.push(page.url() + ': ' + String(e)));
  page.on('requestfailed', (r) => failed.push(r.url() + ' ' + (r.failure() ? r.failure().errorText : '')));
  page.on('response', async (r) => {
    if (r.status() >= 400) failed.push(r.url() + ' ' + r.status());
    try { bytes += (await r.buffer()).length; } catch (e) { /* redirects have no body */ }
  });
  try {
    // ---- sign in ----
    await page.setViewport({ width: 1400, height: 900 });
    await page.goto(base + '/', { waitUntil: 'load' });
    report('signed out: / leads to the sign-in form', page.url().endsWith('/login') &&
           (await page.$('form input[name=key]')) !== null, page.url());
    await page.type('input[name=key]', key);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 120000 }), page.click('form.login button')]);
    report('sign in with the key', new URL(page.url()).pathname === '/', page.url());
    const cookies = await page.cookies();
    const sc = cookies.find((c) => c.name === 'tn_session');
    report('session cookie: HttpOnly, SameSite=Strict, with an expiry',
           sc && sc.httpOnly && sc.sameSite === 'Strict' && sc.expires > Date.now() / 1000, sc);

    // a customer to open: the first at risk
    await page.goto(base + '/who?lang=en', { waitUntil: 'load', timeout: 120000 });
    const cust = await page.$eval('a[href^="/customers/"]', (a) => a.getAttribute('href')).catch(() => null);
    report('the at-risk list links to customers', !!cust, cust);
    const pages = [['overview', '/'], ['when', '/when'], ['why', '/why'], ['who', '/who'], ['act', '/act'],
                   ['alerts', '/alerts'], ['customer', cust || '/customers/none']];
    const worst = { weight: 0, overflow: [], axe: [], dir: [] };
    for (const lang of ['en', 'ar', 'fa']) {
      for (const width of [1400, 400]) {
        await page.setViewport({ width, height: 900 });
        for (const [name, p] of pages) {
          bytes = 0;
          const t0 = Date.now();
          await page.goto(base + p + (p.includes('?') ? '&' : '?') + 'lang=' + lang, { waitUntil: 'load', timeout: 120000 });
          const m = await page.evaluate(() => ({
            lang: document.documentElement.lang, dir: document.documentElement.dir,
            sw: document.documentElement.scrollWidth, h1: document.querySelector('h1') ? document.querySelector('h1').textContent : '',
          }));
          if (m.lang !== lang || m.dir !== (lang === 'en' ? 'ltr' : 'rtl')) worst.dir.push(`${name} ${lang}: ${m.lang} ${m.dir}`);
          if (m.sw > width) worst.overflow.push(`${name} ${lang} ${width}px: scrollWidth ${m.sw}`);
          if (bytes > worst.weight) worst.weight = bytes, worst.weightPage = `${name} ${lang} (${Date.now() - t0} ms)`;
          await page.screenshot({ path: path.join(outdir, `${name}-${lang}-${width}.png`), fullPage: true });
          if (width === 1400) {
            await page.evaluate(axeSource); // through the DevTools protocol: the page's CSP allows no inline script
            const res = await page.evaluate(async () => {
              const r = await window.axe.run(document, { resultTypes: ['violations'] });
              return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
                .map((v) => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', '));
            });
            for (const v of res) worst.axe.push(`${name} ${lang}: ${v}`);
          }
        }
      }
    }
    report('every page in en, ar and fa has <html lang dir>', worst.dir.length === 0, worst.dir);
    report('no horizontal overflow at 400 px (or 1400 px)', worst.overflow.length === 0, worst.overflow);
    report('page weight under 300 KB', worst.weight < 300 * 1024, `${worst.weight} bytes, ${worst.weightPage}`);
    report('axe-core: no serious or critical violation', worst.axe.length === 0, worst.axe);

    // ---- the overview's numbers equal /v1/summary, in every language and digits ----
    for (const q of ['lang=en', 'lang=ar&digits=native', 'lang=fa&digits=native', 'lang=en&digits=latin']) {
      await page.goto(base + '/?' + q, { waitUntil: 'load' });
      const shown = await page.$$eval('[data-metric]', (es) => es.map((e) => [e.getAttribute('data-metric'), e.textContent]));
      const bad = shown.filter(([k, t]) => !(k in summary) || !same(t, summary[k])).map(([k, t]) => `${k}: shown ${t}, summary ${summary[k]}`);
      report(`data-metric numbers equal /v1/summary (${q})`, shown.length >= 10 && bad.length === 0,
             bad.length ? bad : `${shown.length} figures`);
      if (q.includes('native')) {
        const txt = shown.map(([, t]) => t).join(' ');
        report(`native digits shown (${q})`, q.includes('lang=ar') ? /[\u0660-\u0669]/.test(txt) : /[\u06F0-\u06F9]/.test(txt), txt.slice(0, 60));
      }
    }
    await page.goto(base + '/?lang=fa&cal=solar', { waitUntil: 'load' });
    const asof = await page.$eval('.asof', (e) => e.textContent);
    report('Solar Hijri dates in Persian (as-of in 14xx)', /(14\d\d|۱۴[۰-۹][۰-۹])\//.test(asof), asof);
    await page.goto(base + '/?lang=en&digits=latin&cal=gregorian', { waitUntil: 'load' });

    // ---- a filter changes the chart and the URL ----
    const chart = () => page.$eval('figure.chart svg', (s) => s.innerHTML);
    const before = await chart();
    await page.select('form.filters select[name=period]', 'quarter');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form.filters button[type=submit]')]);
    const after = await chart();
    report('the period filter changes the chart and the URL', page.url().includes('period=quarter') && after !== before, page.url());
    const plan = await page.$eval('#plans option', (o) => o.value).catch(() => null);
    if (plan) {
      await page.goto(base + '/?period=month&plan=' + encodeURIComponent(plan), { waitUntil: 'load' });
      const byPlan = await chart();
      report('the plan filter changes the chart and stays in the URL', byPlan !== before && page.url().includes('plan='), plan);
      // moving to another page keeps the filter in the links
      const link = await page.$eval('nav a[href^="/when"]', (a) => a.getAttribute('href'));
      report('links keep the filters', link.includes('plan='), link);
    } else report('the plan filter changes the chart and stays in the URL', false, 'no plan in the datalist');

    // ---- hover read-out and sortable, paged tables ----
    await page.goto(base + '/?lang=en', { waitUntil: 'load' });
    const pt = await page.$('figure.chart circle[data-tip]');
    if (pt) await pt.hover();
    const tip = await page.$eval('#tip', (t) => [getComputedStyle(t).display, t.textContent]).catch(() => ['none', '']);
    report('hovering a chart point shows its read-out', tip[0] === 'block' && tip[1].length > 0, tip[1]);
    const charts = await page.$$eval('figure.chart', (fs) => fs.map((f) => !!f.querySelector('figcaption') && !!f.querySelector('svg[aria-label]')));
    report('every chart has a title and an accessible name', charts.length > 0 && charts.every(Boolean), charts);
    await page.goto(base + '/who?lang=en&sort=risk', { waitUntil: 'load' });
    const first = () => page.$eval('table.sortable tbody tr:not([hidden]) td', (td) => td.textContent);
    const f0 = await first();
    await page.click('table.sortable th:nth-child(6) button.sort');
    const sorted = await page.$eval('table.sortable th:nth-child(6)', (th) => th.getAttribute('aria-sort'));
    report('a table sorts by a column', sorted === 'ascending' && (await first()) !== null, [f0, sorted]);
    const pager = await page.$('.pager button');
    report('a long table is paged', !!pager, '');
    // customers' own words keep their own direction
    await page.goto(base + '/why?lang=ar', { waitUntil: 'load' });
    const bdi = await page.$$eval('bdi[dir=auto]', (b) => b.length);
    report("customers' words in their own direction (bdi dir=auto)", bdi > 0, `${bdi} elements`);

    // ---- CSV ----
    const csv = await page.evaluate(async () => {
      const r = await fetch('/who?format=csv');
      return [r.status, r.headers.get('content-type'), (await r.text()).split('\n').length];
    });
    report('download CSV', csv[0] === 200 && csv[1].startsWith('text/csv') && csv[2] > 3, csv);

    report('no console errors', errors.length === 0, errors.slice(0, 5));
    report('no failed requests', failed.length === 0, failed.slice(0, 5));
    report('nothing requested beyond the server (works offline)', outside.length === 0, outside.slice(0, 5));

    // ---- alerts: acknowledge works; without the CSRF token it is refused ----
    await page.goto(base + '/alerts?lang=en', { waitUntil: 'load' });
    const ids = await page.$$eval('tr[data-alert] button.ack', (bs) => bs.map((b) => b.closest('tr').getAttribute('data-alert')));
    report('the inbox lists open alerts with an acknowledge button', ids.length >= 2, `${ids.length} open`);
    if (ids.length >= 2) {
      const [a, b] = ids;
      const refused = await page.evaluate(async (id) => {
        const out = [];
        for (const body of ['', 'csrf=' + '0'.repeat(64)]) {
          const r = await fetch(`/alerts/${id}/ack`, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
          out.push(r.status);
        }
        return out;
      }, b);
      report('acknowledging without the CSRF token is refused (403)', refused.every((s) => s === 403), refused);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click(`tr[data-alert="${a}"] button.ack`)]);
      const left = await page.$$eval('tr[data-alert] button.ack', (bs) => bs.map((x) => x.closest('tr').getAttribute('data-alert')));
      report('acknowledging an alert removes it from the open inbox', !left.includes(a) && left.includes(b), `acked ${a}; ${b} still open`);
      await page.goto(base + '/alerts?all=1', { waitUntil: 'load' });
      const st = await page.$eval(`tr[data-alert="${a}"] td:last-child`, (td) => td.textContent).catch(() => '');
      report('the acknowledged alert shows as acknowledged', st === 'acknowledged', st);
    }
    // ---- chart numbers in the language's digits ----
    for (const [lang, re] of [['ar', /[\u0660-\u0669]/], ['fa', /[\u06F0-\u06F9]/]]) {
      const seen = [];
      for (const p of ['/', '/when']) {
        await page.goto(base + p + '?lang=' + lang + '&digits=native', { waitUntil: 'load' });
        seen.push(...await page.$$eval('figure.chart svg text, figure.chart svg title, figure.chart svg [data-tip]',
          (es) => es.map((e) => e.getAttribute('data-tip') || e.textContent)));
      }
      const latin = seen.filter((t) => /[0-9]/.test(t));
      report(`chart ticks, legends and read-outs in ${lang} digits`, seen.some((t) => re.test(t)) && latin.length === 0,
             latin.length ? latin.slice(0, 5) : `${seen.length} texts`);
    }
    await page.goto(base + '/?lang=en&digits=latin', { waitUntil: 'load' });
    const latinTicks = await page.$$eval('figure.chart svg text', (es) => es.map((e) => e.textContent).join(' '));
    report('chart ticks in Latin digits by default', /[0-9]/.test(latinTicks) && !/[\u0660-\u0669\u06F0-\u06F9]/.test(latinTicks),
           latinTicks.slice(0, 60));

    // ---- approve an offer plan, start a campaign: refused without the CSRF token, done once ----
    const post = (url, body) => page.evaluate(async (u, b) => {
      const r = await fetch(u, { method: 'POST', body: b, redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      return r.status;
    }, url, body);
    await page.goto(base + '/act?lang=en', { waitUntil: 'load', timeout: 120000 });
    const offers = await page.$eval('[data-plan-offers]', (e) => +e.getAttribute('data-plan-offers')).catch(() => -1);
    report('/act shows the offer plan to approve', offers > 0 && !!(await page.$('#approve-plan')), `${offers} offers`);
    const planRefused = [await post('/act/plan/approve', 'cost=5&accept=0.3&control=0.1'),
                         await post('/act/plan/approve', 'csrf=' + '0'.repeat(64) + '&cost=5&accept=0.3&control=0.1')];
    report('approving a plan without the CSRF token is refused (403)', planRefused.every((x) => x === 403), planRefused);
    const approve = async () => {
      await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 120000 }), page.click('#approve-plan')]);
      return page.$eval('[data-done]', (e) => e.getAttribute('data-done')).catch(() => '');
    };
    const a1 = await approve(), a2 = await approve();
    const planRows = await page.$$eval('section.tbl', (ss) => {
      const s = ss.find((x) => x.querySelector('h2').textContent === 'Approved offer plans');
      return s ? Array.from(s.querySelectorAll('tbody tr')).map((r) => Array.from(r.cells).map((c) => c.textContent)) : [];
    });
    report('approving the plan queues its offers; a second click queues nothing twice',
           a1 === 'plan' && a2 === 'plan-again' && planRows.length === 1 && +planRows[0][4] > 0 && +planRows[0][2] === offers,
           { first: a1, second: a2, rows: planRows });
    const campRefused = [await post('/act/campaign/start', 'name=x1&days=90&control=0.1&channel=email'),
                         await post('/act/campaign/start', 'csrf=' + 'f'.repeat(64) + '&name=x1&days=90&control=0.1&channel=email')];
    report('starting a campaign without the CSRF token is refused (403)', campRefused.every((x) => x === 403), campRefused);
    const start = async () => {
      await page.evaluate(() => { document.querySelector('#campaign input[name=name]').value = 'browser-winback'; document.querySelector('#campaign input[name=days]').value = '365'; });
      await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 120000 }), page.click('#start-campaign')]);
      return page.$eval('[data-done]', (e) => e.getAttribute('data-done')).catch(() => '');
    };
    const c1 = await start(), c2 = await start();
    const campRows = await page.$$eval('section.tbl', (ss) => {
      const s = ss.find((x) => x.querySelector('h2').textContent === 'Campaigns started here');
      return s ? Array.from(s.querySelectorAll('tbody tr')).map((r) => Array.from(r.cells).map((c) => c.textContent)) : [];
    });
    report('starting a campaign queues its contacts; the same name starts once',
           c1 === 'campaign' && c2 === 'campaign-again' && campRows.length === 1 && campRows[0][0] === 'browser-winback' && +campRows[0][2] > 0 && +campRows[0][4] > 0,
           { first: c1, second: c2, rows: campRows });
    // ---- the plan in force: withdrawn with its button (CSRF checked) ----
    await page.goto(base + '/act?lang=en', { waitUntil: 'load', timeout: 120000 });
    const inForce = await page.$eval('[data-plan-in-force]', (e) => e.getAttribute('data-plan-in-force')).catch(() => '');
    report('/act shows the plan in force with a withdraw button', inForce !== '' && !!(await page.$('#withdraw-plan')), inForce);
    const wRefused = [await post('/act/plan/withdraw', 'plan=' + inForce),
                      await post('/act/plan/withdraw', 'csrf=' + '0'.repeat(64) + '&plan=' + inForce)];
    report('withdrawing without the CSRF token is refused (403)', wRefused.every((x) => x === 403), wRefused);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 120000 }), page.click('#withdraw-plan')]);
    const wDone = await page.$eval('[data-done]', (e) => e.getAttribute('data-done')).catch(() => '');
    report('withdrawing the plan: done, and no plan is in force any more',
           wDone === 'withdrawn' && !(await page.$('[data-plan-in-force]')) && !(await page.$('#withdraw-plan')), wDone);
    await page.goto(base + '/act?lang=fa&digits=native', { waitUntil: 'load' });
    const faForm = await page.$eval('#approve-plan', (b) => b.textContent).catch(() => '');
    report('the actions are translated (fa)', faForm === 'تأیید این برنامه', faForm);

    // ---- sign out ----
    await page.goto(base + '/', { waitUntil: 'load' });
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form[action="/logout"] button')]);
    await page.goto(base + '/who', { waitUntil: 'load' });
    report('after signing out the pages lead to the sign-in form', page.url().endsWith('/login'), page.url());
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { report('the browser run', false, e && e.stack || String(e)); process.exit(1); });
