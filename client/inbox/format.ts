/** How the inbox words what the model holds: networks, times, file sizes. Pure functions. */

/** A messaging network as the page shows it: a label, and a key the stylesheet colours. */
export interface Network {
  key: string;
  label: string;
}

const NETWORKS: Record<string, string> = {
  LINKEDIN: 'LinkedIn',
  WHATSAPP: 'WhatsApp',
  INSTAGRAM: 'Instagram',
  TELEGRAM: 'Telegram',
  MESSENGER: 'Messenger',
  TWITTER: 'X',
  GOOGLE: 'Gmail',
  MICROSOFT: 'Outlook',
  IMAP: 'Email',
  MAIL: 'Email',
};

/**
 * The network of an account type as the provider names it (`LINKEDIN`, `WHATSAPP`, …); an
 * unknown type is shown as given, in title case, and a missing one as `null`.
 */
export function networkOf(accountType: string | null | undefined): Network | null {
  if (!accountType) return null;
  const key = accountType.toUpperCase();
  const label = NETWORKS[key] ?? key.charAt(0) + key.slice(1).toLowerCase();
  return { key: key.toLowerCase(), label };
}

/** A byte count as people read it: `812 B`, `47 KB`, `3.2 MB`. */
export function formatBytes(bytes: number | null | undefined): string | null {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return null;
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

const DAY = 24 * 60 * 60 * 1000;
const startOfDay = (date: Date) => new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();

/**
 * The time of a chat's last message as a chat list shows it: the time of day today,
 * `Yesterday`, the weekday within the week, else the date (with the year when it is not this one).
 */
export function chatTime(iso: string | null, now = new Date()): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const days = Math.round((startOfDay(now) - startOfDay(date)) / DAY);
  if (days <= 0) return date.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  if (days === 1) return 'Yesterday';
  if (days < 7) return date.toLocaleDateString([], { weekday: 'short' });
  const sameYear = date.getFullYear() === now.getFullYear();
  return date.toLocaleDateString([], {
    day: 'numeric',
    month: 'short',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

/** A moment in full, for tooltips. */
export function fullTime(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : date.toLocaleString();
}

/** When a message was sent, as its bubble shows it: the time of day, after the day when not today. */
export function messageTime(iso: string | null, now = new Date()): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const time = date.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
  return startOfDay(date) === startOfDay(now) ? time : `${chatTime(iso, now)}, ${time}`;
}
