import { describe, expect, it } from 'vitest';
import { ngrokTunnel } from '../../../server/tunnel/ngrok.js';

describe('ngrokTunnel', () => {
  it('loads the native agent and rejects, without the authtoken, when no session can be opened', async () => {
    // An invalid token fails with or without internet: authentication, or no route to ngrok.
    const token = 'invalid-ngrok-authtoken-for-tests';
    const error = await ngrokTunnel(token)
      .open(9)
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).not.toContain(token);
  });
});
