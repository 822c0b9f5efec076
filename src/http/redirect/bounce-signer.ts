import { createHmac, timingSafeEqual } from 'node:crypto';

export const BOUNCE_PATH = '/sl-hop';

/**
 * Signs the intermediate hop of a double meta refresh, so `/sl-hop?to=...` only forwards to
 * destinations this server chose: without the signature it would be an open redirect.
 */
export class BounceSigner {
  constructor(private readonly key: string) {}

  private sign(to: string): Buffer {
    return createHmac('sha256', this.key).update(to).digest();
  }

  /** A same-host path (relative URL) for the hop to `to`. */
  path(to: string): string {
    return `${BOUNCE_PATH}?to=${encodeURIComponent(to)}&sig=${this.sign(to).toString('base64url')}`;
  }

  verify(to: string, signature: string): boolean {
    const expected = this.sign(to);
    const given = Buffer.from(signature, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
