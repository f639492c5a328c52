import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The realtime fan-out's Prometheus metrics (docs/realtime.md, "Metrics"). */
export interface RealtimeMetrics {
  connections: Gauge;
  messagesSent: Counter;
  slowConsumers: Counter;
  rateLimited: Counter;
  fanoutLatency: Histogram;
  listenerReconnects: Counter;
}

/** Registers the realtime metrics on the app's registry. */
export function createRealtimeMetrics(registry: Registry): RealtimeMetrics {
  return {
    connections: new Gauge({
      name: 'hookline_realtime_connections',
      help: 'Open realtime WebSocket connections on this instance',
      registers: [registry],
    }),
    messagesSent: new Counter({
      name: 'hookline_realtime_messages_sent_total',
      help: 'Event envelopes written to realtime sockets (replayed and live)',
      registers: [registry],
    }),
    slowConsumers: new Counter({
      name: 'hookline_realtime_slow_consumers_total',
      help: 'Sockets closed with 1013 because their unsent bytes exceeded the cap',
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'hookline_realtime_rate_limited_total',
      help: 'Sockets closed with 4429 because their client frames exceeded the rate limit',
      registers: [registry],
    }),
    fanoutLatency: new Histogram({
      name: 'hookline_realtime_fanout_latency_seconds',
      help: 'From the event row created_at (its transaction time) to the write to the last socket it went to',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    listenerReconnects: new Counter({
      name: 'hookline_realtime_listener_reconnects_total',
      help: 'Times the Postgres LISTEN connection was lost and is being re-established',
      registers: [registry],
    }),
  };
}
