// End to end in headless Chromium: `relance serve --demo` on a fresh SQLite file and a free port;
// log in with the printed demo login; the dashboard's figures equal `relance report aging`'s for
// the same database; open an overdue customer, record a promise, and find it on the timeline.
//
// RELANCE_BIN names the binary (default: ../../target/debug/relance); CHROMIUM the browser
// (default: /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.RELANCE_BIN || resolve(here, '../../target/debug/relance');
const dir = mkdtempSync(join(tmpdir(), 'relance-e2e-'));
const env = { ...process.env, RELANCE_DATABASE_URL: `sqlite://${join(dir, 'relance.db')}` };
delete env.RELANCE_CREDITOR;

let server;
let browser;
let base;
let login;

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Euros as integer cents, from the plain decimal text relance prints ("-12.5" → -1250). */
function cents(text) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(text).trim());
  assert.ok(m, `not an amount: ${text}`);
  const v = Number(m[2]) * 100 + Number((m[3] || '0').padEnd(2, '0'));
  return m[1] ? -v : v;
}

function relance(...args) {
  return execFileSync(bin, args, { env, encoding: 'utf8' });
}

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ['serve', '--demo', '--no-scheduler', '--bind', `127.0.0.1:${port}`], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  server.stderr.on('data', (d) => { err += d; });
  login = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no demo login within 120 s\n${out}\n${err}`)), 120_000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = /Demo login: (\S+)\s+password: (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ email: m[1], password: m[2] });
      }
    });
    server.on('exit', (code) => fail(new Error(`relance serve exited with ${code}\n${out}\n${err}`)));
  });
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGINT');
  rmSync(dir, { recursive: true, force: true });
});

test('log in, dashboard equals the aged balance, record a promise on a customer', async () => {
  const page = await browser.newPage({ locale: 'fr-FR' });
  // Without a session: the login page.
  await page.goto(`${base}/`);
  assert.match(page.url(), /\/login\?next=/);
  await page.getByLabel('Adresse e-mail').fill(login.email);
  await page.getByLabel('Mot de passe').fill(login.password);
  await page.getByRole('button', { name: 'Connexion' }).click();
  await page.waitForURL(/\/c\/\d+$/);
  assert.equal(await page.locator('h1').first().textContent().then((t) => t.startsWith('Tableau de bord')), true);

  // The dashboard's figures are the aged balance of the same database.
  const shownTotal = cents(await page.getByTestId('total').getAttribute('data-value'));
  const shownOverdue = cents(await page.getByTestId('overdue').getAttribute('data-value'));
  const lines = relance('report', 'aging', '--format', 'json').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length > 0, 'the demo has open items');
  const total = lines.reduce((s, l) => s + cents(l.total), 0);
  const overdue = lines.reduce((s, l) => s + cents(l['1_30']) + cents(l['31_60']) + cents(l['61_90']) + cents(l.over_90), 0);
  assert.equal(shownTotal, total, 'dashboard total = report aging total');
  assert.equal(shownOverdue, overdue, 'dashboard overdue = report aging overdue');
  for (const bucket of ['not_due', '1_30', '31_60', '61_90', 'over_90']) {
    const shown = cents(await page.locator(`td[data-bucket="${bucket}"]`).getAttribute('data-value'));
    assert.equal(shown, lines.reduce((s, l) => s + cents(l[bucket]), 0), `bucket ${bucket}`);
  }
  assert.equal(await page.locator('svg.chart rect').count(), 5);

  // Customers with overdue invoices, then the first one.
  await page.getByRole('link', { name: 'Clients', exact: true }).click();
  await page.getByLabel('Seulement les clients en retard').check();
  await page.getByRole('button', { name: 'Appliquer' }).click();
  await page.waitForURL(/overdue=1/);
  const first = page.locator('#customer-list tbody a').first();
  const name = (await first.textContent()).trim();
  await first.click();
  await page.waitForURL(/\/customers\/[^/?]+$/);
  assert.equal((await page.locator('h1').textContent()).startsWith(name), true);
  const code = decodeURIComponent(page.url().split('/').pop());

  // Record a promise through the form.
  const invoice = await page.locator('#promise-invoice option').first().getAttribute('value');
  const today = await page.locator('#promise-date').getAttribute('min');
  const promised = new Date(`${today}T12:00:00Z`);
  promised.setUTCDate(promised.getUTCDate() + 10);
  const day = promised.toISOString().slice(0, 10);
  await page.locator('#promise-invoice').selectOption(invoice);
  await page.locator('#promise-date').fill(day);
  await page.getByRole('button', { name: 'Enregistrer la promesse' }).click();
  await page.waitForURL(/done=1/);
  await page.getByRole('status').waitFor();
  const entry = page.locator('#timeline li[data-kind="promise"]').first();
  const text = await entry.textContent();
  assert.ok(text.includes(invoice) && text.includes(day), `timeline shows the promise: ${text}`);
  assert.ok((await page.getByTestId('case-promise').textContent()).includes(day));

  // The database agrees.
  const events = relance('report', 'timeline', '--customer', code, '--format', 'json')
    .trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.kind === 'promise' && e.item === invoice && e.data.promised_for === day));

  // The language switch.
  await page.getByRole('link', { name: 'EN', exact: true }).click();
  await page.getByRole('heading', { name: 'Timeline' }).waitFor();
  await page.close();
});

test('the cash forecast page draws its chart with the figures of relance report forecast', async () => {
  const page = await browser.newPage({ locale: 'en-GB' });
  await page.goto(`${base}/login`);
  await page.getByLabel('E-mail address').fill(login.email);
  await page.getByLabel('Password').fill(login.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/c\/\d+$/);
  // From the reports page.
  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await page.getByRole('link', { name: 'Cash forecast' }).click();
  await page.waitForURL(/\/forecast\?/);
  const chart = page.getByRole('img', { name: /Expected cash-in by week/ }).first();
  await chart.waitFor();
  assert.ok(await chart.locator('rect.week-bar').count() > 0, 'weekly bars');
  assert.equal(await chart.locator('polyline.cash-line').count(), 1);
  const weeks = relance('report', 'forecast', '--format', 'json').trim().split('\n')
    .map((l) => JSON.parse(l)).filter((w) => w.currency === 'EUR');
  assert.ok(weeks.length > 0, 'the demo has a forecast');
  for (const w of weeks) {
    const row = page.locator(`#forecast-EUR tr[data-week="${w.week}"]`);
    assert.equal(cents(await row.getAttribute('data-expected')), cents(w.expected), `week ${w.week}`);
  }
  await page.close();
});
