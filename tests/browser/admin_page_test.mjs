// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// admin_page_test.mjs: the admin page in headless Chromium against a real
// leader and follower that browser_test.sh started (it passes everything
// in the environment). Every wait polls the page for a condition, with a
// time limit; nothing sleeps for a fixed time to synchronise.
//
//  1. The page shows the leader live: role, node id, generation, health,
//     readiness, the follower with its lag.
//  2. Writes made with rillctl raise the last and applied seq shown.
//  3. "Take snapshot" asks for the token on the page; a wrong one is
//     refused in words and takes no snapshot; the right one takes it and
//     a new row shows it; the token is kept in sessionStorage.
//  4. The charts have drawn (points and coloured pixels); the current
//     generation lists the snapshot and its sealed segments.
//  5. A follower's own page shows the leader it follows and its lag.
//  6. An answer that is not JSON (one response replaced in the browser,
//     as a broken proxy would) is reported, and cleared once real
//     answers come back.
//  7. A snapshot that fails (the generation's snapshots directory replaced
//     by a file, so rilld cannot write there) shows rilld's message; the
//     next one, with the directory back, succeeds.
//  8. A full-page screenshot goes to ARTIFACTS/admin-page.png.
//  9. The leader stopped with SIGTERM: the page says it is not answering
//     since a time; started again: the page says it answers again.
// No uncaught exception, console error from the page's code or Content
// Security Policy violation may happen meanwhile.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

const env = (name) => {
	const v = process.env[name];
	if (v === undefined || v === '') {
		throw new Error(`${name} is not set: run this through browser_test.sh`);
	}
	return v;
};

const DEPS = env('BROWSER_DEPS');
const CHROMIUM = env('CHROMIUM');
const RILLCTL = env('RILLCTL');
const RILLD = env('RILLD');
const TOKEN = env('TOKEN');
const ARTIFACTS = env('ARTIFACTS');
const LEADER_ARGS = env('LEADER_ARGS').split(/\s+/).filter(Boolean);
const LEADER_PID = Number(env('LEADER_PID'));
const L_RPC = env('L_RPC');
const L_ADMIN = env('L_ADMIN');
const L_DATA = env('L_DATA');
const F_ADMIN = env('F_ADMIN');
const F_RPC = env('F_RPC');
const RESTARTED_PID_FILE = env('RESTARTED_PID_FILE');
const TMP = env('TMP');

const require = createRequire(path.join(DEPS, 'package.json'));
const { chromium } = require('playwright-core');
const run = promisify(execFile);

const WAIT_MS = 20000;
let passed = 0;

function pass(what) {
	passed++;
	console.log(`  ok: ${what}`);
}

class TestFailure extends Error {}

function fail(what) {
	throw new TestFailure(what);
}

function delay(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// until polls check (async; a truthy value means done) every 100 ms for
// at most ms and returns its value. When time runs out it fails with
// what, the last value or error seen, and what describe() (if given)
// says about the page then.
async function until(what, check, ms = WAIT_MS, describe = null) {
	const end = Date.now() + ms;
	for (;;) {
		let value;
		let err = null;
		try {
			value = await check();
		} catch (e) {
			if (e instanceof TestFailure) {
				throw e;
			}
			err = e;
		}
		if (!err && value) {
			return value;
		}
		if (Date.now() > end) {
			let seen = err ? `error: ${err.message.split('\n')[0]}` :
				`last value: ${JSON.stringify(value)}`;
			if (describe) {
				try {
					seen += `; ${await describe()}`;
				} catch (e) {
					seen += `; (${e.message.split('\n')[0]})`;
				}
			}
			fail(`${what}: not so after ${ms} ms (${seen})`);
		}
		await delay(100);
	}
}

async function text(page, selector) {
	return (await page.locator(selector).first().textContent()) ?? '';
}

async function visible(page, selector) {
	return page.locator(selector).first().isVisible();
}

// seqOf reads a seq shown with thousands separators.
function seqOf(s) {
	const n = Number(String(s).replace(/[^0-9]/g, ''));
	return String(s).trim() === '' || String(s).includes('–') ? NaN : n;
}

async function status(admin) {
	const r = await fetch(`http://${admin}/v1/status`);
	return r.json();
}

async function rillctl(...args) {
	try {
		return await run(RILLCTL, ['--url', L_RPC, ...args], { timeout: 30000 });
	} catch (e) {
		fail(`rillctl ${args.join(' ')}: ${e.message}; stderr: ${e.stderr}`);
	}
}

// processGone tells whether pid has exited: no longer in /proc, or a
// zombie its parent (browser_test.sh) has not reaped yet.
function processGone(pid) {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
	} catch (e) {
		return true;
	}
}

// threadStacks returns every thread's stack of pid (print_stacks.sh), for
// a process that does not exit when it should.
async function threadStacks(pid) {
	try {
		const script = new URL('../lib/print_stacks.sh', import.meta.url).pathname;
		const { stdout } = await run('bash', [script, String(pid)],
			{ timeout: 90000, maxBuffer: 16 << 20 });
		return stdout;
	} catch (e) {
		return `(no stacks: ${e.message})`;
	}
}

// exitWithin waits for exited (a child's exit promise) at most ms; a child
// still running then is a hang: its stacks are printed and it is killed.
async function exitWithin(exited, pid, ms, what) {
	let timer;
	const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); });
	const r = await Promise.race([exited, late]);
	clearTimeout(timer);
	if (r === null) {
		const stacks = await threadStacks(pid);
		try {
			process.kill(pid, 'SIGKILL');
		} catch (e) {
			// gone meanwhile
		}
		fail(`${what} (pid ${pid}) did not exit within ${ms / 1000} s of SIGTERM; its threads:\n${stacks}`);
	}
	return r;
}

async function snapshotRow(page, seq) {
	return page.locator(`#snapshots tbody tr[data-seq="${seq}"]`).count();
}

// chartPixels counts the pixels of the canvas id drawn in its line colour.
async function chartPixels(page, id, cssVar) {
	return page.evaluate(([canvasId, name]) => {
		const c = document.getElementById(canvasId);
		const probe = document.createElement('canvas').getContext('2d');
		probe.fillStyle = getComputedStyle(document.documentElement)
			.getPropertyValue(name).trim();
		probe.fillRect(0, 0, 1, 1);
		const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 0; i < d.length; i += 4) {
			if (Math.abs(d[i] - r) < 8 && Math.abs(d[i + 1] - g) < 8 &&
				Math.abs(d[i + 2] - b) < 8 && d[i + 3] > 200) {
				n++;
			}
		}
		return n;
	}, [id, cssVar]);
}

async function main() {
	const pageErrors = [];
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		// Root in a container: Chromium's sandbox cannot start.
		chromiumSandbox: false,
		args: ['--disable-dev-shm-usage', '--disable-gpu'],
		timeout: 60000,
	});
	let restarted = null;
	try {
		const context = await browser.newContext({
			viewport: { width: 1280, height: 900 },
		});
		const page = await context.newPage();
		page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
		page.on('console', (m) => {
			const t = m.text();
			// A failed request is logged by Chromium itself: the test
			// provokes 401, 500, 502 and refused connections.
			if (/Failed to load resource|net::ERR_/.test(t)) {
				return;
			}
			if (m.type() === 'error' || /Content Security Policy|Refused to/.test(t)) {
				pageErrors.push(`console ${m.type()}: ${t}`);
			}
		});
		const leaderStatus = await status(L_ADMIN);
		const followerStatus = await status(F_ADMIN);
		const gen = leaderStatus.generation;

		// 1. The leader, live.
		await page.goto(`http://${L_ADMIN}/`);
		await until('#role shows leader', async () =>
			(await text(page, '#role')) === 'leader');
		await until('#node-id shows the leader\'s node id', async () =>
			(await text(page, '#node-id')) === leaderStatus.node_id);
		await until('#generation shows the generation', async () =>
			(await text(page, '#generation')) === gen);
		await until('#health says ok and #ready says ready', async () =>
			(await text(page, '#health')) === 'ok' &&
			(await text(page, '#ready')) === 'ready');
		if (!(await text(page, '#conn')).includes('live')) {
			fail(`#conn says "${await text(page, '#conn')}", want live`);
		}
		if (await visible(page, '#auth')) {
			fail('the token panel shows before anything needed a token');
		}
		pass('the page shows the leader live: role, node id, generation, health, readiness');

		// 2. Writes raise the seqs shown. The values are long enough for
		// the 4 KiB segments to seal, so that the page lists segments.
		const before = seqOf(await until('#last-seq shows a number', async () => {
			const t = await text(page, '#last-seq');
			return Number.isNaN(seqOf(t)) ? null : t;
		}));
		// Four rounds, each seen on the page before the next, so that the
		// writes span a few samples of the charts.
		const rounds = 4;
		const perRound = 5;
		const value = 'v'.repeat(400);
		let want = before;
		for (let r = 0; r < rounds; r++) {
			for (let i = 0; i < perRound; i++) {
				await rillctl('put', `browser/key${r}-${i}`, `${i}:${value}`);
			}
			want += perRound;
			await until(`#last-seq and #applied-seq reach ${want}`, async () =>
				seqOf(await text(page, '#last-seq')) === want &&
				seqOf(await text(page, '#applied-seq')) === want, WAIT_MS,
			async () => `page shows last ${await text(page, '#last-seq')}, applied ${await text(page, '#applied-seq')}`);
		}
		pass(`${rounds * perRound} writes with rillctl: the page's last and applied seq went from ${before} to ${want}, round by round`);

		await until('the follower is listed, caught up at the last seq', async () => {
			const row = page.locator(`#followers tbody tr[data-node="${followerStatus.node_id}"]`);
			if ((await row.count()) !== 1) {
				return null;
			}
			const cells = await row.locator('td').allTextContents();
			return cells[1] === F_RPC && seqOf(cells[3]) === want &&
				cells[4] === '0';
		});
		pass('the follower is listed with its address, applied seq and lag 0');

		// 3. The token: asked for, a wrong one refused, the right one used.
		const snapSeq = want;
		if (await snapshotRow(page, snapSeq)) {
			fail(`a snapshot at seq ${snapSeq} is listed before one was taken`);
		}
		await page.click('#take-snapshot');
		await until('the token panel asks for the token', async () =>
			(await visible(page, '#auth')) &&
			(await text(page, '#auth-message')).includes('needs the admin token'));
		await page.fill('#token-input', 'not-the-token');
		await page.click('#token-submit');
		await until('the page says the token was refused', async () =>
			(await visible(page, '#auth')) &&
			(await text(page, '#auth-message')).includes('the token was refused'),
		WAIT_MS, () => text(page, '#auth-message'));
		if (!(await text(page, '#snapshot-status')).includes('The token was refused')) {
			fail(`#snapshot-status says "${await text(page, '#snapshot-status')}" after a wrong token`);
		}
		if (await snapshotRow(page, snapSeq)) {
			fail('a snapshot was taken with a wrong token');
		}
		await page.screenshot({ path: path.join(ARTIFACTS, 'admin-page-token.png') });
		const stored = await page.evaluate(() => sessionStorage.getItem('rill.admin.token'));
		if (stored) {
			fail(`the refused token is still kept in sessionStorage ("${stored}")`);
		}
		pass('Take snapshot asks for the token on the page; a wrong one is "refused" and takes nothing');
		await page.fill('#token-input', TOKEN);
		await page.click('#token-submit');
		await until(`a snapshot row at seq ${snapSeq} appears`, async () =>
			(await snapshotRow(page, snapSeq)) === 1);
		await until('#snapshot-status says the snapshot was taken', async () =>
			(await text(page, '#snapshot-status')).includes(`Snapshot taken at seq ${snapSeq}`));
		if (await visible(page, '#auth')) {
			fail('the token panel still shows after the right token');
		}
		if ((await page.evaluate(() => sessionStorage.getItem('rill.admin.token'))) !== TOKEN) {
			fail('the token is not kept in sessionStorage');
		}
		pass(`with the right token the snapshot is taken and its row (seq ${snapSeq}) shows; the token is kept in sessionStorage`);

		// 4. Charts and generations.
		await until('the writes chart has drawn a rate above 0', async () =>
			page.evaluate(() => {
				const c = document.getElementById('chart-writes');
				return Number(c.dataset.points) >= 2 && Number(c.dataset.max) > 0;
			}));
		const writePixels = await chartPixels(page, 'chart-writes', '--chart-writes');
		if (writePixels < 20) {
			fail(`the writes chart has ${writePixels} pixels of its line colour`);
		}
		await until('the follower lag chart has drawn', async () =>
			page.evaluate(() => Number(document.getElementById('chart-lag').dataset.points) >= 2));
		const lagPixels = await chartPixels(page, 'chart-lag', '--chart-lag');
		if (lagPixels < 20) {
			fail(`the follower lag chart has ${lagPixels} pixels of its line colour`);
		}
		await until('the write latency chart has a sample', async () =>
			page.evaluate(() => Number(document.getElementById('chart-latency').dataset.points) >= 1));
		pass(`the charts drew (writes: ${writePixels} line pixels, lag: ${lagPixels})`);

		const genBox = page.locator(`#generations details[data-gen="${gen}"]`);
		await until('the current generation lists the snapshot and a sealed segment', async () =>
			(await genBox.count()) === 1 &&
			(await genBox.locator('.badge').textContent()) === 'current' &&
			(await genBox.locator(`table.gen-snapshots tr[data-seq="${snapSeq}"]`).count()) === 1 &&
			(await genBox.locator('table.segments tbody tr').count()) >= 1);
		pass('the current generation shows its snapshots and sealed segments');

		// 5. The follower's own page.
		const fpage = await context.newPage();
		fpage.on('pageerror', (e) => pageErrors.push(`uncaught (follower page): ${e.message}`));
		await fpage.goto(`http://${F_ADMIN}/`);
		await until('the follower page shows role follower, its leader and its lag', async () =>
			(await text(fpage, '#role')) === 'follower' &&
			(await visible(fpage, '#follow')) &&
			(await text(fpage, '#leader')) === L_RPC &&
			(await text(fpage, '#follow-state')) === 'following' &&
			/^0 records, /.test(await text(fpage, '#follow-lag')) &&
			seqOf(await text(fpage, '#applied-seq')) === want,
		WAIT_MS, async () => `${await text(fpage, '#role')} ${await text(fpage, '#leader')} ${await text(fpage, '#follow-lag')}`);
		await fpage.close();
		pass('a follower\'s page shows the leader it follows and its lag');

		// 6. An answer that is not JSON.
		await page.route('**/v1/status', (route) => route.fulfill({
			status: 502,
			contentType: 'text/html',
			body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
		}));
		await until('#error reports the answer that is not JSON', async () =>
			(await visible(page, '#error')) &&
			(await text(page, '#error')).includes('GET /v1/status answered HTTP 502 with something that is not JSON'),
		WAIT_MS, () => text(page, '#error'));
		await page.unroute('**/v1/status');
		await until('#error clears once /v1/status answers JSON again', async () =>
			!(await visible(page, '#error')), WAIT_MS, () => text(page, '#error'));
		pass('an answer that is not JSON is reported in words, and cleared when it passes');

		// 7. A snapshot that fails: rilld cannot write in its snapshots
		// directory when a file stands in its place.
		await rillctl('put', 'browser/after-snapshot', 'x');
		const failSeq = want + 1;
		await until(`#last-seq reaches ${failSeq}`, async () =>
			seqOf(await text(page, '#last-seq')) === failSeq);
		const snapDir = path.join(L_DATA, 'generations', gen, 'snapshots');
		const aside = `${snapDir}.aside`;
		fs.renameSync(snapDir, aside);
		fs.writeFileSync(snapDir, 'not a directory\n');
		try {
			await page.click('#take-snapshot');
			await until('the page shows why the snapshot failed', async () => {
				const s = await text(page, '#snapshot-status');
				const e = await text(page, '#error');
				return s.includes('The snapshot failed') &&
					s.includes('the snapshot failed:') && s.includes('see the server\'s log') &&
					e.includes('The snapshot failed');
			}, WAIT_MS, async () => `status "${await text(page, '#snapshot-status')}"`);
		} finally {
			fs.unlinkSync(snapDir);
			fs.renameSync(aside, snapDir);
		}
		if (await snapshotRow(page, failSeq)) {
			fail('a row shows a snapshot that failed');
		}
		pass(`a failed snapshot shows rilld's message: "${await text(page, '#snapshot-status')}"`);
		await page.click('#take-snapshot');
		await until(`the next snapshot succeeds (row at seq ${failSeq})`, async () =>
			(await snapshotRow(page, failSeq)) === 1 &&
			(await text(page, '#snapshot-status')).includes(`Snapshot taken at seq ${failSeq}`));
		await until('#error clears after the snapshot succeeded', async () =>
			!(await visible(page, '#error')), WAIT_MS, () => text(page, '#error'));
		pass('with the directory back, the next snapshot succeeds and the error clears');

		// 8. The screenshot, with every part filled in.
		await until('every part of the page is filled in', async () =>
			page.evaluate(() => {
				const filled = (id) => {
					const t = document.getElementById(id).textContent.trim();
					return t !== '' && t !== '–';
				};
				return ['role', 'node-id', 'generation', 'last-seq', 'applied-seq',
					'health', 'ready', 'writes-rate', 'lag-now'].every(filled) &&
					document.querySelectorAll('#followers tbody tr').length === 1 &&
					document.querySelectorAll('#snapshots tbody tr').length >= 3 &&
					document.querySelectorAll('#events li').length >= 1;
			}));
		const shot = path.join(ARTIFACTS, 'admin-page.png');
		await page.screenshot({ path: shot, fullPage: true });
		console.log(`  screenshot: ${shot}`);
		pass('full-page screenshot saved');

		// 9. The leader goes away, and comes back.
		const lastSeq = await text(page, '#last-seq');
		process.kill(LEADER_PID, 'SIGTERM');
		const host = L_ADMIN;
		await until('#error says the node is not answering', async () => {
			const e = await text(page, '#error');
			return (await visible(page, '#error')) &&
				new RegExp(`rilld at ${host.replace(/\./g, '\\.')} is not answering since \\d\\d:\\d\\d:\\d\\d`).test(e) &&
				(await text(page, '#conn')) === 'not answering';
		}, WAIT_MS, () => text(page, '#error'));
		if ((await text(page, '#last-seq')) !== lastSeq) {
			fail('the last seq shown changed while the node was away');
		}
		await page.screenshot({ path: path.join(ARTIFACTS, 'admin-page-down.png'), fullPage: true });
		pass(`the page says: "${(await text(page, '#error')).trim()}"`);

		await until('the stopped leader exits', async () => processGone(LEADER_PID), 60000,
			async () => `its threads:\n${await threadStacks(LEADER_PID)}`);
		const errPath = path.join(TMP, 'restarted.err');
		const errFd = fs.openSync(errPath, 'w');
		restarted = spawn(RILLD, LEADER_ARGS, {
			// rilld refuses RILL_* variables it does not know.
			env: {
				...Object.fromEntries(Object.entries(process.env)
					.filter(([k]) => !k.startsWith('RILL_'))),
				RILL_ADMIN_TOKEN: TOKEN,
			},
			stdio: ['ignore', 'ignore', errFd],
		});
		fs.closeSync(errFd);
		let exitedEarly = null;
		const exited = new Promise((resolve) => restarted.on('exit', (code, sig) => {
			exitedEarly = { code, sig };
			resolve({ code, sig });
		}));
		fs.writeFileSync(RESTARTED_PID_FILE, String(restarted.pid));
		await until('the page says the node answers again', async () => {
			if (exitedEarly) {
				fail(`the restarted leader exited (${exitedEarly.code ?? exitedEarly.sig}): ` +
					fs.readFileSync(errPath, 'utf8').slice(-1500));
			}
			return (await visible(page, '#notice')) &&
			(await text(page, '#notice')).includes(`rilld at ${host} answers again`) &&
			!(await visible(page, '#error')) &&
			(await text(page, '#conn')) === 'live' &&
			(await text(page, '#role')) === 'leader' &&
			(await text(page, '#last-seq')) === lastSeq;
		}, 60000, async () => `notice "${await text(page, '#notice')}", error "${await text(page, '#error')}"` +
			`; the restarted leader's stderr ends: ${fs.readFileSync(errPath, 'utf8').slice(-1500)}`);
		pass(`back: "${(await text(page, '#notice')).trim()}"`);

		restarted.kill('SIGTERM');
		const { code, sig } = await exitWithin(exited, restarted.pid, 60000, 'the restarted leader');
		restarted = null;
		const errText = fs.readFileSync(errPath, 'utf8');
		if (/Sanitizer|runtime error:/.test(errText)) {
			fail(`the restarted leader: a sanitizer reported a problem:\n${errText.slice(-3000)}`);
		}
		if (code !== 0) {
			fail(`the restarted leader exited ${code ?? sig} after SIGTERM, want 0`);
		}
		pass('the restarted leader exited 0 after SIGTERM');

		if (pageErrors.length) {
			fail(`the page reported errors:\n  ${pageErrors.join('\n  ')}`);
		}
		pass('no uncaught exception, console error or CSP violation in the page');
	} finally {
		if (restarted) {
			restarted.kill('SIGKILL');
		}
		await browser.close();
	}
}

try {
	await main();
	console.log(`${passed} passed, 0 failed`);
} catch (e) {
	console.error(`FAIL: ${e instanceof TestFailure ? e.message : e.stack}`);
	console.error(`${passed} passed, 1 failed`);
	process.exitCode = 1;
}
