/**
 * Throughput sanity check of the validators, not a timed test: skipped unless VALIDATION_PERF=1.
 *   VALIDATION_PERF=1 npx jest test/unit/validation-perf.test.ts
 * Prints ns per item; asserts only that every item validated. (Under tsx, imports go through
 * getters; the compiled package is somewhat faster.)
 */
import assert from 'node:assert/strict';

import { compileAyonaValidator } from '../../platforms/ayona/rules';
import { compileRimdianValidator } from '../../platforms/rimdian/rules';
import { compileUserpilotValidator } from '../../platforms/userpilot/rules';
import type { ItemValidator } from '../../core/validation/types';

const enabled = process.env.VALIDATION_PERF === '1';
const N = Number(process.env.VALIDATION_PERF_ITEMS ?? 200_000);

function measure(name: string, validate: ItemValidator, items: unknown[], log: (message: string) => void): void {
	let best = Number.POSITIVE_INFINITY;
	for (let round = 0; round < 3; round++) {
		let valid = 0;
		const start = process.hrtime.bigint();
		for (let i = 0; i < items.length; i++) if (validate(items[i]).ok) valid++;
		best = Math.min(best, Number(process.hrtime.bigint() - start) / items.length);
		if (valid !== items.length) {
			const failure = validate(items.find((item) => !validate(item).ok));
			assert.fail(`${name}: ${items.length - valid} items did not validate, e.g. ${JSON.stringify(failure.ok ? null : failure.errors)}`);
		}
	}
	log(`${name}: ${best.toFixed(0)} ns/item (best of 3, ${items.length} items)`);
}

// Skipped unless VALIDATION_PERF=1 is set; when it runs, its time limit is an hour (it is a long run).
(enabled ? test : test.skip)('validator throughput', () => {
	const log = (message: string) => console.log(message);
	const base = Date.UTC(2023, 0, 1);
	const at = (i: number) => new Date(base + i * 37_000).toISOString().replace('.000', '');
	const rimdian = Array.from({ length: N }, (_, i) => ({
		kind: 'order',
		user: { external_id: `u${i}`, is_authenticated: true, created_at: at(i), email: `a${i}@x.com`, country: 'FR', timezone: 'Europe/Paris' },
		order: {
			external_id: `o${i}`,
			created_at: at(i),
			domain_id: 'web',
			currency: 'EUR',
			subtotal_price: 1200,
			total_price: 1200,
			items: [{ external_id: 'l1', name: 'n', product_external_id: 'p', price: 1200, quantity: 1 }],
		},
	}));
	const userpilot = Array.from({ length: N }, (_, i) => ({
		event_type: 'track',
		event_name: 'x',
		user_id: `u${i}`,
		source: 'backend-http-import',
		inserted_at: `2024-07-28 08:55:${String(i % 60).padStart(2, '0')}.874555`,
		metadata: { a: i, b: 'x' },
	}));
	const ayona = Array.from({ length: N }, (_, i) => ({ date: at(i), name: `n${i}`, content: 'hello' }));
	measure('rimdian order, UTC, passthrough', compileRimdianValidator({ timezone: 'UTC' }), rimdian, log);
	measure('userpilot track, UTC, passthrough', compileUserpilotValidator({ timezone: 'UTC' }), userpilot, log);
	measure('userpilot track, New York, rewritten', compileUserpilotValidator({ timezone: 'America/New_York' }), userpilot, log);
	measure('ayona, Paris, rewritten', compileAyonaValidator({ timezone: 'Europe/Paris' }), ayona, log);
}, 3_600_000);
