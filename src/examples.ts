// Example payloads for the OpenAPI document, consistent with one another (the ids line up). The ids
// and slugs are those of the demo seed (src/db/seed.ts gives its rows these ids on an empty
// database), so every documented example works as it is against a freshly seeded server.
export const exampleIds = {
  article: '019ab8a4-6f10-7c2e-8d4b-3a5e9c1f2b70',
  author: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a11',
  /** An author nothing depends on (no byline, no masthead role): the one the delete example removes. */
  idleAuthor: '019ab8a4-4c5e-7d3a-9f1e-2b7c1d0e5a12',
  image: '019ab8a4-1b2c-7e4f-a5d6-c7e8f9a0b1c2',
  idleImage: '019ab8a4-1b2c-7e4f-a5d6-c7e8f9a0b1c3',
  role: '019ab8a4-9e8d-7c6b-a5f4-e3d2c1b0a9f8',
  section: '019ab8a4-5555-7666-8777-988899990000',
  idleSection: '019ab8a4-5555-7666-8777-988899990001',
  tag: '019ab8a4-6666-7777-8888-999900001111',
  idleTag: '019ab8a4-6666-7777-8888-999900001112',
  /** The demo live coverage, its article and its pinned entry. */
  liveArticle: '019ab8a4-7777-7888-9999-aaaabbbb0001',
  liveCoverage: '019ab8a4-7777-7888-9999-aaaabbbb0002',
  liveEntry: '019ab8a4-7777-7888-9999-aaaabbbb0003'
}
export const exampleSlugs = {
  article: 'contra-putin-russian-govt-admits-it-sent-conscripts-into-ukraine',
  author: 'alex-rowan',
  section: 'ukraine',
  tag: 'conscription',
  liveArticle: 'live-ukraines-parliament-votes-on-mobilization-law'
}
const at = '2026-11-25T06:00:00.000Z'

export const imageExample = {
  id: exampleIds.image,
  url: 'https://cdn.example.com/2022/02/putin-space-centre.jpg',
  mimeType: 'image/jpeg',
  width: 2048,
  height: 1365,
  bytes: 412345,
  altText: 'Vladimir Putin in a hard hat at a construction site',
  decorative: false,
  caption: 'Russian President Vladimir Putin visits the National Space Centre construction site in Moscow on February 27, 2022.',
  credit: 'Photo by Sergei Guneyev / Sputnik / AFP via Getty Images',
  photographer: 'Sergei Guneyev',
  agency: 'Sputnik / AFP',
  distributor: 'Getty Images',
  copyright: 'Editorial use only',
  source: 'AFP wire',
  focalPoint: { x: 0.42, y: 0.3 },
  contentHash: null,
  placeholder: null,
  createdAt: at,
  updatedAt: at
}

export const authorSummaryExample = { id: exampleIds.author, slug: exampleSlugs.author, name: 'Alex Rowan', jobTitle: 'Investigative Reporter', avatarImage: null }

export const authorExample = {
  ...authorSummaryExample,
  bio: 'Alex covers Russia, Ukraine and the war.',
  links: [{ label: 'Bluesky', url: 'https://bsky.app/profile/alexrowan.example' }],
  createdAt: at,
  updatedAt: at
}

export const bodyExample = [
  { type: 'promo', headline: 'Start your day with TPM.', text: 'Sign up for the Morning Memo newsletter', url: 'https://example.com/newsletters/morning-memo', linkText: 'Sign up' },
  { type: 'paragraph', text: 'Russian President Vladimir Putin has emphasized that, whatever else happens, he won’t let Russian conscripts go into the Ukraine meat grinder.' },
  { type: 'blockquote', text: 'A group of soldiers, including conscripts, has been taken captive.', attribution: 'Russia’s defense ministry' }
]

export const articleSummaryExample = {
  id: exampleIds.article,
  slug: exampleSlugs.article,
  headline: 'Contra Putin, Russian Govt Admits It Sent Conscripts Into Ukraine',
  dek: 'The defense ministry says conscripts were found in units fighting in Ukraine.',
  kicker: 'Ukraine',
  status: 'published',
  publishedAt: '2022-03-09T17:45:00.000Z',
  createdAt: at,
  updatedAt: at,
  version: 3,
  leadImage: imageExample,
  section: { id: exampleIds.section, slug: exampleSlugs.section, name: 'Ukraine' },
  tags: [{ id: exampleIds.tag, slug: exampleSlugs.tag, name: 'Conscription' }],
  bylines: [{ position: 0, role: 'reporter', author: authorSummaryExample }],
  readingTimeMinutes: 1,
  embargo: null
}

export const articleExample = {
  ...articleSummaryExample,
  metaTitle: null,
  metaDescription: 'Russia’s defense ministry admits conscripts were sent into Ukraine.',
  canonicalUrl: null,
  body: bodyExample,
  bodyHtml: '<aside class="promo"><p class="promo-headline">Start your day with TPM.</p><p>Sign up for the Morning Memo newsletter</p><a href="https://example.com/newsletters/morning-memo">Sign up</a></aside>\n<p>Russian President Vladimir Putin has emphasized that, whatever else happens, he won’t let Russian conscripts go into the Ukraine meat grinder.</p>\n<blockquote><p>A group of soldiers, including conscripts, has been taken captive.</p><footer>— <cite>Russia’s defense ministry</cite></footer></blockquote>',
  bodyText: 'Russian President Vladimir Putin has emphasized that, whatever else happens, he won’t let Russian conscripts go into the Ukraine meat grinder.\n\nA group of soldiers, including conscripts, has been taken captive. — Russia’s defense ministry',
  wordCount: 35,
  corrections: [{ id: '019ab8a4-1111-7222-8333-944455556666', kind: 'correction', text: 'An earlier version of this story misstated the size of the company.', createdAt: '2022-03-10T09:00:00.000Z' }],
  kill: null
}

export const mastheadRoleExample = {
  id: exampleIds.role,
  title: 'Founder & Editor-in-Chief',
  department: 'Editorial',
  position: 0,
  vacant: false,
  holder: authorSummaryExample,
  createdAt: at,
  updatedAt: at
}

/**
 * A whole GIF of one pixel whose bytes are all ASCII, so that a JSON example can carry it and the
 * upload examples can be sent as they are (a real photo's bytes cannot be written in JSON).
 */
export const onePixelGif = 'GIF89a\u0001\u0000\u0001\u0000\u0000\u0000\u0000,\u0000\u0000\u0000\u0000\u0001\u0000\u0001\u0000\u0000\u0002\u0002D\u0001\u0000;'
