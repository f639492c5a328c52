import type { AttemptContext } from './attempt.js';

/** What the outbound routes share with the worker, passed to their plugins as options. */
export interface OutboundService {
  attempts: AttemptContext;
  encryptionKey: Buffer;
  /** Cap on endpoints (OUTBOUND_MAX_ENDPOINTS). */
  maxEndpoints: number;
  /** Attempt budget of endpoints created without one (OUTBOUND_MAX_ATTEMPTS). */
  defaultMaxAttempts: number;
  allowPrivateEndpoints: boolean;
  secretOverlapMs: number;
  leaseMs: number;
  /** Asks this instance's worker (when it runs one) to claim now. */
  wake(): void;
}
