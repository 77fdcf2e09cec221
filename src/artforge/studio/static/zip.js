// A zip file made in the browser from files already fetched: entries stored as they are (PNGs are
// compressed already), names in UTF-8, each with its CRC-32, then the central directory (PKWARE APPNOTE
// 4.3: local header + data per file, a directory entry per file, the end record).

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes) {
  let c = 0xFFFFFFFF;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xFF] ^ (c >>> 8);
  return (c ^ 0xFFFFFFFF) >>> 0;
}

/** DOS time and date of `d` (2-second resolution), as zip headers keep them. */
function dosTime(d) {
  return [(d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
          ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate()];
}

function header(size, fields) {
  const buf = new DataView(new ArrayBuffer(size));
  let at = 0;
  for (const [bytes, value] of fields) {
    if (bytes === 4) buf.setUint32(at, value, true); else buf.setUint16(at, value, true);
    at += bytes;
  }
  return new Uint8Array(buf.buffer);
}

/** A Blob of a zip holding `files`: [{name, bytes (Uint8Array)}]. */
export function zipBlob(files, when = new Date()) {
  const [time, date] = dosTime(when);
  const parts = [], directory = [];
  let offset = 0;
  for (const f of files) {
    const name = new TextEncoder().encode(f.name);
    const crc = crc32(f.bytes), size = f.bytes.length;
    // version 20, flag 0x0800 (UTF-8 names), method 0 (stored)
    const common = [[2, 20], [2, 0x0800], [2, 0], [2, time], [2, date], [4, crc], [4, size], [4, size], [2, name.length], [2, 0]];
    const local = header(30, [[4, 0x04034B50], ...common]);
    parts.push(local, name, f.bytes);
    directory.push(header(46, [[4, 0x02014B50], [2, 20], ...common, [2, 0], [2, 0], [2, 0], [4, 0], [4, offset]]), name);
    offset += local.length + name.length + size;
  }
  const dirSize = directory.reduce((n, p) => n + p.length, 0);
  const end = header(22, [[4, 0x06054B50], [2, 0], [2, 0], [2, files.length], [2, files.length], [4, dirSize], [4, offset], [2, 0]]);
  return new Blob([...parts, ...directory, end], { type: "application/zip" });
}
