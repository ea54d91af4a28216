// Demo content modelled on shared/reference/sample-article.txt: the article with its photo
// caption and credit, quotes and newsletter promo, a few more stories for "Latest News", and the
// masthead. It goes through the services, so it obeys the same rules as the API.
import type { Database } from './client.ts'
import * as images from '../images/service.ts'
import * as authors from '../authors/service.ts'
import * as articles from '../articles/service.ts'
import * as masthead from '../masthead/service.ts'
import * as taxonomy from '../taxonomy/service.ts'
import { exampleIds } from '../examples.ts'
import type { BodyBlock } from '../articles/body.ts'
import { systemActor } from '../keys/roles.ts'
import { seedLiveCoverage } from '../live/service.ts'

/** The demo seed writes through the services, and is audited as such. */
const seeder = systemActor('demo seed')

const promo: BodyBlock = { type: 'promo', headline: 'Start your day with TPM.', text: 'Sign up for the Morning Memo newsletter', url: 'https://example.com/newsletters/morning-memo', linkText: 'Sign up' }

const conscriptsBody: BodyBlock[] = [
  promo,
  { type: 'paragraph', text: 'Russian President Vladimir Putin has emphasized that, whatever else happens, he won’t let Russian conscripts go into the Ukraine meat grinder.' },
  { type: 'paragraph', text: 'Russia has mandatory one year of military service for men. On Wednesday, the country’s military suggested that it might have made a bit of a mistake: to the surprise of top Russian brass, it turns out that “the presence of conscript soldiers have been uncovered in units of the Russian armed forces, participating in the special operation in Ukraine.”' },
  { type: 'paragraph', text: 'The supposed discover came, the military said, after Ukrainian forces attacked a supply column with conscripts.' },
  { type: 'blockquote', text: 'A group of soldiers, including conscripts, has been taken captive.', attribution: 'Russia’s defense ministry, in a statement' },
  { type: 'paragraph', text: 'The use of conscripts has the potential to be particularly sensitive for Putin, in part because service is mandatory. Reports have consistently suggested that some conscripts are forced to sign contracts to extend their service.' },
  { type: 'blockquote', text: 'Yesterday, conscripts were removed from the zone of military activities — they had been forced to sign contracts, or had their signatures signed for them. Only four people were left alive out of a company of 100.', attribution: 'Russian senator Lyudmila Narusova, last week' },
  { type: 'paragraph', text: 'Russia’s Ministry of Defense said in the Wednesday statement that it intends to remove all conscripts from Ukraine.' },
  { type: 'paragraph', text: 'A number of reports from Russian military funerals suggest that there have been soldiers who died in Ukraine that initially began as conscripts, but subsequently signed a contract before the invasion.' },
  { type: 'paragraph', text: 'Aleksandr Ivanov of Yakutia reportedly was conscripted before “transitioning to contract service,” the region’s governor said. Ivanov was killed in action.' },
  { type: 'blockquote', text: 'Aleksandr was only 22, he dedicated his life to selfless service of the motherland and remained faithful to his military oath until his last day.', attribution: 'the governor of Yakutia' }
]

const mastheadTitles: Array<[title: string, department: string]> = [
  ['Founder & Editor-in-Chief', 'Editorial'],
  ['Executive Editor', 'Editorial'],
  ['Managing Editor', 'Editorial'],
  ['Associate Editor', 'Editorial'],
  ['Editor at Large', 'Editorial'],
  ['General Counsel', 'Business'],
  ['Head of Product', 'Product'],
  ['Director of Technology', 'Product'],
  ['Associate Publisher', 'Business'],
  ['Front End Developer', 'Product'],
  ['Senior Designer', 'Product']
]

export interface SeedSummary { articles: number, authors: number, images: number, roles: number, sections: number, tags: number }

export async function isEmpty (db: Database): Promise<boolean> {
  const counts = await Promise.all([db.article.count(), db.author.count(), db.image.count(), db.mastheadRole.count()])
  return counts.every((count) => count === 0)
}

export async function seedDemoContent (db: Database): Promise<SeedSummary> {
  // The documented examples name these rows by id (src/examples.ts). Seeded a second time into the
  // same database, the rows get fresh ids instead of colliding.
  const first = await isEmpty(db)
  const fixed = (id: string) => first ? { id } : {}
  const putinPhoto = await images.createOne(db, {
    ...fixed(exampleIds.image),
    url: 'https://images.example.com/2022/02/putin-national-space-centre.jpg',
    mimeType: 'image/jpeg',
    width: 2048,
    height: 1365,
    altText: 'Vladimir Putin, in a hard hat, tours a construction site',
    caption: 'TOPSHOT - Russian President Vladimir Putin visits the National Space Centre construction site in Moscow on February 27, 2022.',
    credit: 'Photo by Sergei Guneyev / Sputnik / AFP via Getty Images',
    photographer: 'Sergei Guneyev',
    agency: 'Sputnik / AFP',
    distributor: 'Getty Images',
    copyright: 'Editorial use only. © AFP'
  }, seeder)
  const capitolPhoto = await images.createOne(db, {
    url: 'https://images.example.com/2022/03/capitol-dusk.jpg',
    mimeType: 'image/jpeg',
    width: 1600,
    height: 1067,
    altText: 'The U.S. Capitol dome at dusk',
    caption: 'The U.S. Capitol at dusk.',
    photographer: 'Jordan Vale',
    agency: 'Copydesk Staff'
  }, seeder)

  // Filed away, used by no article: the delete examples remove it.
  await images.createOne(db, {
    ...fixed(exampleIds.idleImage),
    url: 'https://images.example.com/2022/03/kyiv-skyline.jpg',
    mimeType: 'image/jpeg',
    width: 1600,
    height: 1067,
    altText: 'The Kyiv skyline at dawn',
    photographer: 'Jordan Vale',
    agency: 'Copydesk Staff'
  }, seeder)

  const staff = {
    editor: await authors.createOne(db, { name: 'Morgan Hale', jobTitle: 'Founder & Editor-in-Chief', bio: 'Morgan founded the site and edits it.', email: 'morgan@example.com', links: [{ label: 'Website', url: 'https://example.com/morgan' }] }, seeder),
    managing: await authors.createOne(db, { name: 'Priya Natarajan', jobTitle: 'Managing Editor', email: 'priya@example.com' }, seeder),
    reporter: await authors.createOne(db, { ...fixed(exampleIds.author), name: 'Alex Rowan', jobTitle: 'Investigative Reporter', bio: 'Alex covers Russia, Ukraine and the war.', email: 'alex@example.com', links: [{ label: 'Bluesky', url: 'https://bsky.app/profile/alexrowan.example' }] }, seeder),
    washington: await authors.createOne(db, { name: 'Dana Brooks', jobTitle: 'Washington Correspondent', email: 'dana@example.com' }, seeder),
    designer: await authors.createOne(db, { name: 'Sam Ortiz', jobTitle: 'Senior Designer' }, seeder),
    photographer: await authors.createOne(db, { ...fixed(exampleIds.idleAuthor), name: 'Jordan Vale', jobTitle: 'Staff Photographer' }, seeder)
  }
  const sections = {
    ukraine: await taxonomy.createOne(db, 'section', { ...fixed(exampleIds.section), name: 'Ukraine', description: 'The war in Ukraine and its consequences' }, seeder),
    washington: await taxonomy.createOne(db, 'section', { name: 'Washington', description: 'Congress, the White House and the courts' }, seeder),
    opinion: await taxonomy.createOne(db, 'section', { ...fixed(exampleIds.idleSection), name: 'Opinion', description: 'Columns and editorials' }, seeder)
  }
  const tags = {
    conscription: await taxonomy.createOne(db, 'tag', { ...fixed(exampleIds.tag), name: 'Conscription' }, seeder),
    russia: await taxonomy.createOne(db, 'tag', { name: 'Russia' }, seeder),
    congress: await taxonomy.createOne(db, 'tag', { name: 'Congress' }, seeder),
    sanctions: await taxonomy.createOne(db, 'tag', { ...fixed(exampleIds.idleTag), name: 'Sanctions' }, seeder)
  }

  const stories = [
    {
      ...fixed(exampleIds.article),
      headline: 'Contra Putin, Russian Govt Admits It Sent Conscripts Into Ukraine',
      kicker: 'Ukraine',
      sectionId: sections.ukraine.id,
      tagIds: [tags.conscription.id, tags.russia.id],
      dek: 'The defense ministry says conscripts were found in units fighting in Ukraine.',
      leadImageId: putinPhoto.id,
      body: conscriptsBody,
      bylines: [{ authorId: staff.reporter.id, role: 'reporter' }],
      publishedAt: '2022-03-09T17:45:00.000Z',
      metaDescription: 'Russia’s defense ministry admits conscripts were sent into Ukraine.'
    },
    {
      headline: 'Senate Leaders Strike Deal on Ukraine Aid Package',
      kicker: 'Congress',
      sectionId: sections.washington.id,
      tagIds: [tags.congress.id],
      leadImageId: capitolPhoto.id,
      body: [{ type: 'paragraph', text: 'Senate leaders reached a bipartisan agreement on Wednesday night on an emergency aid package for Ukraine.' }, promo] as BodyBlock[],
      bylines: [{ authorId: staff.washington.id, role: 'reporter' }, { authorId: staff.reporter.id, role: 'additional reporting' }],
      publishedAt: '2022-03-09T21:10:00.000Z'
    },
    {
      headline: 'What We Know About the Convoy Outside Kyiv',
      kicker: 'Ukraine',
      sectionId: sections.ukraine.id,
      tagIds: [tags.russia.id],
      body: [
        { type: 'paragraph', text: 'Satellite images show the <em>40-mile</em> column has barely moved in a week.' },
        { type: 'list', style: 'bulleted', items: ['Fuel shortages', 'Stalled supply lines', 'Muddy terrain'] }
      ] as BodyBlock[],
      bylines: [{ authorId: staff.reporter.id, role: 'reporter' }],
      publishedAt: '2022-03-08T14:00:00.000Z'
    },
    {
      headline: 'Morning Memo: The Week Ahead in Washington',
      kicker: 'Morning Memo',
      sectionId: sections.washington.id,
      body: [{ type: 'heading', level: 2, text: 'On the calendar' }, { type: 'paragraph', text: 'Hearings, a budget deadline and a State of the Union rebuttal.' }] as BodyBlock[],
      bylines: [{ authorId: staff.editor.id, role: 'editor' }],
      publishedAt: '2022-03-07T11:00:00.000Z'
    }
  ]
  for (const [index, story] of stories.entries()) {
    const article = await articles.createOne(db, { ...story, status: 'published' }, seeder)
    // A second version of the lead story, so that its revisions and their comparison have something to show.
    if (index === 0) await articles.updateOne(db, article.id, { dek: 'The defense ministry says conscripts were found in units fighting in Ukraine, despite the president’s assurances.' }, seeder)
  }
  await articles.createOne(db, {
    headline: 'Draft: Inside the Sanctions Fight',
    body: [{ type: 'paragraph', text: 'Reporting in progress.' }],
    bylines: [{ authorId: staff.washington.id }]
  }, seeder)

  await seedLiveCoverage(db, { ...(first ? { article: exampleIds.liveArticle, coverage: exampleIds.liveCoverage, entry: exampleIds.liveEntry } : {}) }, staff.reporter.id, sections.ukraine.id, seeder)

  const holders: Record<string, string> = {
    'Founder & Editor-in-Chief': staff.editor.id,
    'Managing Editor': staff.managing.id,
    'Senior Designer': staff.designer.id
  }
  for (const [title, department] of mastheadTitles) {
    await masthead.createOne(db, { ...(title === 'Founder & Editor-in-Chief' ? fixed(exampleIds.role) : {}), title, department, holderId: holders[title] ?? null }, seeder)
  }
  return { articles: stories.length + 2, authors: Object.keys(staff).length, images: 3, roles: mastheadTitles.length, sections: Object.keys(sections).length, tags: Object.keys(tags).length }
}

/** Seeds only a database with no content at all; returns whether it did. */
export async function seedIfEmpty (db: Database): Promise<boolean> {
  if (!await isEmpty(db)) return false
  await seedDemoContent(db)
  return true
}
