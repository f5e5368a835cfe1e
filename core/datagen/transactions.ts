/**
 * A deterministic generator of card transactions shaped like the seed dataset (AWS fraud post):
 * by default 10,000 cards over 5 months, about 5.4M transactions, about 0.25% of them fraudulent,
 * fraud appearing as bursts of rapid transactions on one card (the pattern 10-minute windows catch).
 *
 * Output is produced one day at a time, sorted by (trans_time, card), as columnar batches, so a
 * writer can stream it into Parquet row groups. The same options always give the same rows.
 */
import { Prng } from './prng.js';

export interface TransactionGenOptions {
  readonly cards: number;
  readonly months: number;
  readonly seed: number;
  /** Share of fraudulent transactions (0.0025 = 0.25%). */
  readonly fraudRate: number;
  /** First day (UTC midnight), epoch ms. */
  readonly start: number;
}

export const DEFAULT_GEN_OPTIONS: TransactionGenOptions = {
  cards: 10_000,
  months: 5,
  seed: 42,
  fraudRate: 0.0025,
  start: Date.UTC(2020, 0, 1),
};

/** Mean genuine transactions per card and day (5.4M / 10,000 cards / 152 days). */
export const TX_PER_CARD_DAY = 3.55;

export const CATEGORIES = [
  'grocery_pos', 'gas_transport', 'home', 'shopping_pos', 'kids_pets', 'shopping_net', 'entertainment',
  'food_dining', 'personal_care', 'health_fitness', 'misc_pos', 'misc_net', 'grocery_net', 'travel',
] as const;

/** One day of transactions, columnar, sorted by time. */
export interface TransactionBatch {
  readonly rows: number;
  /** Transaction id: a running number over the whole dataset. */
  readonly tid: Float64Array;
  readonly ccNum: string[];
  /** Epoch ms. */
  readonly transTime: Float64Array;
  readonly amount: Float64Array;
  readonly merchant: string[];
  readonly category: string[];
  /** 1 for fraud, 0 otherwise (the label). */
  readonly isFraud: Int32Array;
}

/** Column names and types, in output order. */
export const TRANSACTION_COLUMNS = [
  { name: 'tid', type: 'long', required: true },
  { name: 'cc_num', type: 'string', required: true },
  { name: 'trans_time', type: 'timestamp', required: true },
  { name: 'amount', type: 'double', required: true },
  { name: 'merchant', type: 'string', required: true },
  { name: 'category', type: 'string', required: true },
  { name: 'is_fraud', type: 'int', required: true },
] as const;

export function batchColumns(b: TransactionBatch): ArrayLike<unknown>[] {
  return [b.tid, b.ccNum, b.transTime, b.amount, b.merchant, b.category, b.isFraud];
}

const DAY = 86_400_000;
const MERCHANTS = 800;
/** Relative activity by hour of day (UTC treated as local time): quiet nights, busy afternoons. */
const HOUR_WEIGHTS = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 3.5, 4, 4.2, 4.6, 5, 4.8, 4.6, 4.6, 4.8, 5.2, 5.4, 5, 4.2, 3.2, 2.2, 1.5];

/** The end (exclusive) of `months` calendar months after `start`. */
export function endOf(start: number, months: number): number {
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate());
}

/** Expected number of rows (for progress bars). */
export function expectedRows(o: TransactionGenOptions): number {
  const days = Math.round((endOf(o.start, o.months) - o.start) / DAY);
  return Math.round((days * o.cards * TX_PER_CARD_DAY) / (1 - o.fraudRate));
}

interface Card {
  readonly ccNum: string;
  readonly rate: number;
  readonly mu: number;
  readonly sigma: number;
  readonly merchants: Int32Array;
}

function makeCards(o: TransactionGenOptions, rng: Prng): Card[] {
  const seen = new Set<string>();
  const cards: Card[] = [];
  while (cards.length < o.cards) {
    let num = String(3 + rng.int(4)); // 3..6 like real issuers
    while (num.length < 16) num += String(rng.int(10));
    if (seen.has(num)) continue;
    seen.add(num);
    const fav = new Int32Array(8);
    for (let i = 0; i < fav.length; i++) fav[i] = rng.int(MERCHANTS);
    cards.push({
      ccNum: num,
      rate: TX_PER_CARD_DAY * Math.exp(0.6 * rng.normal() - 0.18),
      mu: Math.log(25 + rng.next() * 90),
      sigma: 0.5 + rng.next() * 0.5,
      merchants: fav,
    });
  }
  return cards;
}

function hourCdf(): Float64Array {
  const total = HOUR_WEIGHTS.reduce((a, b) => a + b, 0);
  const cdf = new Float64Array(24);
  let acc = 0;
  for (let h = 0; h < 24; h++) {
    acc += HOUR_WEIGHTS[h]! / total;
    cdf[h] = acc;
  }
  return cdf;
}

function timeOfDay(rng: Prng, cdf: Float64Array): number {
  const u = rng.next();
  let h = 0;
  while (h < 23 && u > cdf[h]!) h++;
  return h * 3_600_000 + rng.int(3_600_000);
}

/**
 * Generates the dataset day by day; `onDay` receives each day's batch (sorted by time) and may be
 * async (back-pressure for writers).
 */
export async function generateTransactions(
  o: TransactionGenOptions,
  onDay: (batch: TransactionBatch) => void | Promise<void>,
): Promise<{ rows: number; fraud: number }> {
  const rng = new Prng(o.seed);
  const cards = makeCards(o, rng);
  const cdf = hourCdf();
  const merchantNames = Array.from({ length: MERCHANTS }, (_, i) => `merchant_${String(i).padStart(4, '0')}`);
  const merchantCategory = Array.from({ length: MERCHANTS }, () => CATEGORIES[rng.int(CATEGORIES.length)]!);
  const fraudCategories = ['shopping_net', 'misc_net', 'grocery_pos', 'shopping_pos'];
  const end = endOf(o.start, o.months);
  const nCards = cards.length;
  let tid = 0;
  let fraudTotal = 0;
  const meanDaily = cards.reduce((a, c) => a + c.rate, 0);
  const avgBurst = 10;

  for (let day = o.start; day < end; day += DAY) {
    const weekday = new Date(day).getUTCDay();
    const dayFactor = weekday === 0 || weekday === 6 ? 1.1 : 0.96;
    // genuine transactions: key = (offset * cards + card) * 2 + fraud
    const counts = new Int32Array(nCards);
    let n = 0;
    for (let c = 0; c < nCards; c++) {
      const k = rng.poisson(cards[c]!.rate * dayFactor);
      counts[c] = k;
      n += k;
    }
    // fraud bursts
    const expectedFraud = (meanDaily * dayFactor * o.fraudRate) / (1 - o.fraudRate);
    const bursts = rng.poisson(expectedFraud / avgBurst);
    const burstKeys: number[] = [];
    for (let b = 0; b < bursts; b++) {
      const c = rng.int(nCards);
      let t = rng.int(DAY - 3_600_000);
      const len = 6 + rng.int(9);
      for (let i = 0; i < len; i++) {
        burstKeys.push((t * nCards + c) * 2 + 1);
        t += 5_000 + rng.int(85_000);
      }
    }
    const keys = new Float64Array(n + burstKeys.length);
    let j = 0;
    for (let c = 0; c < nCards; c++) {
      for (let i = counts[c]!; i > 0; i--) keys[j++] = (timeOfDay(rng, cdf) * nCards + c) * 2;
    }
    for (const k of burstKeys) keys[j++] = k;
    keys.sort();

    const rows = keys.length;
    const batch: TransactionBatch = {
      rows,
      tid: new Float64Array(rows),
      ccNum: new Array<string>(rows),
      transTime: new Float64Array(rows),
      amount: new Float64Array(rows),
      merchant: new Array<string>(rows),
      category: new Array<string>(rows),
      isFraud: new Int32Array(rows),
    };
    for (let r = 0; r < rows; r++) {
      const key = keys[r]!;
      const fraud = key % 2;
      const rest = (key - fraud) / 2;
      const c = rest % nCards;
      const t = (rest - c) / nCards;
      const card = cards[c]!;
      batch.tid[r] = ++tid;
      batch.ccNum[r] = card.ccNum;
      batch.transTime[r] = day + t;
      let m: number;
      let amt: number;
      if (fraud) {
        m = rng.int(MERCHANTS);
        amt = rng.next() < 0.3 ? 1 + rng.next() * 4 : 150 + rng.next() * 1350;
        batch.category[r] = fraudCategories[rng.int(fraudCategories.length)]!;
        batch.isFraud[r] = 1;
        fraudTotal++;
      } else {
        m = rng.next() < 0.7 ? card.merchants[rng.int(card.merchants.length)]! : rng.int(MERCHANTS);
        amt = Math.exp(card.mu + card.sigma * rng.normal());
        batch.category[r] = merchantCategory[m]!;
      }
      batch.amount[r] = Math.max(1, Math.round(amt * 100) / 100);
      batch.merchant[r] = merchantNames[m]!;
    }
    await onDay(batch);
  }
  return { rows: tid, fraud: fraudTotal };
}
