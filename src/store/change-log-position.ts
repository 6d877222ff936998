/**
 * A position in the change log of one stream (consumer group) and partition:
 * the batch that committed the change and the change's place in that batch.
 * Positions of one partition sort in commit order:
 * - `epoch`: the partition owner's epoch in `consumer_offset`; every claim by a
 *   worker and every operator reset or rebuild bumps it, so a rewound job still
 *   writes positions after every earlier one;
 * - `batchOffset`: the partition's next offset committed with the batch;
 * - `batchWatermarkMs`: the watermark committed with the batch, epoch
 *   milliseconds (0 when none): an idle tick closes windows without moving the
 *   offset, but always moves the watermark;
 * - `seq`: the change's index in the batch, from 0.
 * Within one epoch a partition commits one batch at a time (its row is locked),
 * each batch with changes at a greater (offset, watermark) than the last.
 */
export interface LogPosition {
  epoch: number;
  batchOffset: bigint;
  batchWatermarkMs: number;
  seq: number;
}

/** Length of an encoded position: 8 + 16 + 16 + 8 lower-case hex digits. */
export const POS_LENGTH = 48;

const POS_PATTERN = /^[0-9a-f]{48}$/;
const MAX_U32 = 0xffff_ffff;
const MAX_I64 = (1n << 63n) - 1n;

const hex = (n: bigint, width: number) => n.toString(16).padStart(width, '0');

/**
 * The batch part of a position without the epoch (40 hex digits): the epoch is
 * prepended inside the batch transaction from the locked `consumer_offset` row.
 * @throws {RangeError} for a negative or too large component.
 */
export function encodeBatchSuffix(batchOffset: bigint, batchWatermarkMs: number, seq: number): string {
  if (batchOffset < 0n || batchOffset > MAX_I64)
    throw new RangeError(`batch offset must be in [0, 2^63), got ${batchOffset}`);
  if (!Number.isSafeInteger(batchWatermarkMs) || batchWatermarkMs < 0)
    throw new RangeError(
      `batch watermark must be a non-negative whole number of milliseconds, got ${batchWatermarkMs}`,
    );
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_U32)
    throw new RangeError(`sequence must be in [0, 2^32), got ${seq}`);
  return hex(batchOffset, 16) + hex(BigInt(batchWatermarkMs), 16) + hex(BigInt(seq), 8);
}

/**
 * The fixed-width hex form of a position: strings compare (byte for byte) in
 * the order of the positions, so the database range-scans `pos > ?`.
 * @throws {RangeError} for a component out of range.
 */
export function encodePos(p: LogPosition): string {
  if (!Number.isInteger(p.epoch) || p.epoch < 0 || p.epoch > MAX_U32)
    throw new RangeError(`epoch must be in [0, 2^32), got ${p.epoch}`);
  return hex(BigInt(p.epoch), 8) + encodeBatchSuffix(p.batchOffset, p.batchWatermarkMs, p.seq);
}

/** Whether `s` is an encoded position. */
export function isPos(s: string): boolean {
  return POS_PATTERN.test(s);
}

/**
 * The components of an encoded position.
 * @throws {RangeError} when `s` is not one.
 */
export function decodePos(s: string): LogPosition {
  if (!isPos(s))
    throw new RangeError(`a change-log position is ${POS_LENGTH} lower-case hex digits, got ${JSON.stringify(s)}`);
  return {
    epoch: Number.parseInt(s.slice(0, 8), 16),
    batchOffset: BigInt(`0x${s.slice(8, 24)}`),
    batchWatermarkMs: Number(BigInt(`0x${s.slice(24, 40)}`)),
    seq: Number.parseInt(s.slice(40, 48), 16),
  };
}
