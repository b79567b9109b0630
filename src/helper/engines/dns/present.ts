/**
 * Record data in presentation form (RFC 1035 §5, as dig prints it) for the table. Types without a
 * specific format here use RFC 3597's generic `\# length hex`, which is exact for any type.
 */
import { formatAddress } from "../../../shared/ip-prefix.js";
import { typeName } from "./names.js";
import { readName, RecordType, WireFormatError, type WireRecord } from "./wire.js";

export function presentRecordData(message: Buffer, record: WireRecord): string {
  try {
    return presentKnown(message, record) ?? presentGeneric(message, record);
  } catch (error) {
    if (error instanceof WireFormatError || error instanceof RangeError)
      return presentGeneric(message, record);
    throw error;
  }
}

/** One answer for the table: the data alone for the asked type, "TYPE data" for any other. */
export function presentAnswer(message: Buffer, record: WireRecord, questionType: number): string {
  const data = presentRecordData(message, record);
  return record.type === questionType ? data : `${typeName(record.type)} ${data}`;
}

function presentKnown(message: Buffer, record: WireRecord): string | undefined {
  const { rdataOffset: at, rdlength } = record;
  const data = message.subarray(at, at + rdlength);
  switch (record.type) {
    case RecordType.A:
      return rdlength === 4 ? formatAddress(data) : undefined;
    case RecordType.AAAA:
      return rdlength === 16 ? formatAddress(data) : undefined;
    case RecordType.NS:
    case RecordType.CNAME:
    case RecordType.PTR:
    case RecordType.DNAME:
      return readName(message, at);
    case RecordType.MX:
      return `${message.readUInt16BE(at)} ${readName(message, at + 2)}`;
    case RecordType.SRV:
      return [
        message.readUInt16BE(at),
        message.readUInt16BE(at + 2),
        message.readUInt16BE(at + 4),
        readName(message, at + 6),
      ].join(" ");
    case RecordType.TXT:
      return presentStrings(data);
    case RecordType.CAA:
      return presentCaa(data);
    case RecordType.SOA:
      return presentSoa(message, record);
    case RecordType.HINFO:
      return presentStrings(data);
    case RecordType.NAPTR:
      return presentNaptr(message, record);
    case RecordType.SSHFP:
      return rdlength > 2 ? `${data[0]} ${data[1]} ${hex(data.subarray(2))}` : undefined;
    case RecordType.TLSA:
      return rdlength > 3 ? `${data[0]} ${data[1]} ${data[2]} ${hex(data.subarray(3))}` : undefined;
    case RecordType.SVCB:
    case RecordType.HTTPS:
      return presentSvcb(message, record);
    default:
      return undefined;
  }
}

function hex(bytes: Buffer): string {
  return bytes.toString("hex").toUpperCase();
}

/** order preference "flags" "services" "regexp" replacement (RFC 3403). */
function presentNaptr(message: Buffer, record: WireRecord): string {
  const start = record.rdataOffset;
  const end = start + record.rdlength;
  const numbers = `${message.readUInt16BE(start)} ${message.readUInt16BE(start + 2)}`;
  const strings: string[] = [];
  let at = start + 4;
  for (let i = 0; i < 3; i++) {
    const length = message[at];
    if (length === undefined || at + 1 + length > end)
      throw new WireFormatError("NAPTR string runs past its record");
    strings.push(quote(message.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  return `${numbers} ${strings.join(" ")} ${readName(message, at)}`;
}

const SVC_KEYS = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech", "ipv6hint"];

/** priority target key=value... (RFC 9460 §2.1); keys without a format here as keyNNNNN="bytes". */
function presentSvcb(message: Buffer, record: WireRecord): string {
  const start = record.rdataOffset;
  const end = start + record.rdlength;
  const parts = [String(message.readUInt16BE(start)), readName(message, start + 2)];
  let at = skipNameAt(message, start + 2);
  while (at < end) {
    if (at + 4 > end) throw new WireFormatError("SvcParam runs past its record");
    const key = message.readUInt16BE(at);
    const length = message.readUInt16BE(at + 2);
    const value = message.subarray(at + 4, at + 4 + length);
    if (at + 4 + length > end) throw new WireFormatError("SvcParam value runs past its record");
    parts.push(presentSvcParam(key, value));
    at += 4 + length;
  }
  return parts.join(" ");
}

function presentSvcParam(key: number, value: Buffer): string {
  const name = SVC_KEYS[key] ?? `key${key}`;
  switch (key) {
    case 0:
      return `${name}=${chunks(value, 2).map((k) => SVC_KEYS[k.readUInt16BE(0)] ?? `key${k.readUInt16BE(0)}`)}`;
    case 1:
      return `${name}=${quote(Buffer.concat(joinWith(characterStrings(value), Buffer.from(","))))}`;
    case 2:
      return name;
    case 3:
      return value.length === 2 ? `${name}=${value.readUInt16BE(0)}` : `${name}=${quote(value)}`;
    case 4:
      return `${name}=${chunks(value, 4).map((bytes) => formatAddress(bytes))}`;
    case 5:
      return `${name}=${value.toString("base64")}`;
    case 6:
      return `${name}=${chunks(value, 16).map((bytes) => formatAddress(bytes))}`;
    default:
      return `${name}=${quote(value)}`;
  }
}

function joinWith(parts: Buffer[], separator: Buffer): Buffer[] {
  return parts.flatMap((part, index) => (index === 0 ? [part] : [separator, part]));
}

function chunks(value: Buffer, size: number): Buffer[] {
  if (value.length === 0 || value.length % size !== 0)
    throw new WireFormatError("SvcParam value has a bad length");
  return Array.from({ length: value.length / size }, (_, index) =>
    value.subarray(index * size, (index + 1) * size),
  );
}

function presentSoa(message: Buffer, record: WireRecord): string {
  const end = record.rdataOffset + record.rdlength;
  const numbers = end - 20;
  if (numbers < record.rdataOffset) throw new WireFormatError("SOA data too short");
  const mname = readName(message, record.rdataOffset);
  const rname = readName(message, skipNameAt(message, record.rdataOffset));
  const values = [0, 4, 8, 12, 16].map((offset) => message.readUInt32BE(numbers + offset));
  return [mname, rname, ...values].join(" ");
}

function skipNameAt(message: Buffer, offset: number): number {
  let at = offset;
  for (;;) {
    const length = message[at];
    if (length === undefined) throw new WireFormatError("SOA name runs past the message");
    if (length === 0) return at + 1;
    if ((length & 0xc0) === 0xc0) return at + 2;
    at += 1 + length;
  }
}

/** TXT's character-strings, each quoted with `"` and `\` escaped and other bytes as \DDD. */
function presentStrings(data: Buffer): string {
  return characterStrings(data).map(quote).join(" ");
}

function characterStrings(data: Buffer): Buffer[] {
  const strings: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const length = data[at] ?? 0;
    if (at + 1 + length > data.length) throw new WireFormatError("character-string runs past its record");
    strings.push(data.subarray(at + 1, at + 1 + length));
    at += 1 + length;
  }
  return strings;
}

function quote(bytes: Buffer): string {
  let text = '"';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) text += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) text += String.fromCharCode(byte);
    else text += `\\${byte.toString().padStart(3, "0")}`;
  }
  return `${text}"`;
}

function presentCaa(data: Buffer): string {
  const tagLength = data[1];
  if (data.length < 2 || tagLength === undefined || 2 + tagLength > data.length) {
    throw new WireFormatError("CAA tag runs past its record");
  }
  const tag = data.subarray(2, 2 + tagLength).toString("latin1");
  return `${data[0] ?? 0} ${tag} ${quote(data.subarray(2 + tagLength))}`;
}

function presentGeneric(message: Buffer, record: WireRecord): string {
  const data = message.subarray(record.rdataOffset, record.rdataOffset + record.rdlength);
  return data.length === 0 ? "\\# 0" : `\\# ${data.length} ${data.toString("hex").toUpperCase()}`;
}
