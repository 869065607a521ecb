import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type TestContext, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { startCluster } from '../support/cluster.js';
import { needPeer } from '../support/requirements.js';
import { writePrivate } from '../support/temp-dir.js';

/**
 * The web UI in a real browser (Debian's Chromium, driven by playwright-core) against a real
 * two-node cluster on loopback. `npm run screenshots` sets HALO_SCREENSHOTS_DIR so the same
 * run refreshes docs/screenshots/.
 */

/** Debian's Chromium; HALO_CHROMIUM points elsewhere (or at nothing, to see the CI failure). */
const CHROMIUM = process.env['HALO_CHROMIUM'] ?? '/usr/bin/chromium';
const needChromium = (t: TestContext) =>
  needPeer(t, `chromium (${CHROMIUM}; Debian package chromium)`, existsSync(CHROMIUM));
const SCREENSHOTS = process.env['HALO_SCREENSHOTS_DIR'];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function cluster(t: Parameters<typeof startCluster>[0]) {
  const c = await startCluster(t, {
    nodes: ['n1', 'n2'],
    // The UI is under test, not failover speed: 2 s leases keep a loaded machine (a browser,
    // three agents, two cores) from losing the lease and moving the group on its own.
    timing: 'default',
    groups: {
      web: {
        nodes: ['n1', 'n2'],
        resources: {
          marker: {
            type: 'script',
            start: 'echo "$HALO_TERM" > "marker.$HALO_NODE"',
            stop: 'rm -f "marker.$HALO_NODE"',
            check: 'test -f "marker.$HALO_NODE" || exit 7',
          },
        },
        monitors: {
          alive: { type: 'script', command: 'echo "serving $HALO_NODE"', interval: '500ms' },
        },
      },
    },
  });
  // A read-only token as well, to check that such a session offers no operations. The config
  // epoch changes with the file, so the witness is restarted to read the same file as the agents.
  const readOnly = 'read-only-token-for-the-web-ui-test';
  await c.kill('witness');
  const config = parse(readFileSync(c.configFile, 'utf8'));
  config.cluster.api = { readOnlyTokenFile: writePrivate(join(c.dir, 'ro.token'), readOnly) };
  writeFileSync(c.configFile, stringify(config));
  await c.startWitness();
  await c.startAgent('n1');
  await c.startAgent('n2');
  const owner = await c.waitFor(
    'web running',
    () => ['n1', 'n2'].find((n) => existsSync(join(c.dir, `marker.${n}`))),
    40_000,
  );
  const other = owner === 'n1' ? 'n2' : 'n1';
  await c.waitFor('both out of quarantine', async () =>
    (await Promise.all(['n1', 'n2'].map((n) => c.status(n)))).every((s) => !s.quarantined),
  );
  // The page is served by the owner, so its own event stream holds the stopping half of the move.
  return { c, readOnly, owner, other, url: `http://127.0.0.1:${c.ports[owner]!.api}/` };
}

async function browser(t: Parameters<typeof startCluster>[0]): Promise<Browser> {
  const b = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  t.after(() => b.close());
  return b;
}

/** A page that records every request and console problem, to check nothing comes from elsewhere. */
async function openPage(b: Browser, viewport: { width: number; height: number }, url: string) {
  const context: BrowserContext = await b.newContext({ viewport });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  await page.goto(url);
  return { page, requests, problems };
}

async function signIn(page: Page, token: string) {
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const ownerText = (page: Page) => page.locator('[data-group="web"] [data-testid="owner"]').textContent();

async function screenshot(page: Page, name: string) {
  if (!SCREENSHOTS) return;
  const dir = resolve(SCREENSHOTS);
  mkdirSync(dir, { recursive: true });
  // No hover effects in the picture, and the entry animation of new events settled.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(dir, name), fullPage: name.includes('phone') });
}

test('the web UI signs in, moves a group with confirmation and shows the owner change and failover live', {
  timeout: 120_000,
}, async (t) => {
  if (!needChromium(t)) return;
  const { c, url, owner, other } = await cluster(t);
  const b = await browser(t);
  const { page, requests, problems } = await openPage(b, DESKTOP, url);

  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await screenshot(page, 'login-desktop.png');

  await signIn(page, 'not-the-token');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.match((await alert.textContent()) ?? '', /not accepted/);

  await signIn(page, c.token(owner));
  await page.locator('[data-node="n1"]').waitFor();
  await page.locator('[data-node="n2"]').waitFor();
  await until('owner shown', async () => (await ownerText(page)) === owner);
  await until('monitor passing', async () => (await page.getByText('passing').count()) > 0);
  assert.equal(await page.getByText('Read-write').count(), 1);
  // A marker that a reload would wipe: the owner must change in place.
  await page.evaluate('window.notReloaded = true');
  await screenshot(page, 'dashboard-desktop.png');

  // Escape cancels without doing anything.
  await page.getByRole('button', { name: 'Move web' }).click();
  await page.getByRole('dialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  assert.equal(await ownerText(page), owner);

  await page.getByRole('button', { name: 'Move web' }).click();
  const dialog = page.getByRole('dialog');
  assert.equal(await dialog.getByLabel('Move to').inputValue(), other);
  await screenshot(page, 'move-dialog-desktop.png');
  await dialog.getByRole('button', { name: 'Move group' }).click();
  await dialog.waitFor({ state: 'detached' });

  await until('new owner shown without a reload', async () => (await ownerText(page)) === other);
  const failover = page.locator('.events .event-failover').first();
  await failover.waitFor({ timeout: 20_000 });
  const phases = await failover.locator('.phase-name').allTextContents();
  assert.deepEqual(phases.slice(0, 2), ['Decided', 'Stopped'], `phases shown: ${phases.join(', ')}`);
  assert.match((await failover.locator('.failover-total').textContent()) ?? '', /\d+(\.\d+)? m?s/);
  assert.equal(await page.evaluate('window.notReloaded'), true, 'the page was not reloaded');
  await c.waitFor('web running on the new owner', () => existsSync(join(c.dir, `marker.${other}`)));
  await until(
    'monitor passing on the new owner',
    async () => (await c.status(other)).groups[0].state === 'running',
  );
  // Both halves of the move joined by the agent (status `lastFailover`): the old owner's stop
  // and the new owner's start in one record, complete once the group is healthy again.
  const merged = page.locator('[data-group="web"] .last-failover');
  await until('merged failover shown', async () => /Healthy/.test((await merged.textContent()) ?? ''));
  const mergedText = (await merged.textContent()) ?? '';
  assert.ok(
    mergedText.includes(`${owner} → ${other}`),
    `the hand-over ${owner} → ${other} in: ${mergedText}`,
  );
  assert.doesNotMatch(mergedText, /so far/, 'the merged failover is complete');
  // Both halves: decided and stopped on the old owner, started and healthy on the new one.
  const mergedPhases = await merged.locator('.phase-name').allTextContents();
  const where = (p: string) => mergedPhases.indexOf(p);
  assert.equal(where(`Decided on ${owner}`), 0, `merged phases: ${mergedPhases.join(', ')}`);
  assert.equal(
    where(`Healthy on ${other}`),
    mergedPhases.length - 1,
    `merged phases: ${mergedPhases.join(', ')}`,
  );
  assert.ok(
    where(`Stopped on ${owner}`) > 0 && where(`Stopped on ${owner}`) < where(`Started on ${other}`),
    `merged phases: ${mergedPhases.join(', ')}`,
  );
  await page.locator('[data-group="web"]').scrollIntoViewIfNeeded();
  await screenshot(page, 'failover-desktop.png');

  // At phone width, in a fresh tab: the same page, one column.
  const phone = await openPage(b, PHONE, url);
  await signIn(phone.page, c.token(owner));
  await until('phone shows owner', async () => (await ownerText(phone.page)) === other);
  await phone.page.locator('.events .event-failover').first().waitFor();
  const width = await phone.page.evaluate<number>('document.documentElement.scrollWidth');
  assert.ok(width <= PHONE.width, `no horizontal scrolling at phone width (page is ${width}px wide)`);
  await screenshot(phone.page, 'dashboard-phone.png');

  const origin = new URL(url).origin;
  for (const r of [...requests, ...phone.requests]) assert.ok(r.startsWith(origin), `request to ${r}`);
  assert.deepEqual([...problems, ...phone.problems], []);
});

test("a refused operation keeps the dialog open with the agent's reason", {
  timeout: 120_000,
}, async (t) => {
  if (!needChromium(t)) return;
  const { c, url, owner } = await cluster(t);
  const b = await browser(t);
  const { page } = await openPage(b, DESKTOP, url);
  await signIn(page, c.token(owner));
  await until('owner shown', async () => (await ownerText(page)) === owner);

  // The agent refuses when it cannot act (no quorum, no eligible target); stand in for that.
  await page.route('**/v1/groups/web/stop', (route) =>
    route.fulfill({
      status: 409,
      contentType: 'application/json',
      body: JSON.stringify({
        error: { code: 'HALO_E_CONFLICT', message: 'no quorum: cannot change web now' },
      }),
    }),
  );
  await page.getByRole('button', { name: 'Stop web' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Stop group' }).click();
  const refused = dialog.getByRole('alert');
  await refused.waitFor();
  assert.match((await refused.textContent()) ?? '', /no quorum: cannot change web now.*HALO_E_CONFLICT/);
  await screenshot(page, 'refused-desktop.png');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal(await ownerText(page), owner);
});

test('a read-only token sees the cluster but no operation buttons', {
  timeout: 120_000,
}, async (t) => {
  if (!needChromium(t)) return;
  const { readOnly, url, c, owner } = await cluster(t);
  const b = await browser(t);
  const { page } = await openPage(b, DESKTOP, url);
  await signIn(page, readOnly);
  await until('owner shown', async () => (await ownerText(page)) === owner);
  await until('monitor shown', async () => (await page.getByText('alive').count()) > 0);
  assert.equal(await page.getByText('Read-only').count(), 1);
  for (const name of [/^Move/, /^Start/, /^Stop/, /^Suspend/, /^Resume/]) {
    assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} button`);
  }
  const status = await c.api(owner, 'GET', '/v1/whoami');
  assert.equal(status.body.access, 'read-write', 'the read-write token is reported as such');
});
