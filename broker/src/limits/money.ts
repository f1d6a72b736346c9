/*
 * Spend is summed exactly. One request's cost is an integer pico-USD below 2^53 (about $9,007), but
 * a team's month can pass that, where doubles stop being integers and reserve/release pairs would
 * no longer cancel. So a total is kept as whole micro-USD plus a pico-USD remainder below 1e6:
 * both parts stay exact integers up to 2^53 micro-USD (about $9 billion).
 */

const PICO_PER_MICRO = 1_000_000;
const MICRO_PER_USD = 1_000_000;

export class PicoTotal {
  /** Whole micro-USD. */
  micro = 0;
  /** Pico-USD in [0, 1e6). */
  pico = 0;

  add(picoUsd: number): void {
    this.normalise(this.pico + picoUsd);
  }

  /**
   * Adds a total that may exceed 2^53 pico-USD (a ledger sum): exact as a bigint; a number that
   * large has already lost its last digits and is taken as it is.
   */
  addTotal(picoUsd: number | bigint): void {
    if (typeof picoUsd === "bigint") {
      const micro = picoUsd / BigInt(PICO_PER_MICRO);
      this.micro += Number(micro);
      this.add(Number(picoUsd - micro * BigInt(PICO_PER_MICRO)));
    } else if (Number.isSafeInteger(picoUsd)) {
      this.add(picoUsd);
    } else {
      this.micro += Math.round(picoUsd / PICO_PER_MICRO);
    }
  }

  subtract(picoUsd: number): void {
    this.normalise(this.pico - picoUsd);
  }

  reset(): void {
    this.micro = 0;
    this.pico = 0;
  }

  isZero(): boolean {
    return this.micro === 0 && this.pico === 0;
  }

  usd(): number {
    return (this.micro + this.pico / PICO_PER_MICRO) / MICRO_PER_USD;
  }

  private normalise(pico: number): void {
    // |pico| < 2^53: every step below is exact integer arithmetic.
    const carry = Math.floor(pico / PICO_PER_MICRO);
    this.micro += carry;
    this.pico = pico - carry * PICO_PER_MICRO;
  }
}

/** A budget in USD as whole micro-USD (budgets are written in dollars and cents). */
export function usdToMicro(usd: number): number {
  return Math.round(usd * MICRO_PER_USD);
}

/** True while `a + b` is below `limitMicro` micro-USD: exact, whatever the magnitudes. */
export function sumBelow(a: PicoTotal, b: PicoTotal, limitMicro: number): boolean {
  const micro = a.micro + b.micro + Math.floor((a.pico + b.pico) / PICO_PER_MICRO);
  // The remainder is ≥ 0, so the sum is below limit×1e6 pico exactly when its whole micro-USD are.
  return micro < limitMicro;
}

/** `limitMicro − a − b` in USD, never negative. */
export function remainingUsd(a: PicoTotal, b: PicoTotal, limitMicro: number): number {
  const micro = limitMicro - a.micro - b.micro - (a.pico + b.pico) / PICO_PER_MICRO;
  return micro > 0 ? micro / MICRO_PER_USD : 0;
}

/** `$1,234.50`; below $1, three significant digits (`$0.002`): shared with the CLI and the extension. */
export { formatUsd } from "@tollgate/shared";

/** Rounded down to the cent, so a remaining amount is never overstated: `12.34`. */
export function formatRemainingUsd(usd: number): string {
  // The epsilon absorbs binary noise such as 0.29 × 100 = 28.999999999999996.
  const cents = Math.max(0, Math.floor(usd * 100 + 1e-6));
  const part = cents % 100;
  return `${(cents - part) / 100}.${part < 10 ? "0" : ""}${part}`;
}
