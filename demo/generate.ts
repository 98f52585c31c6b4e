/**
 * Generates the demo set: 40 synthetic essays with a known latent quality (`metadata.quality`,
 * logits, mean 0, SD 1.5), which the mock judge decides from. Text is assembled from neutral
 * sentence templates — better essays get more developed paragraphs, linking words and examples —
 * so the set reads plausibly without any real person's writing.
 *
 *   npx tsx demo/generate.ts > demo/essays.jsonl
 */

import { seededRandom } from '#domain/random.ts';

const ESSAY_COUNT = 40;
const QUALITY_SD = 1.5;
const SEED = 20260405;

const random = seededRandom(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

function normal(): number {
  const u = Math.max(random(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const TOPICS = [
  'public libraries',
  'school gardens',
  'night trains',
  'city bicycles',
  'community radio',
  'local museums',
  'shared workshops',
  'river clean-ups',
];

const CLAIMS = [
  'deserve steady public funding',
  'make a town a better place to live',
  'teach skills that schools often miss',
  'bring different generations together',
];

const PLAIN = [
  'I think {topic} are good.',
  'Many people like {topic}.',
  '{Topic} are useful for everyone.',
  'There are lots of {topic} in my area.',
  'It is nice to have {topic}.',
];

const DEVELOPED = [
  'A common objection is cost, yet the running expenses of {topic} are small next to what they return.',
  'Consider a town where {topic} closed: within a few years, fewer residents met outside work.',
  'The strongest evidence comes from places that measured use before and after opening {topic}.',
  'This matters most for people who cannot pay for private alternatives.',
  'Critics are right that {topic} need good management, which is an argument for reform, not closure.',
];

const LINKS = ['Moreover,', 'However,', 'For example,', 'As a result,', 'In contrast,'];

function sentence(template: string, topic: string): string {
  const capital = topic.charAt(0).toUpperCase() + topic.slice(1);
  return template.replaceAll('{topic}', topic).replaceAll('{Topic}', capital);
}

function essayText(quality: number): string {
  const topic = pick(TOPICS);
  const claim = pick(CLAIMS);
  // Skill in [0, 1]: how many paragraphs and how much of each is developed argument.
  const skill = 1 / (1 + Math.exp(-quality));
  const paragraphs = 2 + Math.round(skill * 3);
  const parts = [sentence(`{Topic} ${claim}.`, topic)];
  for (let p = 0; p < paragraphs; p++) {
    const lines: string[] = [];
    const length = 2 + Math.round(skill * 3);
    for (let s = 0; s < length; s++) {
      const developed = random() < skill;
      const text = sentence(pick(developed ? DEVELOPED : PLAIN), topic);
      lines.push(
        developed && s > 0
          ? `${pick(LINKS)} ${text.charAt(0).toLowerCase()}${text.slice(1)}`
          : text,
      );
    }
    parts.push(lines.join(' '));
  }
  parts.push(
    skill > 0.5
      ? sentence('On balance, the case for {topic} is strong, provided they are run well.', topic)
      : sentence('So {topic} are good.', topic),
  );
  return parts.join('\n\n');
}

const lines: string[] = [];
for (let index = 0; index < ESSAY_COUNT; index++) {
  const quality = Number((QUALITY_SD * normal()).toFixed(3));
  const id = `demo-${String(index + 1).padStart(2, '0')}`;
  lines.push(JSON.stringify({ id, text: essayText(quality), metadata: { quality } }));
}
process.stdout.write(`${lines.join('\n')}\n`);
