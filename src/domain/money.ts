/**
 * Money as exact integer FEN (1/100 yuan), never a float: amounts are parsed
 * from their digits and printed from integers. The database keeps yuan as
 * `DECIMAL(18,2)`; the API shows yuan as decimal strings with 2 decimals.
 */

/**
 * Integer FEN (number or bigint, may be negative) -> yuan decimal string with
 * exactly 2 decimals: 123450 -> "1234.50". Exact for every safe integer.
 */
export function formatFen(fen: number | bigint): string {
  const v = typeof fen === 'bigint' ? fen : BigInt(fen);
  const sign = v < 0n ? '-' : '';
  const abs = v < 0n ? -v : v;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/**
 * A yuan decimal string as MySQL returns a `DECIMAL(18,2)` (`"1234.50"`,
 * `"-0.10"`, `"7"`) -> bigint FEN. Exact.
 * @throws {RangeError} for anything else.
 */
export function decimalToFen(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new RangeError(`not a decimal with at most 2 decimals: ${JSON.stringify(text)}`);
  const v = BigInt(m[2]) * 100n + BigInt((m.at(3) ?? '').padEnd(2, '0'));
  return m[1] ? -v : v;
}
