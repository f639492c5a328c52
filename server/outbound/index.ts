/**
 * The outbound feature's entry for other features: the one door through which a transaction
 * publishes its envelopes (publish.ts), and the outbox write beneath it (outboxes.ts), which tests and
 * benchmarks use to seed deliveries or realtime events directly. Endpoints, deliveries and their workers are wired by app.ts
 * through plugin.ts.
 */
export { DELIVERIES_CHANNEL, publishToOutboxes } from './outboxes.js';
export { publish } from './publish.js';
