// How generated text is cut into stream deltas.

const WORDS_PER_CHUNK = 8;

/** About eight words per chunk, or exactly `pieces` chunks when given. Joined, the chunks give `text` back. */
export function splitText(text: string, pieces?: number): string[] {
  if (text.length === 0) return [];
  const words = text.match(/\s*\S+\s*/g) ?? [text];
  if (pieces === undefined) return group(words, Math.ceil(words.length / WORDS_PER_CHUNK));
  const wanted = Math.max(1, Math.floor(pieces));
  if (words.length >= wanted) return group(words, wanted);
  return group(Array.from(text), Math.min(wanted, Array.from(text).length));
}

/** Tool input JSON goes out as fragments that are not valid JSON on their own, as on Bedrock. */
export function splitJson(json: string, pieces?: number): string[] {
  const characters = Array.from(json);
  return group(characters, Math.min(characters.length, Math.max(1, Math.floor(pieces ?? 3))));
}

function group(parts: string[], groups: number): string[] {
  const result: string[] = [];
  for (let index = 0; index < groups; index += 1) {
    const start = Math.floor((index * parts.length) / groups);
    const end = Math.floor(((index + 1) * parts.length) / groups);
    result.push(parts.slice(start, end).join(""));
  }
  return result;
}
