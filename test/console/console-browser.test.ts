/**
 * The web console end to end in a real browser (Debian's Chromium, driven by playwright-core):
 * actions submitted over the ACI are watched finishing on the page; the queue is paused and resumed
 * from the page; a waiting action's priority is changed and it is cancelled from its detail view;
 * a failed event (a real receiver on loopback answering 503) is redelivered from the page. Each
 * step waits for the page to show the new state and checks the server agrees over the ACI.
 * Saves test-results/console.png, the screenshot the README shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { queueInfo, actionList } from '../helpers/aci.js';
import { findBrowser, launchBrowser } from '../helpers/browser.js';
import { startReceiver } from '../helpers/events-receiver.js';
import { eventInfo } from '../helpers/events-server.js';
import { PROJECT_ROOT, waitFor, withServer } from '../helpers/server.js';

const found = findBrowser();
if ('skip' in found) process.stderr.write(`console-browser.test: skipped: ${found.skip}\n`);

function config(receiverUrl: string): string {
  return `[Actions]
EnableTestActions=true
PollInterval=50
MaximumThreads=2
OnFinish=Hook
OnError=Hook

[Echo]
Type=Command
Command=/bin/echo
Arguments=%Text%

[Hook]
LibraryName=HttpHandler
URL=${receiverUrl}
Retries=0
Timeout=5
`;
}

/** The row of an action in the list, once it shows `status`. */
const row = (token: string, status: string) => `#action-list tr[data-token="${token}"][data-status="${status}"]`;

async function statusOf(client: Parameters<typeof queueInfo>[0], queue: string, token: string): Promise<Record<string, unknown>> {
  const [record] = actionList(await queueInfo(client, queue, 'GetStatus', { Token: token }));
  assert.ok(record, `GetStatus knows ${token}`);
  return record;
}

test('the console shows actions finish, pauses and resumes a queue, changes priority, cancels, and redelivers a failed event', { skip: 'skip' in found ? found.skip : false }, async () => {
  if ('skip' in found) return;
  let healthy = false;
  const receiver = await startReceiver(() => (healthy ? 200 : 503));
  const browser = await launchBrowser(found.executable, { width: 1440, height: 1200 });
  try {
    await withServer({ config: config(receiver.url) }, async (s) => {
      const page: Page = browser.pages()[0] ?? (await browser.newPage());
      page.setDefaultTimeout(20_000);
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${s.url}/console`);
      await page.locator('[data-connection="live"]').waitFor();
      await page.locator('[data-queue="Sleep"][data-paused="false"]').waitFor();

      // Actions submitted over the ACI appear and finish on the page, without a reload.
      const tokens = [await s.client.send('Sleep', { Seconds: '0' }), await s.client.send('Sleep', { Seconds: '1' }), await s.client.send('Echo', { Text: 'hello from the console test' })];
      for (const t of tokens) await page.locator(row(t, 'Finished')).waitFor();
      await page.locator('[data-queue="Sleep"] [data-stat="finished"] .value', { hasText: /^2$/ }).waitFor();

      // Pause the queue from the page; the server's QueueStatus agrees.
      await page.click('[data-queue="Sleep"] button[data-command="pause"]');
      await page.locator('[data-queue="Sleep"][data-paused="true"]').waitFor();
      const queue = (await queueInfo(s.client, 'Sleep', 'QueueStatus'))['queue'] as Record<string, unknown>;
      assert.equal(queue['paused'], 'true');

      // A waiting action of the paused queue: change its priority and cancel it from its detail view.
      const waiting = await s.client.send('Sleep', { Seconds: '0' });
      await page.click(row(waiting, 'Queued'));
      await page.locator(`#detail[data-token="${waiting}"][data-status="Queued"]`).waitFor();
      await page.fill('#detail input[name="priority"]', '7');
      await page.click('#detail button[data-command="change-priority"]');
      await page.locator('#detail .detail-head', { hasText: 'priority 7' }).waitFor();
      assert.equal((await statusOf(s.client, 'Sleep', waiting))['priority'], '7');
      await page.click('#detail button[data-command="cancel"]');
      await page.locator(`#detail[data-token="${waiting}"][data-status="Cancelled"]`).waitFor();
      await page.locator(row(waiting, 'Cancelled')).waitFor();
      assert.equal((await statusOf(s.client, 'Sleep', waiting))['status'], 'Cancelled');
      await page.click('#detail button[data-command="close"]');

      // Another waits while paused; Resume from the page and it runs to the end.
      const held = await s.client.send('Sleep', { Seconds: '0' });
      await page.locator(row(held, 'Queued')).waitFor();
      assert.equal((await statusOf(s.client, 'Sleep', held))['status'], 'Queued');
      await page.click('[data-queue="Sleep"] button[data-command="resume"]');
      await page.locator('[data-queue="Sleep"][data-paused="false"]').waitFor();
      await page.locator(row(held, 'Finished')).waitFor();

      // Every OnFinish failed (the receiver answers 503, Retries=0): the page lists them.
      const finished = [...tokens, held];
      const failed = await waitFor(async () => {
        const info = await eventInfo(s.client, { State: 'failed', Handler: 'Hook' });
        return info.events.length === finished.length ? info.events : undefined;
      });
      await page.locator('#handler-list tr[data-handler="Hook"] [data-count="failed"]', { hasText: new RegExp(`^${finished.length}$`) }).waitFor();
      const target = failed.find((e) => e.token === tokens[0]);
      assert.ok(target, 'the first action has a failed OnFinish');
      const id = target.id;
      const failedRow = page.locator(`#failed-events tr[data-event-id="${id}"]`);
      await failedRow.waitFor();

      // The receiver recovers; Redeliver that one event from the page.
      healthy = true;
      await failedRow.locator('button[data-command="redeliver"]').click();
      const delivered = await waitFor(() => receiver.accepted().find((r) => r.headers['x-tocsin-event-id'] === id));
      assert.match(delivered.body, new RegExp(tokens[0]!.replace(/[+/=]/g, (c) => `\\${c}`)));
      await failedRow.waitFor({ state: 'detached' });
      await page.locator('#handler-list tr[data-handler="Hook"] [data-count="delivered"]', { hasText: /^1$/ }).waitFor();
      await page.locator('#handler-list tr[data-handler="Hook"] [data-count="failed"]', { hasText: new RegExp(`^${finished.length - 1}$`) }).waitFor();
      const after = await eventInfo(s.client, { Id: id });
      assert.equal(after.events[0]?.state, 'delivered');
      assert.equal(receiver.accepted().length, 1, 'only the event redelivered was sent again');

      // The detail view of that action shows the event delivered; that is the README's screenshot.
      await page.click(row(tokens[0]!, 'Finished'));
      await page.locator(`#detail-events tr[data-event-id="${id}"][data-state="delivered"]`).waitFor();
      const dir = join(PROJECT_ROOT, 'test-results');
      mkdirSync(dir, { recursive: true });
      await page.mouse.wheel(0, -10_000);
      await page.screenshot({ path: join(dir, 'console.png') });
      assert.deepEqual(pageErrors, [], 'the page raised no script errors');
    });
  } finally {
    await browser.close();
    await receiver.close();
  }
});
