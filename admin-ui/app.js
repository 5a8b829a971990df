// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// app.js: the admin page's logic. Every 1.5 s it reads this node's admin
// API (/v1/status, /health, /ready, /v1/followers, /v1/snapshots,
// /v1/generations and each generation, /v1/events, /metrics) and shows
// it; the charts
// are rates and gauges computed from successive /metrics samples. It
// never throws past its own handlers: every failure (the node not
// answering, an HTTP error, an answer that is not JSON, a refused token)
// is said in words in #error or next to the action that failed.
//
// The bearer token is asked for on the page when an endpoint answers 401,
// kept in sessionStorage, and sent with every request from then on.
'use strict';

(function () {
	const REFRESH_MS = 1500;
	const HIDDEN_REFRESH_MS = 10000;
	const TIMEOUT_MS = 5000;
	const SNAPSHOT_TIMEOUT_MS = 10 * 60 * 1000;
	const CHART_WINDOW_S = 180;
	const DETAILS_MAX_AGE_MS = 15000;
	const MAX_GENERATIONS = 10;
	const MAX_SEGMENTS_SHOWN = 40;
	const EVENTS_SHOWN = 6;
	const TOKEN_KEY = 'rill.admin.token';
	const HOST = location.host || 'this address';

	const $ = (id) => document.getElementById(id);

	// Formatting ------------------------------------------------------------

	function pad2(n) {
		return n < 10 ? '0' + n : String(n);
	}

	// hhmmss formats a Date as local HH:MM:SS.
	function hhmmss(d) {
		return pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' +
			pad2(d.getSeconds());
	}

	// localTime formats microseconds since the epoch as local
	// YYYY-MM-DD HH:MM:SS.
	function localTime(us) {
		const d = new Date(Number(us) / 1000);
		if (isNaN(d.getTime())) {
			return '–';
		}
		return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' +
			pad2(d.getDate()) + ' ' + hhmmss(d);
	}

	// num shows an integer from the API: a Number, or a decimal string
	// for one past 2^53 (see parseJSON).
	function num(v) {
		if (v === undefined || v === null) {
			return '–';
		}
		if (typeof v === 'string') {
			return v;
		}
		return Number.isInteger(v) ? v.toLocaleString('en-US') : String(v);
	}

	function bytes(v) {
		const n = Number(v);
		if (!isFinite(n)) {
			return '–';
		}
		const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
		let x = n;
		let i = 0;
		while (x >= 1024 && i < units.length - 1) {
			x /= 1024;
			i++;
		}
		return (i === 0 ? String(x) : x.toFixed(x < 10 ? 2 : 1)) + ' ' +
			units[i];
	}

	function seconds(v) {
		const n = Number(v);
		if (!isFinite(n)) {
			return '–';
		}
		if (n < 10) {
			return n.toFixed(n === 0 ? 0 : 3) + ' s';
		}
		return n.toFixed(1) + ' s';
	}

	// ago shows how long ago something was, from seconds.
	function ago(s) {
		const n = Number(s);
		if (!isFinite(n)) {
			return '–';
		}
		if (n < 1) {
			return 'just now';
		}
		return (n < 60 ? n.toFixed(0) + ' s' : duration(n)) + ' ago';
	}

	function duration(s) {
		let n = Math.floor(Number(s));
		if (!isFinite(n)) {
			return '–';
		}
		const d = Math.floor(n / 86400);
		n %= 86400;
		const h = Math.floor(n / 3600);
		n %= 3600;
		const m = Math.floor(n / 60);
		const parts = [];
		if (d) {
			parts.push(d + 'd');
		}
		if (d || h) {
			parts.push(h + 'h');
		}
		if (d || h || m) {
			parts.push(m + 'm');
		}
		parts.push((n % 60) + 's');
		return parts.join(' ');
	}

	// rate shows a per-second rate with sensible precision.
	function rate(v) {
		if (v === null || v === undefined || !isFinite(v)) {
			return '–';
		}
		if (v >= 100) {
			return Math.round(v).toLocaleString('en-US');
		}
		return v >= 10 ? v.toFixed(1) : v.toFixed(2);
	}

	function shorten(s, n) {
		s = String(s);
		return s.length > n ? s.slice(0, n) + '…' : s;
	}

	function setText(id, text) {
		const el = $(id);
		if (el && el.textContent !== text) {
			el.textContent = text;
		}
	}

	// setPill shows text in a pill of kind ok, warn, bad, role or none.
	function setPill(id, text, kind) {
		const el = $(id);
		if (!el) {
			return;
		}
		el.textContent = text;
		el.className = 'pill' + (kind ? ' pill-' + kind : '');
		el.dataset.state = kind || '';
	}

	// el builds an element with a class and text (never HTML: every
	// value from the node is text).
	function el(tag, cls, text) {
		const e = document.createElement(tag);
		if (cls) {
			e.className = cls;
		}
		if (text !== undefined) {
			e.textContent = text;
		}
		return e;
	}

	function cell(tr, text, cls) {
		const td = el('td', cls, text);
		tr.appendChild(td);
		return td;
	}

	// Problems: what #error shows --------------------------------------

	// problems maps a source (an endpoint, "down", "snapshot", "bug") to
	// the sentence shown for it.
	const problems = new Map();

	function setProblem(key, text) {
		if (problems.get(key) !== text) {
			problems.set(key, text);
			renderProblems();
		}
	}

	function clearProblem(key) {
		if (problems.delete(key)) {
			renderProblems();
		}
	}

	function renderProblems() {
		const box = $('error');
		box.replaceChildren();
		for (const text of problems.values()) {
			box.appendChild(el('p', null, text));
		}
		box.hidden = problems.size === 0;
	}

	function showNotice(text) {
		const box = $('notice');
		box.textContent = text;
		box.hidden = false;
		clearTimeout(showNotice.timer);
		showNotice.timer = setTimeout(() => {
			box.hidden = true;
		}, 30000);
	}

	// reportBug turns an unexpected exception into words on the page.
	function reportBug(err) {
		const what = err && err.message ? err.message : String(err);
		setProblem('bug', 'The page hit an unexpected error (' + what +
			'); the values shown may be stale. Reloading the page ' +
			'starts it afresh.');
		if (window.console) {
			console.error(err);
		}
	}

	window.addEventListener('error', (ev) => {
		reportBug(ev.error || ev.message);
	});
	window.addEventListener('unhandledrejection', (ev) => {
		reportBug(ev.reason);
	});

	// The token ----------------------------------------------------------

	let memoryToken = '';

	function getToken() {
		try {
			return sessionStorage.getItem(TOKEN_KEY) || '';
		} catch (e) {
			return memoryToken;
		}
	}

	function setToken(token) {
		memoryToken = token;
		try {
			if (token) {
				sessionStorage.setItem(TOKEN_KEY, token);
			} else {
				sessionStorage.removeItem(TOKEN_KEY);
			}
		} catch (e) {
			// Storage refused (a private window): the variable keeps it.
		}
	}

	// Requests -----------------------------------------------------------

	// ApiError is a failed request. kind: "network" (no answer),
	// "timeout", "auth" (401), "http" (another error status), "notjson",
	// "cancelled" (the token was not given).
	class ApiError extends Error {
		constructor(kind, path, message, extra) {
			super(message);
			this.kind = kind;
			this.path = path;
			Object.assign(this, extra || {});
		}
	}

	// parseJSON parses text, keeping integers past 2^53 exact as decimal
	// strings where the browser tells the source text (seqs and sizes are
	// u64).
	function parseJSON(text) {
		return JSON.parse(text, function (key, value, ctx) {
			if (typeof value === 'number' && !Number.isSafeInteger(value) &&
				ctx && typeof ctx.source === 'string' &&
				/^-?\d+$/.test(ctx.source)) {
				return ctx.source;
			}
			return value;
		});
	}

	function describeBody(text, type) {
		const t = text.trim().replace(/\s+/g, ' ');
		return (type ? type : 'no Content-Type') +
			(t ? ', beginning "' + shorten(t, 60) + '"' : ', empty');
	}

	// request sends method path and returns {status, body}: the parsed
	// JSON, or the text with opts.text. A status in opts.okStatuses is no
	// error (/ready answers 503 when not ready). It throws an ApiError.
	async function request(method, path, opts) {
		opts = opts || {};
		const headers = { Accept: opts.text ? 'text/plain' : 'application/json' };
		const token = getToken();
		if (token) {
			headers.Authorization = 'Bearer ' + token;
		}
		const ctrl = new AbortController();
		const limit = opts.timeoutMs || TIMEOUT_MS;
		const timer = setTimeout(() => ctrl.abort(), limit);
		const what = method + ' ' + path;
		let resp;
		let text;
		try {
			resp = await fetch(path, {
				method: method,
				headers: headers,
				cache: 'no-store',
				credentials: 'same-origin',
				signal: ctrl.signal,
			});
			text = await resp.text();
		} catch (e) {
			if (ctrl.signal.aborted) {
				throw new ApiError('timeout', path, what +
					': no answer within ' + limit / 1000 + ' s');
			}
			throw new ApiError('network', path, what + ': ' +
				(e && e.message ? e.message : 'the request failed'));
		} finally {
			clearTimeout(timer);
		}
		const type = resp.headers.get('Content-Type') || '';
		let body;
		if (opts.text && resp.ok) {
			return { status: resp.status, body: text };
		}
		try {
			body = parseJSON(text);
		} catch (e) {
			body = undefined;
		}
		const isJSON = body !== undefined && body !== null &&
			typeof body === 'object' && /json/i.test(type);
		if (resp.status === 401) {
			throw new ApiError('auth', path, what + ': ' +
				(isJSON && body.message ? body.message : 'HTTP 401'),
				{ status: 401, sentToken: !!token });
		}
		if (!isJSON) {
			throw new ApiError('notjson', path, what + ' answered HTTP ' +
				resp.status + ' with something that is not JSON (' +
				describeBody(text, type) + ')', { status: resp.status });
		}
		if (!resp.ok && !(opts.okStatuses || []).includes(resp.status)) {
			throw new ApiError('http', path, what + ' failed with HTTP ' +
				resp.status + (body.error ? ' ' + body.error : '') +
				': ' + (body.message || 'no message'),
				{ status: resp.status, code: body.error,
					serverMessage: body.message });
		}
		return { status: resp.status, body: body };
	}

	// The token panel ----------------------------------------------------

	// waiters are the requests waiting for a token to be entered.
	let waiters = [];

	// askToken shows the token panel with message and resolves once a
	// token is entered (rejects with kind "cancelled" on Cancel). While
	// the panel is up, only a refusal replaces its message and clears
	// what was typed.
	function askToken(message, refused) {
		const msg = $('auth-message');
		const panel = $('auth');
		const wasHidden = panel.hidden;
		if (wasHidden || refused) {
			msg.textContent = message;
			msg.classList.toggle('refused', !!refused);
			panel.hidden = false;
			$('token-input').value = '';
			$('token-input').focus();
		}
		return new Promise((resolve, reject) => {
			waiters.push({ resolve: resolve, reject: reject });
		});
	}

	function settleWaiters(ok) {
		const ws = waiters;
		waiters = [];
		for (const w of ws) {
			if (ok) {
				w.resolve();
			} else {
				w.reject(new ApiError('cancelled', '',
					'no token was given'));
			}
		}
	}

	$('auth-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const token = $('token-input').value.trim();
		if (!token) {
			$('auth-message').textContent =
				'Enter the token first (it may not be empty).';
			return;
		}
		setToken(token);
		$('token-input').value = '';
		$('auth').hidden = true;
		clearProblem('auth');
		settleWaiters(true);
		refreshNow();
	});

	$('token-cancel').addEventListener('click', () => {
		$('auth').hidden = true;
		settleWaiters(false);
	});

	// withAuth runs fn, and again each time it fails with 401 after
	// asking for a token; label names the action in the prompt. onAsk (if
	// given) hears "needed" or "refused" when the token is asked for, and
	// "retrying" once one was entered.
	async function withAuth(label, fn, onAsk) {
		const tell = (state) => {
			if (onAsk) {
				onAsk(state);
			}
		};
		for (;;) {
			try {
				return await fn();
			} catch (e) {
				if (!(e instanceof ApiError) || e.kind !== 'auth') {
					throw e;
				}
				tell(e.sentToken ? 'refused' : 'needed');
				if (e.sentToken) {
					setToken('');
					await askToken(label + ': the token was refused (' +
						e.message + '). Enter the admin token again.', true);
				} else {
					await askToken(label + ' needs the admin token.', false);
				}
				tell('retrying');
			}
		}
	}

	// Charts ---------------------------------------------------------------

	function cssVar(name, fallback) {
		const v = getComputedStyle(document.documentElement)
			.getPropertyValue(name).trim();
		return v || fallback;
	}

	// niceMax rounds v up to 1, 2 or 5 times a power of ten.
	function niceMax(v) {
		if (!(v > 0)) {
			return 1;
		}
		const p = Math.pow(10, Math.floor(Math.log10(v)));
		for (const m of [1, 2, 5, 10]) {
			if (m * p >= v) {
				return m * p;
			}
		}
		return 10 * p;
	}

	function axisLabel(v) {
		if (v >= 1e6) {
			return (v / 1e6) + 'M';
		}
		if (v >= 1e3) {
			return (v / 1e3) + 'k';
		}
		return String(Math.round(v * 100) / 100);
	}

	// Chart is one line chart on a canvas: points {t (seconds), v} of the
	// last CHART_WINDOW_S seconds. The time axis spans the points held,
	// from 30 s up to CHART_WINDOW_S, so a young page shows a wide line.
	class Chart {
		constructor(id, colorVar) {
			this.canvas = $(id);
			this.colorVar = colorVar;
			this.points = [];
			this.note = 'collecting samples';
		}

		push(t, v) {
			if (!isFinite(v)) {
				return;
			}
			this.points.push({ t: t, v: v });
			while (this.points.length > 0 &&
				this.points[0].t < t - CHART_WINDOW_S) {
				this.points.shift();
			}
		}

		draw(now) {
			const c = this.canvas;
			const dpr = window.devicePixelRatio || 1;
			const w = Math.max(c.clientWidth, 100);
			const h = Math.max(c.clientHeight, 60);
			if (c.width !== Math.round(w * dpr) ||
				c.height !== Math.round(h * dpr)) {
				c.width = Math.round(w * dpr);
				c.height = Math.round(h * dpr);
			}
			const g = c.getContext('2d');
			if (!g) {
				return;
			}
			g.setTransform(dpr, 0, 0, dpr, 0, 0);
			g.clearRect(0, 0, w, h);
			const left = 38;
			const right = 8;
			const top = 8;
			const bottom = 18;
			const pw = w - left - right;
			const ph = h - top - bottom;
			const pts = this.points;
			let max = 0;
			for (const p of pts) {
				max = Math.max(max, p.v);
			}
			const ymax = niceMax(max);
			const oldest = pts.length ? now - pts[0].t : 0;
			const span = Math.min(CHART_WINDOW_S, Math.max(30,
				Math.ceil(oldest / 30) * 30));
			const step = span <= 60 ? 10 : 30;
			g.font = '10px ' + cssVar('--sans', 'sans-serif');
			g.lineWidth = 1;
			g.strokeStyle = cssVar('--chart-grid', '#e6e9ee');
			g.fillStyle = cssVar('--chart-text', '#6a7282');
			g.textAlign = 'right';
			g.textBaseline = 'middle';
			for (let i = 0; i <= 4; i++) {
				const y = top + ph - (ph * i) / 4;
				g.beginPath();
				g.moveTo(left, Math.round(y) + 0.5);
				g.lineTo(left + pw, Math.round(y) + 0.5);
				g.stroke();
				g.fillText(axisLabel((ymax * i) / 4), left - 4, y);
			}
			g.textAlign = 'center';
			g.textBaseline = 'top';
			for (let s = 0; s <= span; s += step) {
				const x = left + pw - (pw * s) / span;
				let label = 'now';
				if (s > 0) {
					label = s % 60 === 0 ? '-' + s / 60 + 'm' : '-' + s + 's';
				}
				g.textAlign = s === span ? 'left' : (s === 0 ? 'right' : 'center');
				g.fillText(label, x, top + ph + 4);
			}
			const xOf = (t) => left + pw - (pw * (now - t)) / span;
			const yOf = (v) => top + ph - (ph * v) / ymax;
			c.dataset.points = String(pts.length);
			c.dataset.max = String(max);
			c.dataset.last = pts.length ? String(pts[pts.length - 1].v) : '';
			if (pts.length < 2) {
				g.textAlign = 'center';
				g.textBaseline = 'middle';
				g.fillText(this.note, left + pw / 2, top + ph / 2);
				return;
			}
			const color = cssVar(this.colorVar, '#2563c9');
			g.beginPath();
			g.moveTo(xOf(pts[0].t), yOf(0));
			for (const p of pts) {
				g.lineTo(xOf(p.t), yOf(p.v));
			}
			g.lineTo(xOf(pts[pts.length - 1].t), yOf(0));
			g.closePath();
			g.globalAlpha = 0.14;
			g.fillStyle = color;
			g.fill();
			g.globalAlpha = 1;
			g.beginPath();
			pts.forEach((p, i) => {
				if (i === 0) {
					g.moveTo(xOf(p.t), yOf(p.v));
				} else {
					g.lineTo(xOf(p.t), yOf(p.v));
				}
			});
			g.strokeStyle = color;
			g.lineWidth = 2;
			g.lineJoin = 'round';
			g.stroke();
		}
	}

	const charts = {
		writes: new Chart('chart-writes', '--chart-writes'),
		latency: new Chart('chart-latency', '--chart-latency'),
		lag: new Chart('chart-lag', '--chart-lag'),
	};

	function drawCharts() {
		const now = performance.now() / 1000;
		for (const c of Object.values(charts)) {
			c.draw(now);
		}
	}

	window.addEventListener('resize', drawCharts);

	// parseProm reads Prometheus text into a Map of name to samples
	// [{labels, value}].
	function parseProm(text) {
		const out = new Map();
		const re = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/;
		for (const line of text.split('\n')) {
			if (line === '' || line[0] === '#') {
				continue;
			}
			const m = re.exec(line);
			if (!m) {
				continue;
			}
			let v = Number(m[3]);
			if (m[3] === '+Inf') {
				v = Infinity;
			} else if (m[3] === '-Inf') {
				v = -Infinity;
			}
			if (!out.has(m[1])) {
				out.set(m[1], []);
			}
			out.get(m[1]).push({ labels: m[2] || '', value: v });
		}
		return out;
	}

	function promSum(prom, name) {
		const s = prom.get(name);
		if (!s) {
			return null;
		}
		return s.reduce((a, x) => a + (isFinite(x.value) ? x.value : 0), 0);
	}

	function promMax(prom, name) {
		const s = prom.get(name);
		if (!s || s.length === 0) {
			return null;
		}
		return s.reduce((a, x) => Math.max(a, x.value), -Infinity);
	}

	let lastSample = null;

	// counterRate is the per-second increase of a counter between two
	// samples; null when it went down (the node restarted).
	function counterRate(prev, cur, dt) {
		if (prev === null || cur === null || !(dt > 0) || cur < prev) {
			return null;
		}
		return (cur - prev) / dt;
	}

	function showMetrics(text, follower) {
		const prom = parseProm(text);
		if (!prom.has('rill_uptime_seconds')) {
			throw new ApiError('notjson', '/metrics', 'GET /metrics ' +
				'answered text that is not rill\'s Prometheus metrics (' +
				describeBody(text, '') + ')');
		}
		const t = performance.now() / 1000;
		const sample = {
			t: t,
			writes: promSum(prom, follower ?
				'rill_follow_records_applied_total' : 'rill_writes_total'),
			latSum: promSum(prom, 'rill_write_latency_seconds_sum'),
			latCount: promSum(prom, 'rill_write_latency_seconds_count'),
			uptime: promSum(prom, 'rill_uptime_seconds'),
		};
		const prev = lastSample;
		// A node that restarted begins its counters again.
		if (prev && (prev.follower !== follower || sample.uptime < prev.uptime)) {
			lastSample = null;
		}
		sample.follower = follower;
		if (lastSample) {
			const dt = t - lastSample.t;
			const w = counterRate(lastSample.writes, sample.writes, dt);
			if (w !== null) {
				charts.writes.push(t, w);
				setText('writes-rate', rate(w));
			}
			// The mean write latency of the interval: its increase of
			// the histogram's sum over that of its count.
			const n = counterRate(lastSample.latCount, sample.latCount, 1);
			const sum = counterRate(lastSample.latSum, sample.latSum, 1);
			if (n > 0 && sum !== null) {
				const ms = (sum / n) * 1000;
				charts.latency.push(t, ms);
				setText('latency-now', rate(ms) + ' ms');
			} else if (n === 0) {
				setText('latency-now', 'no writes');
			}
		}
		lastSample = sample;
		charts.latency.note = follower ? 'no writes: this node follows a leader' :
			'no write since the page opened';
		setText('chart-writes-title', follower ? 'Records applied/s' : 'Writes/s');
		let lag;
		let lagS;
		if (follower) {
			lag = promMax(prom, 'rill_follow_lag_records');
			lagS = promMax(prom, 'rill_follow_lag_seconds');
			setText('chart-lag-title', 'Lag behind the leader (records)');
		} else {
			lag = promMax(prom, 'rill_follower_lag_records');
			lagS = promMax(prom, 'rill_follower_lag_seconds');
			setText('chart-lag-title', 'Follower lag, the most behind (records)');
		}
		if (lag !== null) {
			charts.lag.push(t, lag);
			setText('lag-now', num(lag) + ' (' + seconds(lagS) + ')');
		} else {
			charts.lag.note = 'no follower fetches from this node';
			setText('lag-now', '');
		}
	}

	// Rendering the JSON -------------------------------------------------

	function showStatus(s) {
		setPill('role', String(s.role || '–'), 'role');
		setText('node-id', String(s.node_id || '–'));
		setText('generation', String(s.generation || '–'));
		setText('last-seq', num(s.last_seq));
		setText('applied-seq', num(s.applied_seq));
		setText('oldest-seq', num(s.oldest_seq));
		setText('log-size', bytes(s.log_bytes) + ' in ' + num(s.log_segments) +
			(s.log_segments === 1 ? ' segment' : ' segments'));
		setText('store-memory', bytes(s.store_memory_bytes));
		setText('version', String(s.version || '–'));
		setText('uptime', duration(s.uptime_s));
		setText('snapshot-summary', num(s.snapshots) + ' (' +
			bytes(s.snapshot_bytes) + '), newest at seq ' +
			num(s.newest_snapshot_seq) +
			(s.snapshot_running ? '; one is being written now' : ''));
		setText('writer-state', s.writer_failed ?
			'FAILED: a storage error stopped the writer; restart rilld' :
			(s.role === 'leader' ? 'writing' : 'none (not the leader)'));
		$('writer-state').className = s.writer_failed ? 'bad' : '';
		const following = typeof s.leader === 'string';
		$('follow').hidden = !following;
		if (following) {
			setText('leader', s.leader);
			setText('follow-state', String(s.follow_state || '–'));
			setText('follow-lag', num(s.lag_records) + ' records, ' +
				seconds(s.lag_s));
			setText('bootstraps', num(s.bootstraps));
		}
		document.title = 'rill ' + (s.role || '') + ' ' + HOST;
	}

	function showHealth(res) {
		if (res.ok) {
			setPill('health', res.value.body.status === 'ok' ? 'ok' :
				String(res.value.body.status), 'ok');
		} else {
			setPill('health', 'failing', 'bad');
		}
	}

	function showReady(res) {
		if (!res.ok) {
			setPill('ready', 'unknown', 'warn');
			setText('ready-reason', '');
			return;
		}
		const b = res.value.body;
		if (b.ready === true) {
			setPill('ready', 'ready', 'ok');
			setText('ready-reason', '');
		} else {
			setPill('ready', 'not ready', 'warn');
			setText('ready-reason', String(b.reason || ''));
		}
	}

	const rendered = new Map();

	// changed tells whether data differs from what key last showed.
	function changed(key, data) {
		const s = JSON.stringify(data);
		if (rendered.get(key) === s) {
			return false;
		}
		rendered.set(key, s);
		return true;
	}

	function showFollowers(list) {
		if (!changed('followers', list)) {
			return;
		}
		const tbody = $('followers').tBodies[0];
		tbody.replaceChildren();
		for (const f of list) {
			const tr = el('tr');
			tr.dataset.node = String(f.node_id);
			cell(tr, String(f.node_id), 'mono');
			cell(tr, String(f.address), 'mono');
			cell(tr, String(f.generation), 'mono');
			cell(tr, num(f.applied_seq), 'num');
			cell(tr, num(f.lag_records), 'num' +
				(Number(f.lag_records) > 0 ? ' lagging' : ''));
			cell(tr, seconds(f.lag_s), 'num');
			cell(tr, ago(f.last_seen_s), 'num' +
				(Number(f.last_seen_s) > 30 ? ' gone' : ''));
			cell(tr, num(f.fetches), 'num');
			tbody.appendChild(tr);
		}
		$('followers').hidden = list.length === 0;
		$('followers-empty').hidden = list.length !== 0;
		setText('followers-count', list.length ? '(' + list.length + ')' : '');
	}

	function snapKey(s) {
		return s.generation + '/' + s.seq;
	}

	let knownSnaps = null;
	let freshSnaps = new Set();

	function snapshotRow(s, withGen) {
		const tr = el('tr');
		tr.dataset.seq = String(s.seq);
		tr.dataset.generation = String(s.generation);
		if (withGen) {
			cell(tr, shorten(s.generation, 16), 'mono');
		}
		cell(tr, num(s.seq), 'num');
		cell(tr, num(s.keys), 'num');
		cell(tr, bytes(s.size), 'num');
		cell(tr, bytes(s.raw_bytes), 'num');
		cell(tr, localTime(s.created_us));
		cell(tr, num(s.duration_ms) + ' ms', 'num');
		cell(tr, String(s.hash), 'mono');
		const td = cell(tr, '');
		if (typeof s.url === 'string' && s.url.startsWith('/v1/snapshots/')) {
			const a = el('a', null, 'download');
			a.href = s.url;
			a.setAttribute('download', '');
			td.appendChild(a);
		}
		return tr;
	}

	function showSnapshots(list) {
		const sorted = list.slice().sort((a, b) =>
			Number(b.created_us) - Number(a.created_us) ||
			Number(b.seq) - Number(a.seq));
		// Rows that were not there at the previous refresh are marked.
		const keys = new Set(sorted.map(snapKey));
		if (knownSnaps !== null) {
			freshSnaps = new Set([...keys].filter((k) => !knownSnaps.has(k)));
		}
		knownSnaps = keys;
		if (!changed('snapshots', sorted)) {
			return;
		}
		const tbody = $('snapshots').tBodies[0];
		tbody.replaceChildren();
		for (const s of sorted) {
			const tr = snapshotRow(s, true);
			if (freshSnaps.has(snapKey(s))) {
				tr.className = 'fresh';
			}
			tbody.appendChild(tr);
		}
		$('snapshots').hidden = sorted.length === 0;
		$('snapshots-empty').hidden = sorted.length !== 0;
		setText('snapshots-count', sorted.length ? '(' + sorted.length + ')' : '');
	}

	// Generations: the list every refresh, each one's snapshots and
	// segments when something changed or every DETAILS_MAX_AGE_MS.
	const openGens = new Set();
	let details = new Map();
	let detailsKey = '';
	let detailsAt = 0;

	async function loadGenerationDetails(gens, status) {
		const key = JSON.stringify([gens, status.log_segments,
			status.snapshots, status.newest_snapshot_seq, status.generation]);
		if (key === detailsKey && Date.now() - detailsAt < DETAILS_MAX_AGE_MS) {
			return;
		}
		const shown = gens.slice(0, MAX_GENERATIONS);
		const results = await Promise.allSettled(shown.map((g) =>
			request('GET', '/v1/generations/' + encodeURIComponent(g.id))));
		const next = new Map();
		let failure = null;
		results.forEach((r, i) => {
			if (r.status === 'fulfilled') {
				next.set(shown[i].id, r.value.body);
			} else {
				next.set(shown[i].id, { error: r.reason });
				failure = failure || r.reason;
			}
		});
		details = next;
		// A failure is tried again at the next refresh.
		detailsKey = failure ? '' : key;
		detailsAt = Date.now();
		if (failure) {
			throw failure;
		}
	}

	function segmentTable(segs) {
		const t = el('table');
		t.className = 'segments';
		const head = el('tr');
		for (const h of ['First seq', 'Last seq', 'Size', 'From', 'To', 'CRC32C']) {
			head.appendChild(el('th', /seq|Size/.test(h) ? 'num' : null, h));
		}
		t.appendChild(el('thead')).appendChild(head);
		const tb = t.appendChild(el('tbody'));
		const from = Math.max(0, segs.length - MAX_SEGMENTS_SHOWN);
		for (const s of segs.slice(from).reverse()) {
			const tr = el('tr');
			cell(tr, num(s.first_seq), 'num');
			cell(tr, num(s.last_seq), 'num');
			cell(tr, bytes(s.size), 'num');
			cell(tr, localTime(s.first_time_us));
			cell(tr, localTime(s.last_time_us));
			cell(tr, String(s.checksum), 'mono');
			tb.appendChild(tr);
		}
		return { table: t, hidden: from };
	}

	function generationBlock(g, d) {
		const box = el('details', 'gen');
		box.dataset.gen = String(g.id);
		box.open = openGens.has(g.id) ||
			(g.current && !openGens.has('closed:' + g.id));
		box.addEventListener('toggle', () => {
			if (box.open) {
				openGens.add(g.id);
				openGens.delete('closed:' + g.id);
			} else {
				openGens.delete(g.id);
				openGens.add('closed:' + g.id);
			}
		});
		const sum = el('summary');
		sum.appendChild(el('span', 'mono', String(g.id)));
		if (g.current) {
			sum.appendChild(el('span', 'badge', 'current'));
		}
		let line = 'created ' + localTime(g.created_us) + '; parent ' +
			(g.parent ? g.parent + ' at seq ' + num(g.parent_seq) : 'none');
		const snaps = d && Array.isArray(d.snapshots) ? d.snapshots : null;
		const segs = d && Array.isArray(d.segments) ? d.segments : null;
		if (snaps && segs) {
			let size = 0;
			for (const s of segs) {
				size += Number(s.size) || 0;
			}
			line += '; ' + snaps.length + (snaps.length === 1 ? ' snapshot, ' :
				' snapshots, ') + segs.length + (segs.length === 1 ?
				' sealed segment' : ' sealed segments');
			if (segs.length) {
				line += ' (seqs ' + num(segs[0].first_seq) + '–' +
					num(segs[segs.length - 1].last_seq) + ', ' + bytes(size) + ')';
			}
		}
		sum.appendChild(el('span', 'facts-line', line));
		box.appendChild(sum);
		const body = el('div', 'gen-body');
		if (d && d.error) {
			body.appendChild(el('p', 'empty', 'Could not read this generation: ' +
				d.error.message));
		} else if (!d) {
			body.appendChild(el('p', 'empty', 'Older generation: its files ' +
				'are listed at /v1/generations/' + g.id + '.'));
		} else {
			body.appendChild(el('h3', null, 'Snapshots'));
			if (snaps.length) {
				const t = el('table');
				t.className = 'gen-snapshots';
				const head = el('tr');
				for (const h of ['Seq', 'Keys', 'Size', 'Raw', 'Created', 'Took', 'State hash', 'File']) {
					head.appendChild(el('th', /Seq|Keys|Size|Raw|Took/.test(h) ?
						'num' : null, h));
				}
				t.appendChild(el('thead')).appendChild(head);
				const tb = t.appendChild(el('tbody'));
				for (const s of snaps.slice().sort((a, b) =>
					Number(b.seq) - Number(a.seq))) {
					tb.appendChild(snapshotRow(s, false));
				}
				body.appendChild(t);
			} else {
				body.appendChild(el('p', 'empty', 'No snapshot.'));
			}
			body.appendChild(el('h3', null, 'Sealed log segments'));
			if (segs.length) {
				const st = segmentTable(segs);
				body.appendChild(st.table);
				if (st.hidden) {
					body.appendChild(el('p', 'empty', 'and ' + st.hidden +
						' older segments (newest ' + MAX_SEGMENTS_SHOWN + ' shown).'));
				}
			} else {
				body.appendChild(el('p', 'empty', 'None yet: the segment being ' +
					'written is listed once it is sealed.'));
			}
		}
		box.appendChild(body);
		return box;
	}

	function showGenerations(g) {
		const gens = (Array.isArray(g.generations) ? g.generations : []).slice()
			.sort((a, b) => Number(b.created_us) - Number(a.created_us));
		const view = gens.map((x) => [x, details.get(x.id) || null]);
		if (!changed('generations', view.map((v) =>
			[v[0], v[1] && v[1].error ? v[1].error.message : v[1]]))) {
			return;
		}
		const box = $('generations');
		box.replaceChildren();
		for (const [x, d] of view) {
			box.appendChild(generationBlock(x, d));
		}
		$('generations-empty').hidden = gens.length !== 0;
		setText('generations-count', gens.length ? '(' + gens.length + ')' : '');
	}

	function showEvents(list) {
		const shown = list.slice().sort((a, b) => Number(b.id) - Number(a.id))
			.slice(0, EVENTS_SHOWN);
		if (!changed('events', shown)) {
			return;
		}
		const ul = $('events');
		ul.replaceChildren();
		for (const e of shown) {
			const li = el('li');
			li.appendChild(el('span', 'subtle', localTime(e.time_us)));
			li.appendChild(el('span', 'kind kind-' +
				String(e.kind).replace(/[^a-z]/g, ''), String(e.kind)));
			li.appendChild(el('span', 'detail', String(e.detail)));
			ul.appendChild(li);
		}
		$('events-empty').hidden = shown.length !== 0;
	}

	// Taking a snapshot ----------------------------------------------------

	function snapshotStatus(text, failed) {
		const p = $('snapshot-status');
		p.textContent = text;
		p.hidden = false;
		p.classList.toggle('failed', !!failed);
	}

	function describeFailure(e) {
		if (!(e instanceof ApiError)) {
			return String(e && e.message ? e.message : e);
		}
		if (e.kind === 'http') {
			return 'rilld answered HTTP ' + e.status +
				(e.code ? ' (' + e.code + ')' : '') + ': ' +
				(e.serverMessage || 'no message');
		}
		if (e.kind === 'network' || e.kind === 'timeout') {
			return 'rilld at ' + HOST + ' did not answer (' + e.message + ')';
		}
		return e.message;
	}

	async function takeSnapshot() {
		const btn = $('take-snapshot');
		if (btn.disabled) {
			return;
		}
		btn.disabled = true;
		btn.textContent = 'Taking snapshot…';
		const before = knownSnaps ? new Set(knownSnaps) : new Set();
		snapshotStatus('Taking a snapshot…', false);
		try {
			const res = await withAuth('Taking a snapshot', () =>
				request('POST', '/v1/snapshots', { timeoutMs: SNAPSHOT_TIMEOUT_MS }),
			(state) => {
				if (state === 'retrying') {
					snapshotStatus('Taking a snapshot…', false);
				} else {
					snapshotStatus(state === 'refused' ? 'The token was ' +
						'refused: waiting for the right one (above).' :
						'Waiting for the admin token (above).', state === 'refused');
				}
			});
			const s = res.body;
			clearProblem('snapshot');
			if (before.has(snapKey(s))) {
				snapshotStatus('Nothing was written since the snapshot at seq ' +
					num(s.seq) + ': it is still the newest.', false);
			} else {
				snapshotStatus('Snapshot taken at seq ' + num(s.seq) + ' of ' +
					'generation ' + s.generation + ': ' + num(s.keys) + ' keys, ' +
					bytes(s.size) + ' in ' + num(s.duration_ms) + ' ms.', false);
			}
		} catch (e) {
			if (e instanceof ApiError && e.kind === 'cancelled') {
				snapshotStatus('No snapshot was taken: no token was given.', true);
			} else {
				const text = 'The snapshot failed: ' + describeFailure(e);
				snapshotStatus(text, true);
				setProblem('snapshot', text);
			}
		} finally {
			btn.disabled = false;
			btn.textContent = 'Take snapshot';
			refreshNow();
		}
	}

	$('take-snapshot').addEventListener('click', () => {
		takeSnapshot().catch(reportBug);
	});

	// The refresh loop -----------------------------------------------------

	let downSince = null;
	let lastOk = null;

	function settle(p) {
		return p.then((v) => ({ ok: true, value: v }),
			(e) => ({ ok: false, error: e }));
	}

	// endpointProblem shows (or clears) the failure of one endpoint. A
	// 401 asks for the token: reading is refused without it on this node.
	function endpointProblem(path, res) {
		if (res.ok) {
			clearProblem(path);
			return true;
		}
		const e = res.error;
		if (e instanceof ApiError && e.kind === 'auth') {
			if (e.sentToken) {
				setToken('');
			}
			askToken('Reading ' + path + (e.sentToken ?
				': the token was refused (' + e.message + '). Enter the ' +
				'admin token again.' : ' needs the admin token on this node.'),
			e.sentToken).catch(() => {});
			setProblem('auth', 'This node needs the admin token to show ' +
				'its state: enter it above.');
			clearProblem(path);
			return false;
		}
		setProblem(path, e instanceof ApiError ? e.message :
			'GET ' + path + ': ' + String(e));
		return false;
	}

	function markDown(err) {
		const now = new Date();
		if (downSince === null) {
			downSince = now;
		}
		setPill('conn', 'not answering', 'bad');
		setPill('health', 'not answering', 'bad');
		setPill('ready', 'unknown', 'warn');
		setText('ready-reason', '');
		document.body.classList.add('stale');
		const why = err.kind === 'timeout' ? 'no answer within ' +
			TIMEOUT_MS / 1000 + ' s' : 'the connection failed';
		setProblem('down', 'rilld at ' + HOST + ' is not answering since ' +
			hhmmss(downSince) + ' (last tried ' + hhmmss(now) + ': ' + why +
			').' + (lastOk ? ' The values below are from ' + hhmmss(lastOk) +
			'.' : ''));
		// Nothing else can be said about a node that does not answer.
		for (const key of [...problems.keys()]) {
			if (key.startsWith('/')) {
				clearProblem(key);
			}
		}
	}

	function markUp() {
		const now = new Date();
		if (downSince !== null) {
			showNotice('rilld at ' + HOST + ' answers again (it did not ' +
				'answer from ' + hhmmss(downSince) + ' to ' + hhmmss(now) +
				').');
			downSince = null;
		}
		clearProblem('down');
		document.body.classList.remove('stale');
		setPill('conn', 'live', 'ok');
		lastOk = now;
		setText('updated', 'updated ' + hhmmss(now));
	}

	async function tick() {
		const [health, status, ready, followers, snapshots, generations,
			events, metrics] = await Promise.all([
			settle(request('GET', '/health')),
			settle(request('GET', '/v1/status')),
			settle(request('GET', '/ready', { okStatuses: [503] })),
			settle(request('GET', '/v1/followers')),
			settle(request('GET', '/v1/snapshots')),
			settle(request('GET', '/v1/generations')),
			settle(request('GET', '/v1/events?limit=' + EVENTS_SHOWN)),
			settle(request('GET', '/metrics', { text: true })),
		]);
		if (!health.ok && health.error instanceof ApiError &&
			(health.error.kind === 'network' || health.error.kind === 'timeout')) {
			markDown(health.error);
			drawCharts();
			return;
		}
		markUp();
		showHealth(health);
		endpointProblem('/health', health);
		if (endpointProblem('/v1/status', status)) {
			showStatus(status.value.body);
		}
		showReady(ready);
		endpointProblem('/ready', ready);
		const follower = status.ok && typeof status.value.body.leader === 'string';
		if (endpointProblem('/v1/followers', followers)) {
			showFollowers(Array.isArray(followers.value.body.followers) ?
				followers.value.body.followers : []);
		}
		if (endpointProblem('/v1/snapshots', snapshots)) {
			showSnapshots(Array.isArray(snapshots.value.body.snapshots) ?
				snapshots.value.body.snapshots : []);
		}
		if (endpointProblem('/v1/generations', generations)) {
			const gens = Array.isArray(generations.value.body.generations) ?
				generations.value.body.generations : [];
			if (status.ok) {
				const res = await settle(loadGenerationDetails(gens.slice()
					.sort((a, b) => Number(b.created_us) - Number(a.created_us)),
				status.value.body));
				endpointProblem('/v1/generations/', res);
			}
			showGenerations(generations.value.body);
		}
		if (endpointProblem('/v1/events', events)) {
			showEvents(Array.isArray(events.value.body.events) ?
				events.value.body.events : []);
		}
		if (endpointProblem('/metrics', metrics)) {
			try {
				showMetrics(metrics.value.body, follower);
			} catch (e) {
				endpointProblem('/metrics', { ok: false, error: e });
			}
		}
		drawCharts();
	}

	let timer = null;
	let running = false;
	let again = false;

	async function loop() {
		clearTimeout(timer);
		if (running) {
			again = true;
			return;
		}
		running = true;
		try {
			await tick();
			clearProblem('bug');
		} catch (e) {
			reportBug(e);
		} finally {
			running = false;
			if (again) {
				again = false;
				timer = setTimeout(loop, 0);
			} else {
				timer = setTimeout(loop, document.hidden ?
					HIDDEN_REFRESH_MS : REFRESH_MS);
			}
		}
	}

	// refreshNow refreshes at once (or right after the refresh under way).
	function refreshNow() {
		loop().catch(reportBug);
	}

	document.addEventListener('visibilitychange', () => {
		if (!document.hidden) {
			refreshNow();
		}
	});

	setText('node-addr', HOST);
	$('followers').hidden = true;
	$('snapshots').hidden = true;
	refreshNow();
})();
