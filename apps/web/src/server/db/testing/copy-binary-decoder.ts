// Reads back what CopyBinaryEncoder (../sample-copy.ts) wrote, field by field,
// the way Postgres' COPY FROM parses the binary format: tests check the bytes
// without a database.

export type DecodedField = Buffer | null;

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

/** Rows of fields (raw bytes, or null); throws where Postgres would refuse the data. */
export function decodeCopyBinary(data: Buffer): DecodedField[][] {
  if (!data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error("no COPY binary signature");
  let offset = SIGNATURE.length;
  const flags = data.readInt32BE(offset);
  const extension = data.readInt32BE(offset + 4);
  if (flags !== 0) throw new Error(`unexpected flags ${flags}`);
  offset += 8 + extension;
  const rows: DecodedField[][] = [];
  for (;;) {
    const fields = data.readInt16BE(offset);
    offset += 2;
    if (fields === -1) break;
    const row: DecodedField[] = [];
    for (let i = 0; i < fields; i++) {
      const length = data.readInt32BE(offset);
      offset += 4;
      if (length === -1) row.push(null);
      else {
        row.push(data.subarray(offset, offset + length));
        offset += length;
      }
    }
    rows.push(row);
  }
  if (offset !== data.length) throw new Error(`${data.length - offset} bytes after the trailer`);
  return rows;
}

/** A timestamptz field as epoch milliseconds. */
export function timestamptzMs(field: DecodedField): number {
  if (field === null) throw new Error("null timestamp");
  return Number(field.readBigInt64BE(0) / 1000n) + Date.UTC(2000, 0, 1);
}
