// Dollars as people read them, the same in the broker's messages, the CLI and the extension.
// Whole amounts to the cent; amounts below $1 keep three significant digits, so a $0.002 budget is
// "$0.002" rather than "$0.00" (and "reached ($0.00 spent)" never happens).

/** 1234.5 → "$1,234.50"; 0.5 → "$0.50"; 0.002 → "$0.002"; 0.000384 → "$0.000384". */
export function formatUsd(usd: number): string {
  const sign = usd < 0 ? "-" : "";
  const abs = Math.abs(usd);
  if (abs === 0 || abs >= 0.995) {
    const cents = Math.round(abs * 100);
    return `${sign}$${Math.floor(cents / 100).toLocaleString("en-US")}.${String(cents % 100).padStart(2, "0")}`;
  }
  const decimals = Math.min(9, Math.max(2, 2 - Math.floor(Math.log10(abs))));
  let text = abs.toFixed(decimals);
  // Trailing zeros past the cents say nothing: "0.00200" → "0.002".
  while (text.endsWith("0") && text.length - text.indexOf(".") - 1 > 2) text = text.slice(0, -1);
  return `${sign}$${text}`;
}
