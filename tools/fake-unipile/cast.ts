import type { FakeAccount, UnipileAttendee } from './payloads.js';

/**
 * The people the fake provider's traffic is about: four accounts of one user on four networks,
 * and the chats on them (one-to-one and groups), each with a short script of how the
 * conversation goes. Ids are fixed, so repeated runs add to the same chats.
 */

/** A small seeded generator (mulberry32): the same seed gives the same sequence in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** An id in the provider's style (22 characters of base62), drawn from `random`. */
export function providerId(random: () => number, length = 22): string {
  let id = '';
  for (let index = 0; index < length; index++) id += ALPHABET[Math.floor(random() * ALPHABET.length)];
  return id;
}

/** A file a message can carry, in the shape real payloads have. */
export interface FakeFile {
  type: 'img' | 'video' | 'audio' | 'file';
  filename: string;
  mimetype: string;
  bytes: number;
}

/** One line of a scripted conversation: who says it (`me`, or an attendee's index) and what. */
export interface ScriptLine {
  from: 'me' | number;
  text: string | null;
  file?: FakeFile;
}

/** One scripted chat of the cast: its account, people, opening lines and tone. */
export interface CastChat {
  account: FakeAccount;
  chatId: string;
  subject: string | null;
  /** Everyone in the chat but the account's user. */
  people: UnipileAttendee[];
  script: ScriptLine[];
  /** The register of the filler lines once the script has run out. */
  tone: 'friends' | 'work' | 'group';
}

const ids = seededRandom(20_260_127);

function account(type: FakeAccount['type']): FakeAccount {
  const id = providerId(ids);
  const userId =
    type === 'WHATSAPP'
      ? '33612480357@s.whatsapp.net'
      : type === 'LINKEDIN'
        ? `ACoAA${providerId(ids, 34)}`
        : String(Math.floor(ids() * 1e10));
  return { id, type, userId };
}

const ACCOUNTS = {
  whatsapp: account('WHATSAPP'),
  linkedin: account('LINKEDIN'),
  instagram: account('INSTAGRAM'),
  telegram: account('TELEGRAM'),
};

/** The accounts of the traffic, one per network. */
export const CAST_ACCOUNTS: readonly FakeAccount[] = Object.values(ACCOUNTS);

function person(type: FakeAccount['type'], name: string, handle: string): UnipileAttendee {
  const attendeeId = providerId(ids);
  switch (type) {
    case 'WHATSAPP':
      return {
        attendee_id: attendeeId,
        attendee_name: name,
        attendee_provider_id: `336${String(Math.floor(ids() * 1e8)).padStart(8, '0')}@s.whatsapp.net`,
      };
    case 'LINKEDIN': {
      const id = `ACoAA${providerId(ids, 34)}`;
      return {
        attendee_id: attendeeId,
        attendee_name: name,
        attendee_provider_id: id,
        attendee_profile_url: `https://www.linkedin.com/in/${handle}`,
      };
    }
    case 'INSTAGRAM':
      return {
        attendee_id: attendeeId,
        attendee_name: name,
        attendee_provider_id: String(Math.floor(ids() * 1e11)),
        attendee_profile_url: `https://www.instagram.com/${handle}`,
      };
    case 'TELEGRAM':
      return {
        attendee_id: attendeeId,
        attendee_name: name,
        attendee_provider_id: String(Math.floor(ids() * 1e10)),
        attendee_profile_url: `https://t.me/${handle}`,
      };
  }
}

const file = (type: FakeFile['type'], filename: string, mimetype: string, bytes: number): FakeFile => ({
  type,
  filename,
  mimetype,
  bytes,
});

function chat(
  key: keyof typeof ACCOUNTS,
  people: [string, string][],
  tone: CastChat['tone'],
  script: ScriptLine[],
  subject: string | null = null,
): CastChat {
  const owner = ACCOUNTS[key];
  return {
    account: owner,
    chatId: providerId(ids),
    subject,
    people: people.map(([name, handle]) => person(owner.type, name, handle)),
    script,
    tone,
  };
}

const me = (text: string, extra: Partial<ScriptLine> = {}): ScriptLine => ({ from: 'me', text, ...extra });
const them = (text: string | null, extra: Partial<ScriptLine> = {}, from = 0): ScriptLine => ({
  from,
  text,
  ...extra,
});

/** The chats of the traffic, in no particular order. */
export const CAST_CHATS: readonly CastChat[] = [
  chat('whatsapp', [['Camille Dubois', 'camille']], 'friends', [
    them('Are we still on for dinner on Friday?'),
    me('Yes! 8pm at the Lebanese place?'),
    them('Perfect. I booked a table for four'),
    them('This is the menu, the mezze platter looks amazing', {
      file: file('file', 'menu-le-cedre.pdf', 'application/pdf', 284_113),
    }),
    me('Sold. Shall I bring Noor too?'),
    them('Of course 😊'),
  ]),
  chat(
    'whatsapp',
    [
      ['Hélène Martin', 'helene'],
      ['Jacques Martin', 'jacques'],
      ['Léa Martin', 'lea'],
    ],
    'group',
    [
      them('Who is coming for Sunday lunch?', {}, 0),
      them('Me! I will bring dessert', {}, 2),
      me('Count me in, arriving around noon'),
      them(null, { file: file('img', 'IMG_3318.jpg', 'image/jpeg', 2_204_551) }, 1),
      them('The tomatoes are finally ripe 🍅', {}, 1),
      them('They look wonderful!', {}, 0),
    ],
    'Family 🏡',
  ),
  chat('whatsapp', [['Tomás Herrera', 'tomas']], 'friends', [
    them('Can I borrow your tent next weekend?'),
    me('Sure, it is in the garage. The poles are in the blue bag'),
    them('Legend. Going to the Vercors if the weather holds'),
    them('Forecast looks good', { file: file('img', 'forecast.png', 'image/png', 148_320) }),
  ]),
  chat('linkedin', [['Priyanka Shah', 'priyanka-shah']], 'work', [
    them(
      'Hi! I lead engineering hiring at Northwind. Your talk on realtime systems caught my eye. Open to a chat?',
    ),
    me('Thanks Priyanka, happy to hear more. What is the role?'),
    them('Staff engineer on the messaging platform, remote-friendly. Job description attached', {
      file: file('file', 'Northwind-Staff-Engineer.pdf', 'application/pdf', 182_904),
    }),
    me('Looks interesting. Does Thursday 3pm work for a call?'),
    them('Thursday 3pm works. I will send an invite'),
  ]),
  chat('linkedin', [['Daniel Okafor', 'danielokafor']], 'work', [
    them('Great catching up at the meetup last week'),
    me('Likewise! Did you get the slides?'),
    them('Not yet, could you send them over?'),
    me('Here you go', { file: file('file', 'webhooks-at-scale.pdf', 'application/pdf', 3_512_400) }),
    them('Thanks, sharing with the team'),
  ]),
  chat('linkedin', [['Mei Lin', 'mei-lin-dev']], 'work', [
    them('We would love to have you speak at DevCon Lyon in March. Interested?'),
    me('I would be glad to. What format?'),
    them('30 minute talk plus Q&A. We cover travel and two nights'),
  ]),
  chat('instagram', [['Nadia Rahman', 'nadia.rahman.photo']], 'friends', [
    them('Loved your story from the coast!'),
    me('Thank you! Your shots from last week were stunning'),
    them('Here is the one I told you about', {
      file: file('img', 'golden-hour.jpg', 'image/jpeg', 4_810_221),
    }),
    them('Want to do a shoot together in spring?'),
  ]),
  chat('instagram', [['Luca Romano', 'forno.romano']], 'work', [
    me('Hi, do you still take orders for Saturday?'),
    them('Yes! Sourdough and focaccia until Friday noon'),
    me('Two sourdough loaves please, pickup at 10'),
    them('Noted, see you Saturday 🥖'),
  ]),
  chat(
    'telegram',
    [
      ['Kenji Watanabe', 'kenjiw'],
      ['Sofia Almeida', 'sofia_dev'],
      ['Oskar Nilsson', 'oskarn'],
    ],
    'group',
    [
      them('Release candidate 2.3 is tagged', {}, 0),
      them('CI is green on all three platforms', {}, 1),
      me('Nice. I will write the changelog tonight'),
      them(
        'Found a flaky test in the reconnect suite, log attached',
        {
          file: file('file', 'ci-run-4812.log', 'text/plain', 58_112),
        },
        2,
      ),
      them('On it', {}, 0),
    ],
    'Maintainers',
  ),
  chat('telegram', [['Amara Nwosu', 'amaranwosu']], 'friends', [
    them('Are you at the coworking today?'),
    me('Arriving in 20 minutes'),
    them('Grab me a flat white on the way? ☕'),
    them(null, { file: file('audio', 'voice-message.ogg', 'audio/ogg', 27_904) }),
  ]),
];

/** Small talk once a chat's script has run out, by tone. */
export const SMALL_TALK: Record<CastChat['tone'], readonly string[]> = {
  friends: [
    'Haha, exactly',
    'See you then!',
    'Running 10 minutes late, sorry',
    'Did you watch the match last night?',
    'Sounds good to me',
    'Let me check and get back to you',
    'Happy birthday to your sister! 🎉',
    'That place was closed, going to the one next door',
    'Thanks again for yesterday',
    'Call me when you are free',
    'No worries at all',
    'On my way',
    'Have you finished the book?',
    'It is pouring here, take an umbrella',
    'I left my keys at yours, can I pass by tonight?',
    'What time does the film start?',
    'Made your lasagne recipe, a triumph',
    'Home safe, good night',
  ],
  work: [
    'Thanks for the update',
    'Could we move our call to 4pm?',
    'I will review it this afternoon',
    'Sounds great, let us keep in touch',
    'Sending the details by email',
    'Congratulations on the new role!',
    'Do you have a few minutes tomorrow?',
    'Following up on my previous message',
    'Appreciate the introduction',
    'Happy to help',
    'The contract is signed on our side',
    'I am out next week, back on the 12th',
    'Can you share the latest numbers?',
    'Great meeting you today',
    'Let me loop in my colleague',
    'Is the budget confirmed?',
  ],
  group: [
    '+1',
    'Who is bringing the charger?',
    'I can do Saturday, not Sunday',
    'Good point',
    'Agreed',
    'Let us vote: pizza or sushi?',
    'Merged, thanks everyone',
    'Back online',
    'Same here',
    'Running late, start without me',
    'Anyone seen the blue umbrella?',
    'Reverted, my bad',
    'Booked the table for 8',
    'Who has the spare key?',
    'Done ✅',
    'I will pick up the cake',
  ],
};

/** How a line of small talk may start and end, by tone. */
export const FLOURISHES: Record<CastChat['tone'], { before: readonly string[]; after: readonly string[] }> = {
  friends: { before: ['Haha, ', 'Oh, ', 'Btw, ', 'Ok! '], after: [' 😄', ' 🙌', ' 😅', '!!'] },
  work: { before: ['Hi! ', 'Quick one: '], after: [' 🙏', ' Thanks!'] },
  group: { before: ['Ok, ', 'Also, '], after: [' 👍', ' 🙂', ' lol'] },
};

/** Lines that come with a file, for small talk. */
export const FILE_LINES: readonly ScriptLine[] = [
  { from: 0, text: 'Photos from today 📸', file: file('img', 'IMG_2041.jpg', 'image/jpeg', 1_843_210) },
  { from: 0, text: 'Look at this', file: file('img', 'screenshot.png', 'image/png', 312_877) },
  { from: 0, text: 'Here are my notes', file: file('file', 'notes.pdf', 'application/pdf', 96_412) },
  { from: 0, text: null, file: file('audio', 'voice-message.ogg', 'audio/ogg', 41_230) },
  { from: 0, text: 'Best moment of the day', file: file('video', 'VID_0193.mp4', 'video/mp4', 8_412_005) },
  {
    from: 0,
    text: 'The spreadsheet',
    file: file(
      'file',
      'budget-2027.xlsx',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      48_930,
    ),
  },
];
