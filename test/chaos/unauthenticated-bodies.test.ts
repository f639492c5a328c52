import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePostgres, requireTestDatabaseUrl } from '../support/databases.js';
import { type Gateway, startGateway } from './hostile/gateway.js';
import { gaugeValue, probeLatency, unauthenticatedUpload } from './hostile/unauthenticated-bodies.js';
import { recordScenario } from './support/results.js';

const UPLOADS = 40;
const UPLOAD_BYTES = 800 * 1000;

/**
 * Issue 17: forty unauthenticated 800 KB bodies at once to a management route of one real
 * gateway process. Credentials are checked before the body is read, so none is parsed: every
 * answer is 401 (or 429 once the address is over its failure budget) and the gateway's event loop
 * stays free. Its delay is measured inside the gateway (`perf_hooks.monitorEventLoopDelay`, served
 * by /metrics as `hookline_nodejs_eventloop_lag_*`, reset at every scrape) and from outside, as
 * /healthz latency during the burst. Figures are reported, not asserted.
 */
describePostgres('unauthenticated large bodies', () => {
  let gateway: Gateway | undefined;
  beforeAll(async () => {
    gateway = await startGateway(requireTestDatabaseUrl(), { LOG_LEVEL: 'info', AUTH_FAILURE_LIMIT: '30' });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  describe('against one gateway', () => {
    it('refuses every body without parsing it, with the event loop free throughout', async () => {
      const g = gateway!;
      const metrics = () => fetch(`${g.url}/metrics`).then((response) => response.text());
      // The same window with no burst, for comparison on a machine that may be busy with other work.
      await metrics(); // starts the event-loop delay histogram afresh
      const idleProbe = probeLatency(`${g.url}/healthz`, 20);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const idleLatencies = await idleProbe.stop();
      const idle = await metrics();
      const idleLagMaxMs = gaugeValue(idle, 'hookline_nodejs_eventloop_lag_max_seconds') * 1000;
      const cpuBefore = gaugeValue(idle, 'hookline_process_cpu_seconds_total');
      const probe = probeLatency(`${g.url}/healthz`, 20);
      const started = performance.now();
      const answers = await Promise.all(
        Array.from({ length: UPLOADS }, () => unauthenticatedUpload(`${g.url}/api/endpoints`, UPLOAD_BYTES)),
      );
      const wallMs = performance.now() - started;
      const latencies = await probe.stop();
      const after = await metrics();
      const lagMaxMs = gaugeValue(after, 'hookline_nodejs_eventloop_lag_max_seconds') * 1000;
      const lagP99Ms = gaugeValue(after, 'hookline_nodejs_eventloop_lag_p99_seconds') * 1000;
      const cpuMs = (gaugeValue(after, 'hookline_process_cpu_seconds_total') - cpuBefore) * 1000;
      const health = await fetch(`${g.url}/healthz`);

      const byStatus = new Map<string, number>();
      for (const answer of answers) {
        const key = answer.status === null ? `error ${answer.error}` : String(answer.status);
        byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
      }
      const refused = answers.filter((answer) => answer.status === 401 || answer.status === 429).length;
      const probeMaxMs = Math.max(...latencies);
      await recordScenario({
        id: 'unauthenticated-bodies',
        scenario: `${UPLOADS} concurrent unauthenticated ${UPLOAD_BYTES / 1000} KB JSON bodies to POST /api/endpoints`,
        sent: UPLOADS,
        acknowledged: refused,
        stored: null,
        delivered: null,
        lost: 0,
        duplicated: 0,
        notes:
          `answers: ${[...byStatus].map(([status, count]) => `${status} ×${count}`).join(', ')}; ` +
          `gateway event-loop delay during the burst: max ${lagMaxMs.toFixed(1)} ms, p99 ${lagP99Ms.toFixed(1)} ms ` +
          `(monitorEventLoopDelay); /healthz latency max ${probeMaxMs.toFixed(1)} ms over ${latencies.length} probes; ` +
          `burst wall time ${Math.round(wallMs)} ms, gateway CPU ${Math.round(cpuMs)} ms; idle baseline over 1 s: event-loop delay max ` +
          `${idleLagMaxMs.toFixed(1)} ms, /healthz max ${Math.max(...idleLatencies).toFixed(1)} ms`,
      });

      expect(refused, JSON.stringify([...byStatus])).toBe(UPLOADS);
      expect(health.status).toBe(200);
      expect(g.output()).not.toContain('HL_ERR_INVALID_JSON');
    });
  });
});
