/**
 * Summarises a V8 CPU profile (.cpuprofile, e.g. from BENCH_CPU_PROF=1 npm run bench:items): self
 * time by function and by package; with a node name, only the samples taken while that node ran
 * (from the `.nodes.json` the benchmark writes beside the profile: node start times, and when the
 * process ended, which ties the profile's clock to the wall clock within a few ms).
 *
 *   node --import tsx bench/profile-top.ts <file.cpuprofile> ["Node Name"] [top=25]
 */
import * as fs from 'node:fs';

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}

interface Profile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
	startTime: number;
	endTime: number;
}

function packageOf(url: string): string {
	if (url === '') return '(native / V8)';
	const modules = url.lastIndexOf('node_modules/');
	if (modules >= 0) {
		const rest = url.slice(modules + 'node_modules/'.length).split('/');
		return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
	}
	if (url.startsWith('node:')) return 'node (core)';
	return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

function main(): void {
	const [file, nodeName, topArg] = process.argv.slice(2);
	if (!file) throw new Error('usage: profile-top.ts <file.cpuprofile> ["Node Name"] [top]');
	const top = Number(topArg ?? 25);
	const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
	// The window to keep, in the profile's clock (µs).
	let from = -Infinity;
	let to = Infinity;
	if (nodeName) {
		const sidecar = JSON.parse(fs.readFileSync(`${file}.nodes.json`, 'utf8')) as {
			closedAtEpochMs: number;
			nodes: Record<string, { startTime?: number; executionTime?: number }>;
		};
		const node = sidecar.nodes[nodeName];
		if (node?.startTime === undefined || node.executionTime === undefined) throw new Error(`no timing for node "${nodeName}"`);
		const offsetMs = sidecar.closedAtEpochMs - profile.endTime / 1000;
		from = (node.startTime - offsetMs) * 1000;
		to = from + node.executionTime * 1000;
	}
	const byId = new Map(profile.nodes.map((node) => [node.id, node]));
	const self = new Map<number, number>();
	let at = profile.startTime;
	for (let i = 0; i < profile.samples.length; i++) {
		at += profile.timeDeltas[i] ?? 0;
		if (at < from || at > to) continue;
		const id = profile.samples[i];
		self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
	}
	const total = [...self.values()].reduce((a, b) => a + b, 0);
	const byFunction = new Map<string, number>();
	const byPackage = new Map<string, number>();
	for (const [id, us] of self) {
		const node = byId.get(id) as ProfileNode;
		const { functionName, url, lineNumber } = node.callFrame;
		const key = `${functionName || '(anonymous)'}  ${packageOf(url)}:${lineNumber + 1}`;
		byFunction.set(key, (byFunction.get(key) ?? 0) + us);
		const pkg = packageOf(url);
		byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
	}
	const print = (title: string, map: Map<string, number>) => {
		process.stdout.write(`\n${title}\n`);
		for (const [key, us] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
			process.stdout.write(`${(us / 1000).toFixed(0).padStart(8)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${key}\n`);
		}
	};
	process.stdout.write(`${file}${nodeName ? ` (while "${nodeName}" ran)` : ''}: ${(total / 1000).toFixed(0)} ms sampled\n`);
	print('self time by package / file', byPackage);
	print('self time by function', byFunction);
}

main();
