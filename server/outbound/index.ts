/**
 * The outbound feature's entry for other features: the one door through which a transaction
 * publishes its envelopes (publish.ts). Endpoints, deliveries and their workers are wired by app.ts
 * through plugin.ts.
 */
export { publish } from './publish.js';
