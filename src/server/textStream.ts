import { POOLS_PER_TURN, nextTurn } from '../util/turn';

/** Where a long text goes, a piece at a time; resolves when it may take more. */
export type WriteText = (chunk: string) => Promise<void>;

/**
 * Write `prefix`, then `part(item, index)` for every item, `perPiece` items per piece, letting
 * the event loop answer queries between pieces: built in one go, the text of a large store
 * would hold the answering thread for the whole scrape (docs/metrics.md, "Cost").
 */
export async function writeSliced<T>(
  items: readonly T[],
  part: (item: T, index: number) => string,
  write: WriteText,
  prefix = '',
  perPiece = POOLS_PER_TURN,
): Promise<void> {
  let piece: string[] = [prefix];
  for (let i = 0; i < items.length; i++) {
    piece.push(part(items[i] as T, i));
    if ((i + 1) % perPiece === 0 && i + 1 < items.length) {
      await write(piece.join(''));
      piece = [];
      await nextTurn();
    }
  }
  await write(piece.join(''));
}

/** A WriteText that keeps everything, for tests and small documents. */
export function textCollector(): { write: WriteText; text: () => string } {
  const parts: string[] = [];
  return { write: async (chunk) => void parts.push(chunk), text: () => parts.join('') };
}
