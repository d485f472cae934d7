/**
 * bench:upload — a 1 GB NDJSON file uploaded to a Userpilot import API by Bulk File Import inside
 * a real n8n (Manual Trigger -> Read/Write Files from Disk -> Bulk File Import, "The File As It
 * Is", no validation, no waiting for the job), against curl uploading the same file to the same
 * peer. Alternating, BENCH_REPS times each.
 *
 *   npm run bench:upload                      # 1,000,000,000 bytes, 2 rounds
 *   BENCH_FILE_MB=100 BENCH_REPS=1 npm run bench:upload
 *
 * The peer is the receiver (bench/receiver.ts, its own process; its Userpilot port, a plain TCP
 * server reading into one reused buffer), which reads each upload to its end and only counts it
 * (no file written, no multipart parser, no job run) and answers the job
 * as the sandbox does on creation (`queued`). The sandbox, which stores every upload and runs the
 * job's life cycle, used more CPU per upload than curl took to send it: it was the bottleneck.
 * After each upload exactly one upload of the file's size must have arrived. Each round then
 * measures the receiver's own maximum upload rate (receiverUploadMax: the same number of bytes
 * from memory over a raw socket, one upload after another); the median is printed beside the
 * figures, with the receiver's rate per second of its own CPU (on two shared cores the driver and
 * loopback TCP cap the measured maximum); when neither is 3x the fastest contender, the figure is
 * INVALID and the exit code 1.
 *
 * Reports the node's own time (n8n's run data) against curl's wall time, the n8n process's peak
 * memory above an idle run's (Manual Trigger -> No Operation), and the receiver's CPU per upload.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import {
	chain,
	credentialRef,
	envNumber,
	fatal,
	loadNow,
	log,
	mb,
	median,
	num,
	printMachine,
	readFileNode,
	receiverHeadroom,
	receiverUploadMax,
	saveResults,
	startN8n,
	startReceiverProcess,
	summaryLine,
	table,
	timer,
	userpilotNdjsonFile,
	USERPILOT_KEY,
	nodeTime,
	type ReceiverMax,
	type ReceiverProcess,
} from './lib';

const NODE = 'Bulk File Import';

interface Round {
	round: number;
	curlMs: number;
	curlTimeTotalMs: number;
	curlReceiverCpuMs: number;
	nodeMs: number;
	readFileMs: number;
	n8nWallMs: number;
	n8nReceiverCpuMs: number;
	n8nPeakBytes: number;
	n8nCpuMs: number;
	idlePeakBytes: number;
	idleCpuMs: number;
	idleWallMs: number;
	receiverMax: ReceiverMax;
}

/** Checks that exactly one upload of `bytes` arrived (and nothing refused), then resets the receiver. */
async function arrived(receiver: ReceiverProcess, bytes: number, what: string): Promise<void> {
	const stats = await receiver.stats();
	if (stats.userpilot.uploads !== 1 || stats.userpilot.bytes !== bytes || stats.refused !== 0) {
		fatal(
			`${what}: the receiver counted ${stats.userpilot.uploads} uploads, ${stats.userpilot.bytes} bytes ` +
				`(${stats.refused} requests refused); expected 1 upload of ${bytes} bytes`,
		);
	}
	await receiver.reset();
}

async function curlUpload(receiver: ReceiverProcess, file: string): Promise<{ wallMs: number; timeTotalMs: number; body: string }> {
	const bodyFile = path.join(path.dirname(file), `curl-answer-${process.pid}.json`);
	const elapsed = timer();
	const child = spawn(
		'curl',
		[
			'-sS',
			'-o',
			bodyFile,
			'-w',
			'%{http_code} %{time_total}',
			'-H',
			`Authorization: Token ${USERPILOT_KEY}`,
			'-F',
			`file=@${file};type=application/x-ndjson`,
			`${receiver.userpilotUrl}/v1/imports`,
		],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	let out = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
	const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
	const wallMs = elapsed();
	const body = fs.existsSync(bodyFile) ? fs.readFileSync(bodyFile, 'utf8') : '';
	fs.rmSync(bodyFile, { force: true });
	const [status, total] = out.trim().split(' ');
	if (code !== 0 || status !== '200') fatal(`curl upload failed (exit ${code}, HTTP ${status}): ${out} ${body}`);
	return { wallMs, timeTotalMs: Number(total) * 1000, body };
}

async function main(): Promise<void> {
	const fileBytes = Math.round(envNumber('BENCH_FILE_MB', 1000) * 1_000_000);
	const reps = Math.round(envNumber('BENCH_REPS', 2));
	const info = printMachine(`bench:upload — ${num(fileBytes / 1e6)} MB NDJSON to Userpilot: Bulk File Import (as is) vs curl, ${reps} rounds`);
	const data = await userpilotNdjsonFile(fileBytes);
	log(`file: ${path.relative(process.cwd(), data.file)}, ${num(data.bytes)} bytes, ${num(data.rows)} rows`);

	const receiver = await startReceiverProcess();
	// The n8n credential's URL is the receiver's Userpilot port: curl and the node send to the same URL.
	const bench = await startN8n(receiver.userpilotUrl);
	try {
		const idle = chain('bench idle', [{ name: 'No Operation', type: 'n8n-nodes-base.noOp', typeVersion: 1, parameters: {} }]);
		const upload = chain('bench upload as is', [
			readFileNode(data.file),
			{
				name: NODE,
				type: 'n8n-nodes-data-import.bulkFileImport',
				typeVersion: 1,
				parameters: {
					platform: 'userpilot',
					binaryPropertyName: 'data',
					fileFormat: 'auto',
					userpilotUpload: 'asIs',
					validateFirst: false,
					options: { waitForCompletion: false },
				},
				credentials: credentialRef('sandboxUserpilot'),
			},
		]);
		await bench.importWorkflows([idle, upload]);

		const rounds: Round[] = [];
		for (let round = 1; round <= reps; round++) {
			const row: Partial<Round> = { round };
			const runCurl = async () => {
				const cpu0 = receiver.cpuMs();
				const curl = await curlUpload(receiver, data.file);
				row.curlReceiverCpuMs = receiver.cpuMs() - cpu0;
				row.curlMs = curl.wallMs;
				row.curlTimeTotalMs = curl.timeTotalMs;
				await arrived(receiver, data.bytes, `curl upload (round ${round})`);
			};
			const runNode = async () => {
				const cpu0 = receiver.cpuMs();
				const run = await bench.run(upload.id);
				row.n8nReceiverCpuMs = receiver.cpuMs() - cpu0;
				row.nodeMs = nodeTime(run, NODE, `Bulk File Import upload (round ${round})`);
				row.readFileMs = run.nodes['Read File']?.executionTime ?? Number.NaN;
				row.n8nWallMs = run.wallMs;
				row.n8nPeakBytes = run.process.peakBytes;
				row.n8nCpuMs = run.process.cpuMs;
				const summary = run.result?.nodeOutput(NODE)[0];
				if (summary && summary.fileSize !== data.bytes) fatal(`the node reported fileSize ${String(summary.fileSize)}, expected ${data.bytes}`);
				await arrived(receiver, data.bytes, `Bulk File Import upload (round ${round})`);
			};
			const runIdle = async () => {
				const run = await bench.run(idle.id);
				nodeTime(run, 'No Operation', 'idle run');
				row.idlePeakBytes = run.process.peakBytes;
				row.idleCpuMs = run.process.cpuMs;
				row.idleWallMs = run.wallMs;
			};
			// Alternate who goes first, so that a change of load hits both alike.
			const order = round % 2 === 1 ? [runCurl, runNode, runIdle] : [runIdle, runNode, runCurl];
			for (const step of order) await step();
			row.receiverMax = await receiverUploadMax(receiver, data.file, data.bytes);
			rounds.push(row as Round);
			log(
				`round ${round}: curl ${num(row.curlMs ?? 0)} ms, node ${num(row.nodeMs ?? 0)} ms, ` +
					`n8n peak ${num(mb(row.n8nPeakBytes ?? 0))} MiB (idle ${num(mb(row.idlePeakBytes ?? 0))} MiB), ` +
					`receiver max ${num(row.receiverMax.itemsPerSecond)} MB/s, load ${loadNow()}`,
			);
		}

		const m = (pick: (round: Round) => number) => median(rounds.map(pick));
		const curlMs = m((r) => r.curlMs);
		const nodeMs = m((r) => r.nodeMs);
		const growth = m((r) => r.n8nPeakBytes - r.idlePeakBytes);
		const mbps = (ms: number) => data.bytes / 1e6 / (ms / 1000);
		log('');
		table(
			['round', 'curl ms', 'curl time_total ms', 'node ms', 'node/curl', 'Read File ms', 'n8n peak MiB', 'idle peak MiB', 'growth MiB', 'receiver CPU ms (curl / n8n)', 'receiver max MB/s'],
			rounds.map((r) => [
				r.round,
				num(r.curlMs),
				num(r.curlTimeTotalMs),
				num(r.nodeMs),
				(r.nodeMs / r.curlMs).toFixed(2),
				num(r.readFileMs),
				num(mb(r.n8nPeakBytes)),
				num(mb(r.idlePeakBytes)),
				num(mb(r.n8nPeakBytes - r.idlePeakBytes)),
				`${num(r.curlReceiverCpuMs)} / ${num(r.n8nReceiverCpuMs)}`,
				num(r.receiverMax.itemsPerSecond),
			]),
		);
		log('');
		log(`medians: curl ${num(curlMs)} ms (${num(mbps(curlMs))} MB/s), Bulk File Import ${num(nodeMs)} ms (${num(mbps(nodeMs))} MB/s)`);
		log(`         receiver CPU per upload: ${num(m((r) => r.curlReceiverCpuMs))} ms with curl, ${num(m((r) => r.n8nReceiverCpuMs))} ms with n8n`);
		const maxRate = m((r) => r.receiverMax.itemsPerSecond);
		const fastest = Math.max(mbps(curlMs), mbps(nodeMs));
		const fastestName = mbps(curlMs) >= mbps(nodeMs) ? 'the fastest contender, curl' : 'the fastest contender, Bulk File Import';
		// MB the receiver reads per second of its own CPU, while driven at its maximum.
		const cpuCapacity = m((r) => r.receiverMax.items / 1e6 / (r.receiverMax.receiverCpuMs / 1000));
		const headroom = receiverHeadroom(
			{ ...rounds[0].receiverMax, itemsPerSecond: maxRate, how: `median of ${rounds.length}; ${rounds[0].receiverMax.how}` },
			fastest,
			fastestName,
			'MB/s',
			cpuCapacity,
		);
		log(
			`         n8n process: peak ${num(mb(m((r) => r.n8nPeakBytes)))} MiB vs idle ${num(mb(m((r) => r.idlePeakBytes)))} MiB: ` +
				`growth ${num(mb(growth))} MiB (goal < 100 MiB); CPU ${num(m((r) => r.n8nCpuMs))} ms vs idle ${num(m((r) => r.idleCpuMs))} ms`,
		);
		log(`goal: node time within 1.25x of curl: ${nodeMs / curlMs <= 1.25 ? 'met' : 'NOT met'}; peak growth under 100 MiB: ${mb(growth) < 100 ? 'met' : 'NOT met'}`);
		log(`load at end: ${loadNow()}`);
		saveResults('upload', {
			machine: info,
			config: { fileBytes: data.bytes, rows: data.rows, reps },
			rounds,
			medians: { curlMs, nodeMs, ratio: nodeMs / curlMs, peakGrowthBytes: growth, receiverMaxMBps: maxRate },
			receiverHeadroom: headroom,
		});
		summaryLine(
			`bench:upload (${num(data.bytes / 1e6)} MB, node time)`,
			nodeMs,
			'ms',
			nodeMs / curlMs,
			`curl; receiver max ${num(maxRate)} MB/s = ${headroom.ratio.toFixed(1)}x${headroom.valid ? '' : ' INVALID'}`,
		);
	} finally {
		await bench.dispose();
		await receiver.stop();
	}
}

main().catch((error: unknown) => fatal((error as Error)?.stack ?? String(error)));
