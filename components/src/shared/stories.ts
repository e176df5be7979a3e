/**
 * What the elements' stories share (Component Story Format 3, as plain objects: no Storybook package is
 * needed to write or test them).
 */

export interface StoryContext {
  canvasElement: HTMLElement;
}

export interface Story<Args> {
  name?: string;
  args?: Partial<Args>;
  play?: (context: StoryContext) => Promise<void>;
}

/** The controls every element's stories have: its theme and its language. */
export const THEME_AND_LANGUAGE = {
  theme: { control: 'inline-radio', options: ['light', 'dark'] },
  lang: { control: 'inline-radio', options: ['en', 'de'] },
} as const;

/** Polls until `find` returns something (an element renders after its requests answer). */
export async function until<T>(find: () => T | null | undefined, what: string): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = find();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  throw new Error(`${what} did not appear`);
}
