import { describe, expect, it } from "vitest";
import { formatRemainingUsd, formatUsd, PicoTotal, remainingUsd, sumBelow, usdToMicro } from "./money.js";

describe("PicoTotal", () => {
  it("stays exact past 2^53 pico-USD, so reservations and releases cancel", () => {
    const total = new PicoTotal();
    const big = 8_000_000_000_000_123; // ≈ $8,000, one expensive request
    for (let i = 0; i < 5; i++) total.add(big); // $40,000: beyond exact doubles in pico-USD
    total.add(1);
    expect(total.micro).toBe(40_000_000_000);
    expect(total.pico).toBe(616);
    for (let i = 0; i < 5; i++) total.subtract(big);
    total.subtract(1);
    expect(total.isZero()).toBe(true);
  });

  it("borrows across the micro-USD boundary", () => {
    const total = new PicoTotal();
    total.add(1_500_000);
    total.subtract(700_000);
    expect([total.micro, total.pico]).toEqual([0, 800_000]);
    total.subtract(800_001);
    expect([total.micro, total.pico]).toEqual([-1, 999_999]);
  });
});

describe("budget comparisons", () => {
  const of = (pico: number): PicoTotal => {
    const total = new PicoTotal();
    total.add(pico);
    return total;
  };

  it("is below the budget until the last pico-USD", () => {
    const budget = usdToMicro(200);
    expect(sumBelow(of(150e12), of(50e12 - 1), budget)).toBe(true);
    expect(sumBelow(of(150e12), of(50e12), budget)).toBe(false);
    expect(sumBelow(of(0), of(0), usdToMicro(0))).toBe(false);
  });

  it("reports what remains, never negative", () => {
    expect(remainingUsd(of(150e12), of(25e12), usdToMicro(200))).toBe(25);
    expect(remainingUsd(of(250e12), of(0), usdToMicro(200))).toBe(0);
  });
});

describe("formatting", () => {
  it("writes dollars with cents and thousands separators", () => {
    expect(formatUsd(200)).toBe("$200.00");
    expect(formatUsd(200.134)).toBe("$200.13");
    expect(formatUsd(12_345.5)).toBe("$12,345.50");
    // Small budgets keep their digits: a $0.002 budget is not "reached ($0.00 spent)".
    expect(formatUsd(0.002)).toBe("$0.002");
    expect(formatUsd(0.0015)).toBe("$0.0015");
    expect(formatUsd(0.5)).toBe("$0.50");
    expect(formatUsd(0.123456)).toBe("$0.123");
    expect(formatUsd(0)).toBe("$0.00");
  });

  it("rounds a remaining amount down to the cent", () => {
    expect(formatRemainingUsd(0.29)).toBe("0.29");
    expect(formatRemainingUsd(12.349)).toBe("12.34");
    expect(formatRemainingUsd(0)).toBe("0.00");
  });
});

describe("PicoTotal.addTotal", () => {
  it("takes a ledger sum past 2^53 exactly as a bigint", () => {
    const total = new PicoTotal();
    total.addTotal(40_000_000_000_000_000_616n);
    expect([total.micro, total.pico]).toEqual([40_000_000_000_000, 616]);
    total.addTotal(999_999);
    expect([total.micro, total.pico]).toEqual([40_000_000_000_001, 615]);
  });
});
