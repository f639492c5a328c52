import { describe, expect, it } from 'vitest';
import { chatTime, formatBytes, messageTime, networkOf } from '../../../client/inbox/format.js';

describe('how the inbox words the model', () => {
  it('names the network of an account type, known or not', () => {
    expect(networkOf('LINKEDIN')).toEqual({ key: 'linkedin', label: 'LinkedIn' });
    expect(networkOf('whatsapp')).toEqual({ key: 'whatsapp', label: 'WhatsApp' });
    expect(networkOf('INSTAGRAM')?.label).toBe('Instagram');
    expect(networkOf('TELEGRAM')?.label).toBe('Telegram');
    expect(networkOf('WECHAT')).toEqual({ key: 'wechat', label: 'Wechat' });
    expect(networkOf(null)).toBeNull();
    expect(networkOf('')).toBeNull();
  });

  it('gives sizes in the units people read', () => {
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(48_213)).toBe('48 KB');
    expect(formatBytes(3_512_400)).toBe('3.5 MB');
    expect(formatBytes(8_412_005)).toBe('8.4 MB');
    expect(formatBytes(2_000_000_000)).toBe('2.0 GB');
    expect(formatBytes(null)).toBeNull();
    expect(formatBytes(-1)).toBeNull();
    expect(formatBytes(Number.NaN)).toBeNull();
  });

  it("words a chat's last-message time by how long ago it was", () => {
    const now = new Date(2026, 10, 27, 15, 0);
    const at = (...parts: [number, number, number, number, number]) => new Date(...parts).toISOString();
    const timeOfDay = new Date(2026, 10, 27, 9, 5).toLocaleTimeString([], {
      hour: 'numeric',
      minute: '2-digit',
    });
    expect(chatTime(at(2026, 10, 27, 9, 5), now)).toBe(timeOfDay);
    expect(chatTime(at(2026, 10, 26, 23, 59), now)).toBe('Yesterday');
    expect(chatTime(at(2026, 10, 23, 12, 0), now)).toBe(
      new Date(2026, 10, 23).toLocaleDateString([], { weekday: 'short' }),
    );
    expect(chatTime(at(2026, 2, 14, 12, 0), now)).not.toContain('2026');
    expect(chatTime(at(2024, 2, 14, 12, 0), now)).toContain('2024');
    expect(chatTime(null, now)).toBe('');
    expect(chatTime('not a date', now)).toBe('');
    // A message from the future (a skewed clock) reads as today.
    expect(chatTime(at(2026, 10, 28, 1, 0), now)).toMatch(/\d:\d\d/);
  });

  it("puts the day before a message's time when it is not today", () => {
    const now = new Date(2026, 10, 27, 15, 0);
    expect(messageTime(new Date(2026, 10, 27, 9, 5).toISOString(), now)).not.toContain(',');
    expect(messageTime(new Date(2026, 10, 26, 9, 5).toISOString(), now)).toMatch(/^Yesterday, /);
  });
});
