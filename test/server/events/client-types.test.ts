import { describe, expectTypeOf, it } from 'vitest';
import type * as Client from '../../../client/types.js';
import type * as Server from '../../../server/events/index.js';

/**
 * The browser package keeps its own copy of the envelope shapes (it ships alone). These checks run
 * in `npm run typecheck`: a field added, removed or retyped on one side only fails it.
 */
describe('client/types.ts against server/events', () => {
  it('has the same envelope types', () => {
    expectTypeOf<Client.EnvelopeType>().toEqualTypeOf<Server.RealtimeType>();
  });

  it('has the same data shape for every envelope type', () => {
    expectTypeOf<Client.EnvelopeData>().toEqualTypeOf<Server.RealtimeData>();
    expectTypeOf<Client.NewMessageData>().toEqualTypeOf<Server.NewMessageData>();
    expectTypeOf<Client.UpdatedMessageData>().toEqualTypeOf<Server.UpdatedMessageData>();
    expectTypeOf<Client.DeletedMessageData>().toEqualTypeOf<Server.DeletedMessageData>();
    expectTypeOf<Client.ChatReadData>().toEqualTypeOf<Server.ChatReadData>();
    expectTypeOf<Client.AccountStatusData>().toEqualTypeOf<Server.AccountStatusData>();
    expectTypeOf<Client.SendStatus>().toEqualTypeOf<Server.SendStatus>();
    expectTypeOf<Client.SendFailureReason>().toEqualTypeOf<Server.SendFailureReason>();
  });
});
