// End-to-end test of the auction in headless Chromium (playwright-core driving the
// system's /usr/bin/chromium; no browser is ever downloaded). Run by
// examples/auction/tests/e2e.rs, which starts the server; by hand:
//
//   node examples/auction/e2e/auction.spec.mjs auction BASE_URL ARTIFACTS_DIR
//   node examples/auction/e2e/auction.spec.mjs restart BASE_URL ARTIFACTS_DIR STATE_JSON
//
// Phase `auction`: two browser contexts (a laptop and a phone) sign up; the first lists
// an item with a photo, ending a few seconds later; both open it; the second bids and
// the first page shows each bid within 100 ms of the bidder's ack (measured in-page);
// a too-low bid is refused with its message; the auction closes on time and both pages
// name the winner. Prints one JSON line: what phase `restart` needs, and the timings.
//
// Phase `restart` (after the server restarted on the same data folder): the bidder
// logs in again in a new context, and the item page still has every bid and the winner.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const LAPTOP = { viewport: { width: 1280, height: 860 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const PASSWORD = 'correct horse battery';
const AUCTION_SECONDS = 12;
const MAX_SPREAD_MS = 100;

// A 48x36 PNG (a lamp on a gradient), the listed item's photo.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAADAAAAAkCAIAAABAJy5dAAAOD0lEQVR42p3TT6uy7tbA8V7YGT8vQggcCEKDQGgQBA' +
  '2CoEEQNAiCBkHQIEwktAs1rrSuRPeFtulut92SiRlmZUJECE3Ocw6/ycMNz/lzw3e4Bh/WYuXeAvEWifeUeAPiLRFv' +
  'mXgrxHtGvCHxnhNvlXhrxHtJvBHxXhFvnXgbxNsk3h/EGxNvi3jbxHtNvD+J94Z4/yLeW+L9Rby/ibdDvH+It0u898' +
  'TbI94H4u0T74B4H4l3SLxPxDsi3mfiHRPvC/G+Ee+EeN+Jd0rkMiGfiflsms9APpPymZzPlHw2y2cwn83zmZrPtHy2' +
  'zGcon63ymZ7PjHxm5rOPfIbzmZXP7Hy2zmef+WyTz37ls20++8pn3/nMyWc/+czNZ/t85uWzQz7z81mQz475LMxnp3' +
  'wW5bNzPovz2SWf3fJZks/u+SzN514C+RLJ15R8AfIlkS+ZfCnka0a+IPmaky+VfGnka0m+EPlakS+dfBnkyyRfH+QL' +
  'ky+LfNnka02+PsnXhnz9Il9b8vVFvr7Jl0O+fsiXS7725MsjXwfy5ZOvgHwdyVdIvk7kKyJfZ/IVk68L+bqRr4R83c' +
  'lXSuaeAvUUqeeUegLqKVFPmXoq1HNGPSH1nFNPlXpq1HNJPRH1XFFPnXoa1NOknh/UE1NPi3ra1HNNPT+p54Z6/qKe' +
  'W+r5RT2/qadDPX+op0s999TTo54H6ulTz4B6HqlnSD1P1DOinmfqGVPPC/W8Uc+Eet6pZ0rlHgL9EOnHlH4A+iHRD5' +
  'l+KPRjRj8g/ZjTD5V+aPRjST8Q/VjRD51+GPTDpB8f9APTD4t+2PRjTT8+6ceGfvyiH1v68UU/vumHQz9+6IdLP/b0' +
  'w6MfB/rh04+AfhzpR0g/TvQjoh9n+hHTjwv9uNGPhH7c6UdK51KhkIqFdFpIQSGVCqlcSJVCOiuksJDOC6laSLVCui' +
  'ykqJCuCqleSI1CahbSj0KKC6lVSO1Cui6kn4V0U0h/FdJtIf0qpN+F1CmkP4XULaT7QuoV0kMh9QtpUEiPhTQspKdC' +
  'GhXScyGNC+mlkN4KaVJI74U0LeQSoZiIxWRaTEAxkYqJXEyUYjIrJrCYzIuJWky0YrIsJqiYrIqJXkyMYmIWk49igo' +
  'uJVUzsYrIuJp/FZFNMfhWTbTH5KibfxcQpJj/FxC0m+2LiFZNDMfGLSVBMjsUkLCanYhIVk3MxiYvJpZjciklSTO7F' +
  'JC3mrgJzFZnrlLkC5ioxV5m5Ksx1xlwhc50zV5W5asx1yVwRc10xV525GszVZK4fzBUzV4u52sx1zVw/meuGuf5irl' +
  'vm+sVcv5mrw1x/mKvLXPfM1WOuB+bqM9eAuR6Za8hcT8w1Yq5n5hoz1wtzvTHXhLnemWvK5GKhFIuleFqKQSmWSrFc' +
  'ipVSPCvFsBTPS7FairVSvCzFqBSvSrFeio1SbJbij1KMS3+Pyv9fsVOKf0qxW4r3pdgrxYdS7JfioBQfS3FYik+lOC' +
  'rF51Icl+JLKb6V4qQU30txWspFQjkSy9G0HIFyJJUjuRwp5WhWjmA5mpcjtRxp5WhZjlA5WpUjvRwZ5cgsRx/lf6H5' +
  'q+inHLnlaF+OvHJ0KEd+OQrK0bEcheXoVI7+MXAuR3E5upSjWzlKytG9HKXlXChUQrESTishqIRSJZQroVIJZ5UQVs' +
  'J5JVQroVYJl5UQVcJVJdQroVEJzcq/1fxV6FbCfSX0KuGhEvqVMKiEx0oYVsJTJYwq4bkSxpXwUglvlTCphPdKmFZy' +
  'gVANxGowrQagGkjVQK4GSjWYVQNYDebVQK0GWjVYVgNUDVbVQK8GRvU/1PxVsK8GXjU4VAO/GgTV4FgNwmpwqgZRNT' +
  'hXg7gaXKrBrRok1eBeDdJqzhdqvljzpzUf1Hyp5ss1X6n5s5oPa/685qs1X6v5y5qPav6q5uu1/0rzV75X8w8136/5' +
  'Qc0/1vyw5p9qflTzzzU/rvmXmn+r+UnNv9f8tJbzhLon1r1p3QN1T6p7ct1T6t6s7sG6N697at3T6t6y7qG6t6p7ev' +
  '0PQJ5X9w51z697Qd071r2w7p3qXlT3znUvrnuXunere0ndu9e9tJ5zhYYrNtxpwwUNV2q4csNVGu6s4cKGO2+4asPV' +
  'Gu6y4aKGu2q4euMPQK7XcA8N12+4QcM9Ntyw4Z4abtRwzw03briXhntruEnDvTfctJFzhKYjNp1p0wFNR2o6ctNRms' +
  '6s6cCmM286atPRms6y6aCms2o6evMPQI7XdA5Nx286QdM5Np2w6ZyaTtR0zk0nbjqXpnNrOknTuTedtJnbCa2d2NpN' +
  'WzvQ2kmtndzaKa3drLWDrd28tVNbO621W7Z2qLVbtXZ66w9AO6+1O7R2fmsXtHbH1i5s7U6tXdTanVu7uLW7tHa31i' +
  '5p7e6tXdrKbYX2Vmxvp+0taG+l9lZub5X2dtbewvZ23t6q7a3W3i7bW9Tertpbvf0HoK3X3h7aW7+9DdrbY3sbtren' +
  '9jZqb8/tbdzeXtrbW3ubtLf39jZt5zZCZyN2NtPOBnQ2UmcjdzZKZzPrbGBnM+9s1M5G62yWnQ3qbFadjd75A9DG62' +
  'wOnY3f2QSdzbGzCTubU2cTdTbnzibubC6dza2zSTqbe2eTdnJrobsWu+tpdw26a6m7lrtrpbueddewu55312p3rXXX' +
  'y+4adder7lrv/gFo7XXXh+7a766D7vrYXYfd9am7jrrrc3cdd9eX7vrWXSfd9b27Trs5S+hZYs+a9izQs6SeJfcspW' +
  'fNehbsWfOepfYsrWctexbqWauepff+AGR5PevQs/yeFfSsY88Ke9apZ0U969yz4p516Vm3npX0rHvPSns5LPSx2MfT' +
  'PgZ9LPWx3MdKH8/6GPbxvI/VPtb6eNnHqI9Xfaz3sdH/rzR438deHx/62O/joI+PfRz28amPoz4+93Hcx5c+vvVx0s' +
  'f3Pk77OVMYmOLAnA5MMDClgSkPTGVgzgYmHJjzgakOTG1gLgcmGpirgakPTGNgmoP/UGO6A3M/ML2BeRiY/sAMBuZx' +
  'YIYD8zQwo4F5HpjxwLwMzNvATAbmfWCmg5wuDHVxqE+HOhjq0lCXh7oy1GdDHQ71+VBXh7o21JdDHQ311VDXh7ox1M' +
  '2h/jH8txr9Z6i7Q30/1L2hfhjq/lAPhvpxqIdD/TTUo6F+HurxUL8M9dtQT4b6fainwxwSRkgcoekIgRGSRkgeIWWE' +
  'ZiMER2g+QuoIaSO0HCE0QqsR0kfIGCFzhD5GCI/+hQY5I/QzQu4I7UfIG6HDCPkjFIzQcYTCETqNUDRC5xGKR+gyQr' +
  'cRSkboPkLpKLcQxgtxvJiOF2C8kMYLebxQxovZeAHHi/l4oY4X2nixHC/QeLEaL/TxwhgvzPHiY7zA44U1Xtjjv/3t' +
  'f/5vi6/x4nu8cMaLn/HCHS/244U3XhzGC3+8CMaL43gRjhen8SIaL87jRTxeXMaL23iRjBf38SId51SBV0VenfIq4F' +
  'WJV2VeVXh1xquQV+e8qvKqxqtLXkW8uuJVnVcNXjV59YNXMa9avGrzv4HUL1795lWHV3941eXVPa96vHrgVZ9XA149' +
  '8mrIqydejXj1zKsxr1549carCa/eeTXlc1AQoCjAqQCBACUBygJUBDgTIBTgXICqADUBLgWIBLgSoC5AQ4CmAD8EiA' +
  'VoCdAWfgPBLwF+C9AR4I8AXQHuBegJ8CBAX4CBAI8CDAV4EmAkwLMAYwFeBHgTYCLAuwBTIacIQBGBMgUKAIoEFBko' +
  'ClBmQIFAmQNFBYoGlCVQEFBWQNGBYgDFBMoHUDBQLKDY4DeQ8gWUb6A4QPkBiguUPVA8oByA4gMlAMoRKCFQTkCJgH' +
  'IGSgyUC1BuQEmAcgdKCnKSIEuiLE1lCciSJEuyLCmyNJMlKEtzWVJlSZOlpSwhWVrJki5LhiyZsvQhS1iWLFmy5d9A' +
  '0pcsfcuSI0s/suTK0l6WPFk6yJIvS4EsHWUplKWTLEWydJalWJYusnSTpUSW7rKUyrl/HAqIEEwhABBIEMjwn8uZQQ' +
  'AhmEOgQqBBsIQAQbCCQIfAgMCE4AMCDIEFgQ1/A4EvCL4hcCD4gcCFYA+BB8EBAh+CAIIjBCEEJwgiCM4QxBBcILhB' +
  'kEBwhyCFOVHQRFETp5oINFHSRFkTFU2caSLUxLkmqpqoaeJSE5EmrjRR10RDE01N/NBErImWJtrabyDxSxO/NdHRxB' +
  '9NdDVxr4meJh400dfEQBOPmhhq4kkTI008a2KsiRdNvGliool3TUy13ERAExFNpmgC0ERCExlNFDSZoQlEkzmaqGii' +
  'ockSTRCarNBERxMDTUw0+UATjCYWmtjoN9DkC02+0cRBkx80cdFkjyYemhzQxEeTAE2OaBKiyQlNIjQ5o0mMJhc0ua' +
  'FJgiZ3NElRjhcMXjT4qcEDg5cMXjZ4xeBnBg8Nfm7888s1g18aPDL4lcHrBm8YvGnwHwaPDd4yeNv4DcR/Gfy3wTsG' +
  '/2PwrsHvDd4z+IPB+wYfGPzR4EODPxl8ZPBng48N/mLwN4NPDP5u8KmR4wTMiZibYg5gTsKcjDkFczPMQczNMadiTs' +
  'PcEnMIcyvM6ZgzMGdi7gNzGHMW5mzMrTH3ibkN5n5hbou5L8x9Y87B3A/mXMztMedh7oA5H3MB5o6YCzF3wlyEuTPm' +
  'YsxdMHfDXIK5O+ZSnGMFmxVtdmqzwGYlm5VtVrHZmc1Cm53brGqzms0ubRbZ7MpmdZs1bNa02Q+bxTZr2axts2ub/b' +
  'TZjc3+stmtzX7Z7LfNOjb7Y7Ouze5t1rPZg836NhvY7NFmQ5s92Wxks2ebjW32YrM3m01s9m6zqf2/x5bZJpqpC2QA' +
  'AAAASUVORK5CYII=',
  'base64',
);

const [phase, base, artifacts, stateJson] = process.argv.slice(2);
if (!phase || !base || !artifacts) {
  console.error('usage: auction.spec.mjs auction|restart BASE_URL ARTIFACTS_DIR [STATE_JSON]');
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

async function newPage(browser, options, label) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[${label}] page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') console.error(`[${label}] console: ${message.text()}`);
  });
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: `${artifacts}/${name}.png`, fullPage: true });
}

async function signUp(page, name) {
  await page.goto(`${base}/signup`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.click('main button[type=submit]')]);
  const flash = await page.textContent('.flash');
  check(flash.includes(`Welcome, ${name}`), `sign-up flash for ${name}: ${flash}`);
}

async function listItem(page, title) {
  await page.goto(`${base}/items/new`);
  await page.fill('input[name=title]', title);
  await page.fill('textarea[name=description]', 'Listed by the end-to-end test.');
  await page.fill('input[name=start_price]', '10');
  await page.fill('input[name=duration]', String(AUCTION_SECONDS));
  await page.selectOption('select[name=unit]', 'seconds');
  await page.setInputFiles('input[name=image]', { name: 'photo.png', mimeType: 'image/png', buffer: PNG });
  await Promise.all([page.waitForURL(/\/items\/\d+$/), page.click('main button[type=submit]')]);
  return new URL(page.url()).pathname;
}

// Waits until the page's socket joined the item's room (the `watch` ack arrived).
async function watching(page) {
  await page.waitForFunction(() => (window.auctionLog || []).some((e) => e.type === 'watching'));
}

// Bids `amount` from `bidder`; returns the ack entry of window.auctionLog.
async function bid(bidder, amount) {
  const before = await bidder.evaluate(() => window.auctionLog.filter((e) => e.type === 'ack').length);
  await bidder.fill('#amount', amount);
  await bidder.click('#bid-button');
  await bidder.waitForFunction((n) => window.auctionLog.filter((e) => e.type === 'ack').length > n, before);
  return bidder.evaluate(() => window.auctionLog.filter((e) => e.type === 'ack').at(-1));
}

// The `bid` event `watcher` got for `cents`.
async function bidSeen(watcher, cents) {
  await watcher.waitForFunction((c) => window.auctionLog.some((e) => e.type === 'bid' && e.cents === c), cents);
  return watcher.evaluate((c) => window.auctionLog.find((e) => e.type === 'bid' && e.cents === c), cents);
}

async function auctionPhase(browser) {
  const suffix = Math.random().toString(36).slice(2, 7);
  const sellerName = `ana-${suffix}`;
  const bidderName = `bo-${suffix}`;
  const seller = await newPage(browser, LAPTOP, 'seller');
  const bidder = await newPage(browser, PHONE, 'bidder');
  await signUp(seller, sellerName);
  await signUp(bidder, bidderName);

  const path = await listItem(seller, `Test lamp ${suffix}`);
  const flash = await seller.textContent('.flash');
  check(flash.includes('Your item is listed'), `listing flash: ${flash}`);
  const image = await seller.getAttribute('.photo img', 'src');
  const photo = await seller.request.get(`${base}${image}`);
  check(photo.ok() && photo.headers()['etag'], `the photo is served with an ETag: ${photo.status()}`);
  const again = await seller.request.get(`${base}${image}`, { headers: { 'if-none-match': photo.headers()['etag'] } });
  check(again.status() === 304, `a repeated photo request with its ETag gets 304, not ${again.status()}`);

  await bidder.goto(`${base}${path}`);
  await Promise.all([watching(seller), watching(bidder)]);
  const endsMs = Number(await seller.getAttribute('#item', 'data-ends'));
  await shot(seller, '01-seller-item-laptop');
  await shot(bidder, '02-bidder-item-phone');

  const timings = [];
  for (const [amount, cents] of [['10', 1000], ['12.50', 1250], ['15', 1500]]) {
    const ack = await bid(bidder, amount);
    check(ack.ok, `bid ${amount} accepted: ${JSON.stringify(ack)}`);
    const seen = await bidSeen(seller, cents);
    const spread = seen.at - ack.at; // the other page's update minus the bidder's ack
    const fromSend = seen.at - ack.sent; // the other page's update minus the click
    timings.push({ amount, ackToOtherPageMs: +spread.toFixed(2), sendToOtherPageMs: +fromSend.toFixed(2) });
    check(spread < MAX_SPREAD_MS, `bid ${amount}: the other page updated ${spread.toFixed(1)} ms after the ack (limit ${MAX_SPREAD_MS} ms)`);
    const price = await seller.textContent('#price');
    check(price === `$${(cents / 100).toFixed(2)}`, `the seller's page shows the new price: ${price}`);
  }
  const rows = await seller.locator('#bids li').count();
  check(rows === 3, `the seller's page lists 3 bids, not ${rows}`);
  await shot(seller, '03-seller-after-bids-laptop');

  const low = await bid(bidder, '15.50');
  check(!low.ok && low.reason === 'too_low', `a too-low bid is refused: ${JSON.stringify(low)}`);
  const status = await bidder.textContent('#bid-status');
  check(status.includes('Too low: bid at least $16.00.'), `the refusal's message is shown: ${status}`);
  check((await seller.textContent('#price')) === '$15.00', 'a refused bid changes no price');
  await shot(bidder, '04-bidder-too-low-phone');

  const closedAt = async (page) => {
    await page.waitForFunction(() => window.auctionLog.some((e) => e.type === 'closed'), null, { timeout: (AUCTION_SECONDS + 10) * 1000 });
    return page.evaluate(() => window.auctionLog.find((e) => e.type === 'closed'));
  };
  const [sellerClosed, bidderClosed] = await Promise.all([closedAt(seller), closedAt(bidder)]);
  for (const closed of [sellerClosed, bidderClosed]) {
    check(closed.winner === bidderName, `the winner is ${bidderName}: ${JSON.stringify(closed)}`);
    const late = closed.at - endsMs;
    check(late >= -50 && late < 1500, `the auction closed on time: ${late.toFixed(0)} ms after its end`);
  }
  const sellerResult = await seller.textContent('#result');
  check(sellerResult.includes(`Sold to ${bidderName} for $15.00`), `the seller sees the winner: ${sellerResult}`);
  const bidderResult = await bidder.textContent('#result');
  check(bidderResult.includes('You won!'), `the bidder sees they won: ${bidderResult}`);
  check(await bidder.locator('#bid-form').isHidden(), 'the bid form is gone after the end');
  await shot(seller, '05-seller-closed-laptop');
  await shot(bidder, '06-bidder-won-phone');

  await seller.goto(`${base}/`);
  await shot(seller, '07-home-laptop');
  await bidder.goto(`${base}/`);
  await shot(bidder, '08-home-phone');

  return {
    path, sellerName, bidderName, timings,
    closedLateMs: +(sellerClosed.at - endsMs).toFixed(1),
  };
}

async function restartPhase(browser, state) {
  const page = await newPage(browser, LAPTOP, 'after-restart');
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', state.bidderName);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.click('main button[type=submit]')]);
  const flash = await page.textContent('.flash');
  check(flash.includes(`Welcome back, ${state.bidderName}`), `log-in after restart: ${flash}`);
  await page.goto(`${base}${state.path}`);
  const rows = await page.locator('#bids li').allTextContents();
  check(rows.length === 3, `3 bids survive the restart: ${JSON.stringify(rows)}`);
  check(rows[0].includes('$15.00') && rows[0].includes(state.bidderName), `the top bid survives: ${rows[0]}`);
  const result = await page.textContent('#result');
  check(result.includes('You won!') || result.includes(`Sold to`), `the result survives: ${result}`);
  await shot(page, '09-after-restart-laptop');
  return { restartedRows: rows.length };
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const result = phase === 'auction'
    ? await auctionPhase(browser)
    : await restartPhase(browser, JSON.parse(stateJson));
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(error.stack || String(error));
  process.exitCode = 1;
} finally {
  await browser.close();
}
