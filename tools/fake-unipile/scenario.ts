import {
  CAST_ACCOUNTS,
  CAST_CHATS,
  type CastChat,
  FILE_LINES,
  FLOURISHES,
  providerId,
  type ScriptLine,
  SMALL_TALK,
} from './cast.js';
import {
  type AccountStatusMessage,
  accountStatus,
  fakeAttachment,
  followUp,
  MESSAGING_EVENTS,
  type MessagingEvent,
  messageReceived,
  ownEcho,
  type UnipileAccountStatusPayload,
  type UnipileAttendee,
  type UnipileMessagingPayload,
} from './payloads.js';

/** A webhook body the traffic generator sends. */
export type TrafficPayload = UnipileMessagingPayload | UnipileAccountStatusPayload;

/** Why a payload is in the stream, for summaries and tests. */
export type TrafficKind = 'message' | 'follow-up' | 'duplicate' | 'out-of-order' | 'account-status';

/** One webhook of the traffic stream, and why it is there. */
export interface TrafficItem {
  kind: TrafficKind;
  payload: TrafficPayload;
}

type FollowUpEvent = Exclude<MessagingEvent, 'message_received'>;
const FOLLOW_UPS = MESSAGING_EVENTS.filter((event): event is FollowUpEvent => event !== 'message_received');

/** How often each follow-up comes, out of 100: reads and receipts often, edits and deletions now and then. */
const FOLLOW_UP_WEIGHTS: [FollowUpEvent, number][] = [
  ['message_read', 35],
  ['message_delivered', 24],
  ['message_reaction', 28],
  ['message_edited', 8],
  ['message_deleted', 5],
];
const REACTIONS = ['👍', '❤️', '😂', '🔥', '🙏', '😮', '👏'];
/** Statuses an account reports, weighted; one needing attention is followed later by a recovery. */
const STATUS_WEIGHTS: [AccountStatusMessage, number][] = [
  ['OK', 30],
  ['SYNC_SUCCESS', 20],
  ['RECONNECTED', 12],
  ['CONNECTING', 8],
  ['CREDENTIALS', 12],
  ['ERROR', 10],
  ['STOPPED', 6],
  ['CREATION_SUCCESS', 2],
];
const ATTENTION = new Set<string>(['CREDENTIALS', 'ERROR', 'STOPPED']);

/** A message the stream sent, with what a later edit would change it to. */
interface Sent {
  payload: UnipileMessagingPayload;
  chat: CastChat;
  fixed: string | null;
}

/**
 * An endless stream of Unipile traffic that reads like real conversations: four accounts on
 * four networks, one-to-one and group chats between named people following short scripts, then
 * small talk; some messages carry files, some are sent by the account itself (on WhatsApp half
 * of those as `is_sender` echoes). Around them: reads, delivery receipts, reactions, an edit (a
 * typo fixed) or a deletion now and then, exact duplicates (what Unipile's retries look like),
 * follow-ups that arrive before their message, and account status changes. The first items tour
 * every kind, so even a short run covers all. The same `random` sequence gives the same stream.
 */
export class TrafficScenario {
  readonly #random: () => number;
  readonly #progress = new Map<CastChat, number>();
  readonly #recent: Sent[] = [];
  readonly #sent: TrafficPayload[] = [];
  readonly #queued: TrafficItem[] = [];
  readonly #later: { due: number; item: TrafficItem }[] = [];
  #count = 0;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  next(): TrafficItem {
    const dueIndex = this.#later.findIndex((entry) => entry.due <= this.#count);
    const due = dueIndex >= 0 ? this.#later.splice(dueIndex, 1)[0]!.item : undefined;
    const item = this.#queued.shift() ?? due ?? this.#generate();
    this.#count++;
    this.#sent.push(item.payload);
    if (this.#sent.length > 200) this.#sent.shift();
    return item;
  }

  #generate(): TrafficItem {
    const tour = this.#tour();
    if (tour) return tour;
    const roll = this.#random();
    if (roll < 0.6 || this.#recent.length === 0) return this.#message();
    if (roll < 0.87) return this.#followUp(this.#weighted(FOLLOW_UP_WEIGHTS));
    if (roll < 0.94) return this.#duplicate();
    if (roll < 0.99) return this.#outOfOrder(this.#pick(['message_read', 'message_reaction'] as const));
    return this.#status();
  }

  /**
   * The first items: two messages, then one of each kind and event type, in an order that makes
   * each valid (the deletion is about the second message, the rest about the first).
   */
  #tour(): TrafficItem | undefined {
    const step = this.#count;
    const follow = step - 2;
    if (step === 0) return this.#message(true);
    if (step === 1) return this.#message();
    if (follow >= 0 && follow < FOLLOW_UPS.length) {
      const event = FOLLOW_UPS[follow]!;
      return this.#followUp(event, this.#recent[event === 'message_deleted' ? 1 : 0]);
    }
    if (step === FOLLOW_UPS.length + 2) return this.#duplicate();
    if (step === FOLLOW_UPS.length + 3) return this.#outOfOrder('message_reaction');
    // (step FOLLOW_UPS.length + 4 is the message the out-of-order follow-up was about)
    if (step === FOLLOW_UPS.length + 5) return this.#status();
    return undefined;
  }

  /** The next line of a chat: its script while it lasts, then small talk; sometimes with a typo. */
  #message(withTypo = false): TrafficItem {
    const chat = this.#pick(CAST_CHATS);
    const step = this.#progress.get(chat) ?? 0;
    this.#progress.set(chat, step + 1);
    const line = chat.script[step] ?? this.#smallTalk(chat);
    const fromAccount = line.from === 'me';
    const sender: UnipileAttendee = chat.people[fromAccount ? 0 : (line.from as number)] ?? chat.people[0]!;
    const typo = line.text && (withTypo || this.#random() < 0.04) ? this.#misspell(line.text) : null;
    const options = {
      account: chat.account,
      chatId: chat.chatId,
      messageId: providerId(this.#random),
      text: typo ?? line.text ?? '',
      fromAccount,
      sender,
      attendees: chat.people,
      ...(chat.subject ? { subject: chat.subject } : {}),
      ...(line.file ? { attachments: [fakeAttachment({ id: providerId(this.#random), ...line.file })] } : {}),
    };
    // WhatsApp also echoes the account's own messages with is_sender and only its phone number.
    const echo = fromAccount && chat.account.type === 'WHATSAPP' && this.#random() < 0.5;
    const payload = echo ? ownEcho(options) : messageReceived(options);
    if (line.text === null) payload.message = null;
    this.#recent.push({ payload, chat, fixed: typo ? line.text : null });
    if (this.#recent.length > 100) this.#recent.shift();
    return { kind: 'message', payload };
  }

  /** A line of small talk: who of the chat says it, sometimes with a file or a flourish. */
  #smallTalk(chat: CastChat): ScriptLine {
    const from = this.#random() < 0.3 ? ('me' as const) : Math.floor(this.#random() * chat.people.length);
    if (this.#random() < 0.08) return { ...this.#pick(FILE_LINES), from };
    let text = this.#pick(SMALL_TALK[chat.tone]);
    const roll = this.#random();
    const flourish = FLOURISHES[chat.tone];
    if (roll < 0.15) {
      // After a comma the line reads on: 'Btw, see you then!' (but 'Btw, I …').
      const before = this.#pick(flourish.before);
      const lower = before.endsWith(', ') && !/^I\b/.test(text);
      text = before + (lower ? text.charAt(0).toLowerCase() + text.slice(1) : text);
    } else if (roll < 0.3) text += this.#pick(flourish.after);
    return { from, text };
  }

  /** Swaps two letters of the message's longest word, as fast thumbs do. */
  #misspell(text: string): string | null {
    const longest = text.split(/\s+/).reduce((best, word) => (word.length > best.length ? word : best), '');
    if (longest.length < 4) return null;
    const at = 1 + Math.floor(this.#random() * (longest.length - 2));
    const swapped = longest.slice(0, at) + longest[at + 1] + longest[at] + longest.slice(at + 2);
    return swapped === longest ? null : text.replace(longest, swapped);
  }

  #followUp(event: FollowUpEvent, about?: Sent): TrafficItem {
    if (event === 'message_edited' && !about) {
      // Edits fix typos: without a recent typo, the stream sends a new message instead.
      const typos = this.#recent.filter((sent) => sent.fixed !== null);
      if (typos.length === 0) return this.#message();
      about = this.#pick(typos);
    }
    const target =
      about ?? this.#recent[this.#recent.length - 1 - Math.floor(this.#random() * this.#recent.length)]!;
    return { kind: 'follow-up', payload: this.#followUpOf(event, target) };
  }

  #followUpOf(event: FollowUpEvent, sent: Sent): UnipileMessagingPayload {
    if (event === 'message_edited') {
      const fixed = sent.fixed ?? `${sent.payload.message ?? ''}!`;
      sent.fixed = null;
      return followUp(event, sent.payload, { message: fixed });
    }
    if (event !== 'message_reaction') return followUp(event, sent.payload);
    // Someone other than the author reacts: the account's user, or another person in the chat.
    const author = sent.payload.sender.attendee_id;
    const others = sent.payload.attendees.filter((attendee) => attendee.attendee_id !== author);
    return followUp(event, sent.payload, {
      reaction: this.#pick(REACTIONS),
      reaction_sender: others.length > 0 ? this.#pick(others) : sent.payload.sender,
    });
  }

  /** Exactly the bytes of something already sent, as a provider retry would be. */
  #duplicate(): TrafficItem {
    const earlier = this.#sent[Math.floor(this.#random() * this.#sent.length)];
    if (!earlier) return this.#message();
    return { kind: 'duplicate', payload: earlier };
  }

  /** A follow-up about a message that is sent right after it. */
  #outOfOrder(event: FollowUpEvent): TrafficItem {
    const message = this.#message();
    this.#queued.push(message);
    return { kind: 'out-of-order', payload: this.#followUpOf(event, this.#recent.at(-1)!) };
  }

  #status(): TrafficItem {
    const account = this.#pick(CAST_ACCOUNTS);
    const status = this.#weighted(STATUS_WEIGHTS);
    if (ATTENTION.has(status)) {
      // The owner fixes it a while later, as people do.
      this.#later.push({
        due: this.#count + 30 + Math.floor(this.#random() * 90),
        item: { kind: 'account-status', payload: accountStatus(account.id, 'RECONNECTED', account.type) },
      });
    }
    return { kind: 'account-status', payload: accountStatus(account.id, status, account.type) };
  }

  #weighted<T>(weights: readonly [T, number][]): T {
    const total = weights.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.#random() * total;
    for (const [value, weight] of weights) {
      roll -= weight;
      if (roll < 0) return value;
    }
    return weights.at(-1)![0];
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }
}
