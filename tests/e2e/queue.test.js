// The work queue and the imports page in headless Chromium: `relance serve --demo` on a fresh
// SQLite file, two daily runs (`relance run --no-send`) so that call tasks are due; log a call's
// outcome from the work queue and find it on the customer's timeline (and in the database);
// upload a CSV with a bad line, see its positioned error, and check that nothing was stored;
// "send now" on one of today's e-mails: it leaves at once (an .eml in the outbox) and the page
// says so.
//
// RELANCE_BIN names the binary (default: ../../target/debug/relance); CHROMIUM the browser
// (default: /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const bin = process.env.RELANCE_BIN || resolve(here, '../../target/debug/relance');
const dir = mkdtempSync(join(tmpdir(), 'relance-e2e-'));
const env = {
  ...process.env,
  RELANCE_DATABASE_URL: `sqlite://${join(dir, 'relance.db')}`,
  // No SMTP server: "send now" files the e-mails as .eml under OUTBOX/mail.
  RELANCE_OUTBOX: join(dir, 'outbox'),
};
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
  return execFileSync(bin, args, { env, encoding: 'utf8', cwd: dir });
}

/** A day in Paris (the demo creditor's time zone), `days` from now, as YYYY-MM-DD. */
function parisDay(days) {
  const d = new Date(Date.now() + days * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(d);
}

async function logIn(page) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Adresse e-mail').fill(login.email);
  await page.getByLabel('Mot de passe').fill(login.password);
  await page.getByRole('button', { name: 'Connexion' }).click();
  await page.waitForURL(/\/c\/\d+$/);
  return page.url().replace(/\/$/, '');
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
  // Call tasks due today: a first reminder ten days ago, then the call step today.
  relance('run', '--as-of', parisDay(-10), '--no-send');
  relance('run', '--as-of', parisDay(0), '--no-send');
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

test('log a call outcome from the work queue and find it on the timeline', async () => {
  const tasks = relance('tasks', '--today', '--format', 'json').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.ok(tasks.length > 0, 'the runs left call tasks for today');
  const code = tasks[0].customer;
  const page = await browser.newPage({ locale: 'fr-FR' });
  const home = await logIn(page);
  await page.getByRole('link', { name: 'File de travail', exact: true }).click();
  await page.waitForURL(/\/queue$/);
  const card = page.locator(`article[id="call-${code}"]`);
  await card.waitFor();
  assert.ok((await card.locator('.pre').textContent()).includes(tasks[0].invoices[0]), 'the script names the invoice');
  const promised = parisDay(12);
  await card.getByLabel("Résultat de l'appel").selectOption('promised');
  await card.getByLabel('Date (promesse : payera le ; payé : a payé le)').fill(promised);
  await card.getByLabel('Note (obligatoire pour une contestation)').fill('virement prévu, e2e');
  await card.getByRole('button', { name: "Enregistrer l'appel" }).click();
  await page.waitForURL(/\/queue\?done=/);
  await page.getByTestId('done').waitFor();
  // The task is done: no card for the customer any more.
  assert.equal(await page.locator(`article[id="call-${code}"]`).count(), 0);

  // On the customer's timeline: the call and the promise it brought.
  await page.goto(`${home}/customers/${encodeURIComponent(code)}`);
  const call = page.locator('#timeline li[data-kind="call"]').first();
  const text = await call.textContent();
  assert.ok(text.includes('promised') && text.includes('virement prévu, e2e'), `timeline shows the call: ${text}`);
  assert.ok((await page.getByTestId('case-promise').textContent()).includes(promised));
  const events = relance('report', 'timeline', '--customer', code, '--format', 'json')
    .trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.kind === 'call' && e.data.outcome === 'promised'));
  assert.ok(events.some((e) => e.kind === 'promise' && e.data.promised_for === promised));
  await page.close();
});

test('upload a CSV with an error: the error is listed and nothing is stored', async () => {
  const page = await browser.newPage({ locale: 'fr-FR' });
  await logIn(page);
  await page.getByRole('link', { name: 'Imports', exact: true }).click();
  await page.waitForURL(/\/imports$/);
  const before = await page.locator('#recent-imports tbody tr').count();
  const csv = 'invoice_number,customer_id,customer_name,issue_date,due_date,amount\n'
    + 'E2E-1,E2E01,Client E2E,2026-01-05,2026-02-04,300.00\n'
    + 'E2E-2,E2E01,Client E2E,2026-01-06,2026-02-05,12x.00\n';
  await page.getByLabel('Factures (et avoirs)').check();
  await page.getByLabel(/^Fichier/).setInputFiles({ name: 'e2e-bad.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Importer', exact: true }).click();
  await page.locator('#import-refused').waitFor();
  const problems = await page.locator('#problems li').allTextContents();
  assert.ok(problems.some((p) => p.startsWith('e2e-bad.csv:3:') && p.includes('12x.00')), problems.join('\n'));
  assert.equal(await page.locator('#recent-imports tbody tr').count(), before, 'no import recorded');
  const invoices = relance('report', 'invoices', '--format', 'json');
  assert.ok(!invoices.includes('E2E-1'), 'nothing stored');
  await page.close();
});

test('send one of today\'s e-mails now from the work queue', async () => {
  const page = await browser.newPage({ locale: 'fr-FR' });
  await logIn(page);
  await page.getByRole('link', { name: 'File de travail', exact: true }).click();
  await page.waitForURL(/\/queue$/);
  const button = page.locator('#to-send').getByRole('button', { name: 'Envoyer maintenant' }).first();
  await button.waitFor();
  const row = await button.locator('xpath=ancestor::tr').getAttribute('id');
  await button.click();
  await page.waitForURL(/\/queue\?(done|error)=/);
  const said = await page.locator('[data-testid="done"], [data-testid="error"]').first().textContent();
  // The row left today's list either way: sent, or failed and moved to "for a person".
  assert.equal(await page.locator(`#to-send tr[id="${row}"]`).count(), 0, said);
  if (said.includes('E-mail envoyé.')) {
    const mail = join(dir, 'outbox', 'mail');
    const files = existsSync(mail) ? readdirSync(mail, { recursive: true }).filter((f) => String(f).endsWith('.eml')) : [];
    assert.equal(files.length, 1, `one e-mail filed: ${files}`);
  } else {
    assert.ok(said.includes("Échec de l'envoi"), said);
    assert.equal(await page.locator(`#attention tr[id="${row}"]`).count(), 1);
  }
  await page.close();
});
