'use strict';
/**
 * Preloaded into an `n8n execute` process by the load test (`node --expose-gc --require …`):
 * it runs a full garbage collection and appends "<ms since start> <heap used, bytes>" to
 * LIVE_HEAP_SAMPLE_FILE, again after four times as long as the collection took (so collections
 * take at most a fifth of the time, at a small heap often) and at least LIVE_HEAP_SAMPLE_MS.
 * The heap right after a forced full collection is what the process really holds, at a known
 * time; V8's own full collections come whenever it likes (with a large heap limit, rarely),
 * which made that figure noisy.
 * Without --expose-gc, or in child processes (which inherit the variables but not the flag),
 * it does nothing.
 */
const fs = require('node:fs');
const v8 = require('node:v8');

const file = process.env.LIVE_HEAP_SAMPLE_FILE;
if (file && typeof global.gc === 'function') {
	const atLeast = Number(process.env.LIVE_HEAP_SAMPLE_MS || 250);
	const fd = fs.openSync(file, 'a');
	const started = Date.now();
	const sample = () => {
		const before = Date.now();
		global.gc();
		fs.writeSync(fd, `${Date.now() - started} ${v8.getHeapStatistics().used_heap_size}\n`);
		return Date.now() - before;
	};
	const loop = () => {
		// unref: the sampler never keeps n8n alive.
		setTimeout(loop, Math.max(atLeast, 4 * sample())).unref();
	};
	loop();
	process.on('exit', sample);
}
