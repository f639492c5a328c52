import {
  ACCOUNT_STATUSES,
  accountStatus,
  type FakeAccount,
  fakeAccount,
  fakeAttachment,
  followUp,
  MESSAGING_EVENTS,
  type MessagingEvent,
  messageReceived,
  ownEcho,
  type UnipileAccountStatusPayload,
  type UnipileMessagingPayload,
} from './payloads.js';

export type TrafficPayload = UnipileMessagingPayload | UnipileAccountStatusPayload;

/** Why a payload is in the stream, for summaries and tests. */
export type TrafficKind = 'message' | 'follow-up' | 'duplicate' | 'out-of-order' | 'account-status';

export interface TrafficItem {
  kind: TrafficKind;
  payload: TrafficPayload;
}

type FollowUpEvent = Exclude<MessagingEvent, 'message_received'>;
const FOLLOW_UPS = MESSAGING_EVENTS.filter((event): event is FollowUpEvent => event !== 'message_received');

/**
 * An endless stream of realistic Unipile traffic over a few accounts and chats: new messages
 * (some sent by the account itself, on WhatsApp half of those as `is_sender` echoes, some with
 * attachments), every follow-up event, exact
 * duplicates (what Unipile's retries look like), follow-ups that arrive before their message,
 * and account status changes. The first items tour every kind, so even a short run covers all.
 */
export class TrafficScenario {
  readonly #random: () => number;
  readonly #accounts: FakeAccount[];
  readonly #chats: { account: FakeAccount; chatId: string }[];
  readonly #recent: UnipileMessagingPayload[] = [];
  readonly #sent: TrafficPayload[] = [];
  readonly #queued: TrafficItem[] = [];
  #count = 0;

  constructor(random: () => number = Math.random) {
    this.#random = random;
    this.#accounts = [fakeAccount('WHATSAPP'), fakeAccount('LINKEDIN'), fakeAccount('TELEGRAM')];
    this.#chats = Array.from({ length: 12 }, (_, index) => ({
      account: this.#accounts[index % this.#accounts.length]!,
      chatId: `chat_${index}_${Math.floor(this.#random() * 1e9).toString(36)}`,
    }));
  }

  next(): TrafficItem {
    const item = this.#queued.shift() ?? this.#generate();
    this.#count++;
    this.#sent.push(item.payload);
    if (this.#sent.length > 200) this.#sent.shift();
    return item;
  }

  #generate(): TrafficItem {
    const tour = this.#tour();
    if (tour) return tour;
    const roll = this.#random();
    if (roll < 0.55 || this.#recent.length === 0) return this.#message();
    if (roll < 0.8) return this.#followUp(this.#pick(FOLLOW_UPS));
    if (roll < 0.88) return this.#duplicate();
    if (roll < 0.95) return this.#outOfOrder(this.#pick(FOLLOW_UPS));
    return this.#status();
  }

  /** The first items: one of each kind and event type, in an order that makes each valid. */
  #tour(): TrafficItem | undefined {
    const step = this.#count;
    if (step === 0) return this.#message();
    if (step >= 1 && step <= FOLLOW_UPS.length) return this.#followUp(FOLLOW_UPS[step - 1]!);
    if (step === FOLLOW_UPS.length + 1) return this.#duplicate();
    if (step === FOLLOW_UPS.length + 2) return this.#outOfOrder('message_reaction');
    if (step === FOLLOW_UPS.length + 3) return this.#status();
    return undefined;
  }

  #message(): TrafficItem {
    const chat = this.#pick(this.#chats);
    const fromAccount = this.#random() < 0.15;
    const options = {
      account: chat.account,
      chatId: chat.chatId,
      text: `message ${this.#count}`,
      fromAccount,
      ...(this.#random() < 0.1 ? { attachments: [fakeAttachment()] } : {}),
    };
    // WhatsApp also echoes the account's own messages with is_sender and only its phone number.
    const echo = fromAccount && chat.account.type === 'WHATSAPP' && this.#random() < 0.5;
    const payload = echo ? ownEcho(options) : messageReceived(options);
    this.#remember(payload);
    return { kind: 'message', payload };
  }

  #followUp(event: FollowUpEvent): TrafficItem {
    const original =
      this.#recent[this.#recent.length - 1 - Math.floor(this.#random() * this.#recent.length)]!;
    return { kind: 'follow-up', payload: followUp(event, original) };
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
    return { kind: 'out-of-order', payload: followUp(event, message.payload as UnipileMessagingPayload) };
  }

  #status(): TrafficItem {
    const account = this.#pick(this.#accounts);
    return {
      kind: 'account-status',
      payload: accountStatus(account.id, this.#pick(ACCOUNT_STATUSES), account.type),
    };
  }

  #remember(payload: UnipileMessagingPayload): void {
    this.#recent.push(payload);
    if (this.#recent.length > 100) this.#recent.shift();
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }
}
