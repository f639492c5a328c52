/**
 * A public URL that forwards to this server, for local development: the provider must reach the
 * gateway, and a laptop has no public address. Implementations: {@link ngrokTunnel}; tests inject
 * a fake one through `BuildAppOptions.tunnel`.
 */
export interface Tunnel {
  /**
   * Opens the tunnel to the local server listening on `port` (on loopback). Called once the
   * server listens, because only then is the port known (`PORT=0` picks one).
   */
  open(port: number): Promise<OpenTunnel>;
}

/** A tunnel once open: its public URL, and how to close it. */
export interface OpenTunnel {
  /** Public base URL, e.g. `https://abcd-1-2-3-4.ngrok-free.app`, without a trailing slash. */
  url: string;
  /** Closes the tunnel; the URL stops working. */
  close(): Promise<void>;
}
