// End to end in headless Chromium, the editors: `relance serve --demo` on a fresh SQLite file;
// as the demo admin, edit a message template and see the unsaved text in the live preview (the
// e-mail, then the PDF letter's bytes), save it and find it in `relance template show`; change
// a policy step's delay and find it persisted (the page after a reload and
// `relance policy export`).
//
// RELANCE_BIN names the binary (default: ../../target/debug/relance); CHROMIUM the browser
// (default: /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

async function logIn(page) {
  await page.goto(`${base}/`);
  await page.getByLabel('Adresse e-mail').fill(login.email);
  await page.getByLabel('Mot de passe').fill(login.password);
  await page.getByRole('button', { name: 'Connexion' }).click();
  await page.waitForURL(/\/c\/\d+$/);
  return page.url().split('/').pop();
}

test('a template edit shows in the live preview, then is saved', async () => {
  const page = await browser.newPage({ locale: 'fr-FR' });
  const creditor = await logIn(page);
  await page.getByRole('link', { name: 'Modèles', exact: true }).click();
  await page.waitForURL(/\/templates$/);
  await page.locator('a[data-template="first_reminder/fr/body"]').click();
  await page.waitForURL(/\/templates\/first_reminder\/fr\/body/);
  // The documented variables are beside the editor.
  await page.getByRole('heading', { name: 'Variables disponibles' }).waitFor();
  assert.ok(await page.locator('dl.vars dt', { hasText: 'debtor.name' }).count() > 0);

  // A customer with something overdue, from the offered list.
  const customer = await page.locator('#customer-list option').first().getAttribute('value');
  assert.ok(customer, 'the demo offers customers to preview');
  await page.locator('#customer').fill(customer);

  // Type: the preview follows without any click (live), unsaved.
  const marker = `Marqueur-${Date.now()}`;
  const original = await page.locator('#source').inputValue();
  await page.locator('#source').fill(`${marker} pour {{ debtor.name }}\n\n${original}`);
  const frame = page.frameLocator('iframe[name="preview"]');
  await frame.locator('#preview-text').filter({ hasText: marker }).waitFor({ timeout: 15_000 });
  const text = await frame.locator('#preview-text').textContent();
  assert.ok(text.includes(`${marker} pour `), text);
  const name = text.split(`${marker} pour `)[1].split('\n')[0].trim();
  assert.ok(name.length > 0, 'the chosen customer\'s name is in the preview');
  // The HTML part too.
  const html = await frame.locator('#preview-html').getAttribute('srcdoc');
  assert.ok(html.includes(marker), 'HTML part carries the edit');
  // Nothing is saved by a preview.
  assert.ok(!relance('template', 'show', 'first_reminder', '--channel', 'email', '--lang', 'fr', '--part', 'body').includes(marker));

  // The PDF letter's preview renders the same unsaved text.
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/preview') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Aperçu de la lettre PDF' }).click(),
  ]);
  assert.equal(response.status(), 200);
  assert.equal(response.headers()['content-type'], 'application/pdf');
  // Chromium hands the frame's PDF to its viewer: fetch the same form post to read the bytes.
  const bytes = await page.evaluate(async () => {
    const form = document.getElementById('template-form');
    const body = new URLSearchParams(new FormData(form));
    body.set('format', 'letter');
    const r = await fetch(`${form.getAttribute('action')}/preview`, { method: 'POST', body });
    return Array.from(new Uint8Array(await r.arrayBuffer()));
  });
  const pdf = Buffer.from(bytes);
  assert.equal(pdf.subarray(0, 4).toString(), '%PDF');
  const pdfPath = join(dir, 'preview.pdf');
  writeFileSync(pdfPath, pdf);
  let pdfText = null;
  try {
    pdfText = execFileSync('pdftotext', [pdfPath, '-'], { encoding: 'utf8' });
  } catch (e) {
    assert.notEqual(process.env.CI, 'true', `pdftotext: ${e}`);
  }
  if (pdfText !== null) {
    assert.ok(pdfText.replace(/\s+/g, ' ').includes(`${marker} pour ${name}`), pdfText);
  }

  // A broken edit: the preview says why.
  await page.locator('#source').fill('{{ not_a_variable }}');
  await frame.locator('#preview-error').waitFor({ timeout: 15_000 });
  assert.match(await frame.locator('#preview-error').textContent(), /undefined value/);

  // Save the good text: the CLI sees it.
  await page.locator('#source').fill(`${marker} pour {{ debtor.name }}\n\n${original}`);
  await page.locator('#note').fill('e2e');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await page.waitForURL(/saved=\d+/);
  assert.ok(relance('template', 'show', 'first_reminder', '--channel', 'email', '--lang', 'fr', '--part', 'body').includes(marker));
  assert.ok(page.url().includes(`/c/${creditor}/`));
  await page.close();
});

test('a policy step delay change persists', async () => {
  const page = await browser.newPage({ locale: 'fr-FR' });
  await logIn(page);
  await page.getByRole('link', { name: 'Scénarios', exact: true }).click();
  await page.waitForURL(/\/policies$/);
  await page.locator('#policies tbody a').first().click();
  await page.waitForURL(/\/policies\/[^/?]+$/);
  const id = decodeURIComponent(page.url().split('/').pop());
  const row = page.locator('#steps tbody tr[data-step="first_reminder"]');
  const delay = row.locator('input[name$=".offset_days"]');
  const before = Number(await delay.inputValue());
  const wanted = before + 7;

  // A delay that is not a number: refused beside the field, nothing saved.
  await delay.fill('bientôt');
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await page.locator('#form-errors').waitFor();
  assert.equal(await row.locator('input[name$=".offset_days"]').getAttribute('aria-invalid'), 'true');
  assert.ok((await row.locator('.field-error').textContent()).includes('bientôt'));

  await row.locator('input[name$=".offset_days"]').fill(String(wanted));
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await page.waitForURL(/saved=1/);
  await page.getByRole('status').waitFor();
  await page.reload();
  assert.equal(Number(await page.locator('#steps tbody tr[data-step="first_reminder"] input[name$=".offset_days"]').inputValue()), wanted);

  // The CLI reads the same policy back.
  const exported = JSON.parse(relance('policy', 'export', id, '--format', 'json'));
  const step = exported.policies[0].steps.find((s) => s.id === 'first_reminder');
  assert.equal(step.offset_days, wanted);
  await page.close();
});
