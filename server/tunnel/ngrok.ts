import type { OpenTunnel, Tunnel } from './tunnel.js';

/**
 * An ngrok tunnel through the `@ngrok/ngrok` library (its native agent ships inside the npm
 * package: no ngrok binary to install). The module is imported on first use, so a gateway that
 * never opens a tunnel never loads the native code.
 */
export function ngrokTunnel(authtoken: string): Tunnel {
  return {
    async open(port: number): Promise<OpenTunnel> {
      const ngrok = await import('@ngrok/ngrok');
      const listener = await ngrok.forward({ addr: `127.0.0.1:${port}`, authtoken });
      const url = listener.url();
      if (!url) {
        await listener.close();
        throw new Error('ngrok opened a tunnel without a URL');
      }
      return { url: url.replace(/\/+$/, ''), close: () => listener.close() };
    },
  };
}
